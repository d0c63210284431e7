"""Starting and changing an incident, as a duty manager sees it through the HTTP API: what a
mutation tester changed in server/commands/incidents.py and no test noticed (issue 28)."""

from __future__ import annotations

import pytest

SITE = "/api/sites/demo"
UPDATE = f"{SITE}/incidents/current/update"
ETA = "2099-01-15T10:00:00.000Z"  # as the state gives it back


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


def incident_of(api) -> dict:
    return api.get(f"{SITE}/state").get_json()["incident"]


def test_an_incident_without_a_kind_is_refused_and_starts_nothing(manager, event_count):
    before = event_count()

    answer = manager.post(f"{SITE}/incidents", {"drill": True, "message": "Leave now"})

    assert answer.status_code == 400
    assert "'kind' is required" in answer.get_json()["detail"]
    assert event_count() == before
    assert incident_of(manager) is None


def test_a_new_message_reaches_the_staff_and_keeps_the_reopening_time(manager):
    manager.post(f"{SITE}/incidents", {"kind": "fire", "message": "Leave by the back", "eta": ETA})

    answer = manager.post(UPDATE, {"message": "Use the front door"})

    assert answer.status_code == 200, answer.get_json()
    incident = incident_of(manager)
    assert (incident["message"], incident["eta"]) == ("Use the front door", ETA)


def test_a_new_reopening_time_keeps_the_staff_message(manager):
    manager.post(f"{SITE}/incidents", {"kind": "fire", "message": "Leave by the back"})

    manager.post(UPDATE, {"eta": ETA})

    incident = incident_of(manager)
    assert (incident["message"], incident["eta"]) == ("Leave by the back", ETA)


def test_an_update_that_changes_nothing_is_refused_and_not_logged(manager, event_count):
    manager.post(f"{SITE}/incidents", {"kind": "fire", "message": "Leave by the back"})
    before = event_count()

    answer = manager.post(UPDATE, {})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "Send 'eta', 'clear_eta' or 'message'."
    assert event_count() == before


@pytest.mark.parametrize("path", [f"{SITE}/incidents", UPDATE])
def test_a_reopening_time_in_the_past_is_refused(manager, event_count, path):
    if path == UPDATE:
        manager.post(f"{SITE}/incidents", {"kind": "fire"})
    before = event_count()
    body = {"eta": "2020-01-15T10:00:00Z"} | ({"kind": "fire"} if path != UPDATE else {})

    answer = manager.post(path, body)

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'eta' lies in the past."
    assert event_count() == before


def test_an_all_clear_without_a_reason_is_refused_and_the_incident_goes_on(manager, event_count):
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    before = event_count()

    answer = manager.post(f"{SITE}/incidents/current/all-clear", {"note": "All out"})

    assert answer.status_code == 400
    assert "'reason' is required" in answer.get_json()["detail"]
    assert event_count() == before
    assert incident_of(manager)["ended_at"] is None
