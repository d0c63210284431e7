"""What the console asks a person, the API tells a script: the all-clear names what was still
open, the roll call tells people with no phone from those who did not answer, and the person
who asked for backup learns who is coming."""

from __future__ import annotations

import pytest

SITE = "/api/sites/demo"


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


def state_of(api) -> dict:
    return api.get(f"{SITE}/state").get_json()


def test_all_clear_names_the_zones_not_swept_and_the_help_still_open(api_as, manager):
    anna = api_as("staff", name="Anna")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/entrance/clear")
    anna.post(f"{SITE}/zones/grocery/claim")
    help_id = anna.post(f"{SITE}/help-requests", {"location": "Grocery"}).get_json()[
        "help_request"
    ]["id"]

    answer = manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    assert answer.status_code == 200
    ended = answer.get_json()
    assert ended["end_reason"] == "resolved"  # the fields every client reads are still there
    assert [(z["zone"], z["sweep"]) for z in ended["unchecked_zones"]] == [
        ("grocery", "claimed"),
        ("clothing", "unchecked"),
        ("stockroom", "unchecked"),
    ]
    assert ended["open_help_requests"] == [
        {"help_id": help_id, "location": "Grocery", "staff_id": anna_id(anna)}
    ]
    events = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    [logged] = [e for e in events if e["type"] == "incident.ended"]
    assert logged["payload"]["unchecked_zones"] == ended["unchecked_zones"]
    assert logged["payload"]["open_help_requests"] == ended["open_help_requests"]


def anna_id(anna) -> int:
    return anna.get("/api/me").get_json()["staff_id"]


def test_all_clear_with_everything_swept_names_nothing(api_as, manager):
    anna = api_as("staff")
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True})
    for zone in ("entrance", "grocery", "clothing", "stockroom"):
        anna.post(f"{SITE}/zones/{zone}/clear")

    ended = manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "drill_over"})

    assert ended.get_json()["unchecked_zones"] == []
    assert ended.get_json()["open_help_requests"] == []


def test_roll_call_counts_the_people_with_no_phone(api_as, manager):
    # The demo's six people have enrollment links but no phone yet; two tokens are two phones.
    anna = api_as("staff")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/incidents/current/acknowledge")

    counts = state_of(manager)["roll_call"]
    assert (counts["people"], counts["enrolled"], counts["no_phone"]) == (8, 2, 6)
    assert counts["delivered"] == 1
    # A staff phone reads the same counts.
    assert state_of(anna)["roll_call"]["no_phone"] == 6


def test_the_one_who_asked_for_backup_learns_who_is_coming(api_as):
    cashier, guard = api_as("staff", name="Cashier"), api_as("guard", name="Gus")
    assert state_of(cashier)["my_backup_request"] is None
    backup_id = cashier.post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()[
        "backup_request"
    ]["id"]
    assert state_of(cashier)["my_backup_request"]["outcome"] is None

    guard.post(f"{SITE}/backup-requests/{backup_id}/answer")

    mine = state_of(cashier)["my_backup_request"]
    assert (mine["id"], mine["outcome"], mine["ended_by_name"]) == (backup_id, "answered", "Gus")
    assert "backup_requests" not in state_of(cashier)  # still nobody else's
