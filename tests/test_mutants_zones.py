"""Zones as staff sweep them: what a mutation tester changed in server/commands/zones.py and
no test noticed (issue 28). The app in this process."""

from __future__ import annotations

SITE = "/api/sites/demo"


def test_a_zone_being_swept_can_be_reported_blocked_without_a_note(api_as):
    anna = api_as("staff", name="Anna")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    assert anna.post(f"{SITE}/zones/grocery/claim").get_json()["sweep"] == "claimed"

    blocked = anna.post(f"{SITE}/zones/grocery/block").get_json()

    assert (blocked["changed"], blocked["sweep"]) == (True, "blocked")


def test_a_blocked_zone_can_be_claimed_by_someone_else_to_sweep_it(api_as):
    anna, ben = api_as("staff", name="Anna"), api_as("staff", name="Ben")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"})

    claimed = ben.post(f"{SITE}/zones/stockroom/claim")

    assert claimed.status_code == 200 and claimed.get_json()["sweep"] == "claimed"


def test_a_new_note_on_a_blocked_zone_is_logged_and_the_same_one_is_not(api_as):
    anna = api_as("staff", name="Anna")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"})

    again = anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"}).get_json()
    new = anna.post(f"{SITE}/zones/stockroom/block", {"note": "Smoke behind the door"}).get_json()

    assert (again["changed"], new["changed"]) == (False, True)
