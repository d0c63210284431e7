"""Backup requests as staff under threat ask for backup and responders answer or decline: what
a mutation tester changed in server/commands/backup_requests.py and no test noticed (issue 28).
The app in this process; the socket's way in on the real server."""

from __future__ import annotations

import pytest

SITE = "/api/sites/demo"


def state_of(api) -> dict:
    return api.get(f"{SITE}/state").get_json()


def ask_for_backup(api, location: str = "Till 3") -> int:
    asked = api.post(f"{SITE}/backup-requests", {"location": location})
    assert asked.status_code == 201
    return asked.get_json()["backup_request"]["id"]


# --- asking -----------------------------------------------------------------------------------


def test_backup_asked_for_without_a_place_is_refused_and_logs_nothing(api_as, event_count):
    cashier = api_as("staff")
    logged = event_count()

    answer = cashier.post(f"{SITE}/backup-requests", {"note": "He is shouting"})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'location' is required."
    assert event_count() == logged
    assert state_of(cashier)["my_backup_request"] is None


@pytest.mark.parametrize(("field", "longest"), [("location", 200), ("note", 500)])
def test_a_backup_text_one_character_too_long_is_refused_and_logs_nothing(
    api_as, event_count, field, longest
):
    body = {"location": "Till 3"}
    accepted = api_as("staff").post(f"{SITE}/backup-requests", {**body, field: "x" * longest})
    assert accepted.status_code == 201
    assert accepted.get_json()["backup_request"][field] == "x" * longest
    cashier = api_as("staff")
    logged = event_count()

    refused = cashier.post(f"{SITE}/backup-requests", {**body, field: "x" * (longest + 1)})

    assert refused.status_code == 400
    assert refused.get_json()["detail"] == f"'{field}' is longer than {longest} characters."
    assert event_count() == logged
    assert state_of(cashier)["my_backup_request"] is None


# --- declining --------------------------------------------------------------------------------


def test_a_guard_who_cannot_come_is_named_to_the_one_who_asked(api_as, event_count):
    cashier, guard = api_as("staff", name="Cashier"), api_as("guard", name="Gus")
    backup_id = ask_for_backup(cashier)
    logged = event_count()

    declined = guard.post(f"{SITE}/backup-requests/{backup_id}/decline")

    assert declined.status_code == 200
    assert declined.get_json()["changed"] is True
    assert declined.get_json()["backup_request"]["outcome"] is None  # open for the others
    assert event_count() == logged + 1
    mine = state_of(cashier)["my_backup_request"]
    assert (mine["id"], mine["declined"], mine["outcome"]) == (backup_id, ["Gus"], None)


def test_declining_again_changes_nothing_and_logs_nothing(api_as, event_count):
    cashier, guard = api_as("staff", name="Cashier"), api_as("guard", name="Gus")
    backup_id = ask_for_backup(cashier)
    assert guard.post(f"{SITE}/backup-requests/{backup_id}/decline").get_json()["changed"]
    logged = event_count()

    again = guard.post(f"{SITE}/backup-requests/{backup_id}/decline")

    assert again.status_code == 200
    assert again.get_json()["changed"] is False
    assert event_count() == logged


def test_declining_a_backup_request_already_answered_changes_nothing(api_as, event_count):
    cashier = api_as("staff", name="Cashier")
    guard, manager = api_as("guard", name="Gus"), api_as("duty_manager", name="Maria")
    backup_id = ask_for_backup(cashier)
    guard.post(f"{SITE}/backup-requests/{backup_id}/answer")
    logged = event_count()

    late = manager.post(f"{SITE}/backup-requests/{backup_id}/decline")

    assert late.status_code == 200
    assert late.get_json()["changed"] is False
    assert late.get_json()["backup_request"]["outcome"] == "answered"
    assert event_count() == logged
    mine = state_of(cashier)["my_backup_request"]
    assert (mine["outcome"], mine["ended_by_name"], mine["declined"]) == ("answered", "Gus", [])


def test_declining_a_backup_request_that_does_not_exist_is_a_404_naming_it(api_as, event_count):
    guard = api_as("guard")
    logged = event_count()

    answer = guard.post(f"{SITE}/backup-requests/999/decline")

    assert answer.status_code == 404
    assert answer.get_json()["detail"] == "There is no backup request 999 on this site."
    assert event_count() == logged


# --- the socket's way in ----------------------------------------------------------------------


def test_a_phone_asks_for_answers_and_cancels_backup_over_its_socket(live_server, connect):
    cashier = connect(live_server.url, live_server.token("staff", "Cashier"))
    guard = connect(live_server.url, live_server.token("guard", "Gus"))
    manager = connect(live_server.url, live_server.token("duty_manager", "Maria"))

    asked = cashier.act("request_backup", {"location": "Till 3"})
    assert asked["ok"] is True, asked
    backup_id = asked["result"]["backup_request"]["id"]
    declined = manager.act("decline_backup", {"backup_id": backup_id})
    assert declined["ok"] is True and declined["result"]["changed"] is True, declined
    answered = guard.act("answer_backup", {"backup_id": backup_id})
    assert answered["ok"] is True, answered
    assert answered["result"]["backup_request"]["outcome"] == "answered"

    again = cashier.act("request_backup", {"location": "Till 4"})["result"]["backup_request"]
    cancelled = cashier.act("cancel_backup", {"backup_id": again["id"]})
    assert cancelled["ok"] is True, cancelled
    assert cancelled["result"]["backup_request"]["outcome"] == "cancelled"


def test_a_backup_action_over_the_socket_without_its_id_is_refused_naming_it(live_server, connect):
    """Over HTTP the id is in the URL; an action message carries it in its params."""
    cashier = connect(live_server.url, live_server.token("staff", "Cashier"))
    guard = connect(live_server.url, live_server.token("guard", "Gus"))
    cashier.act("request_backup", {"location": "Till 3"})

    answers = {
        "cancel_backup": cashier.act("cancel_backup", {}),
        "answer_backup": guard.act("answer_backup", {}),
        "decline_backup": guard.act("decline_backup", {}),
    }

    for name, answer in answers.items():
        assert answer["ok"] is False, name
        problem = answer["error"]
        assert (problem["status"], problem["detail"]) == (400, "'backup_id' is required."), name
