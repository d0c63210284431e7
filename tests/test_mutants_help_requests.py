"""Help requests as a person asks for help getting out: what a mutation tester changed in
server/commands/help_requests.py and no test noticed (issue 28). The app in this process; the
socket's way in on the real server."""

from __future__ import annotations

import pytest

SITE = "/api/sites/demo"


def state_of(api) -> dict:
    return api.get(f"{SITE}/state").get_json()


def test_a_help_request_without_a_place_is_refused_and_logs_nothing(api_as, event_count):
    staff = api_as("staff")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    logged = event_count()

    answer = staff.post(f"{SITE}/help-requests", {"note": "In a wheelchair"})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'location' is required."
    assert event_count() == logged


@pytest.mark.parametrize(("field", "longest"), [("location", 200), ("note", 500)])
def test_a_help_request_text_one_character_too_long_is_refused_and_logs_nothing(
    api_as, event_count, field, longest
):
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    body = {"location": "Lift"}
    accepted = api_as("staff").post(f"{SITE}/help-requests", {**body, field: "x" * longest})
    assert accepted.status_code == 201
    assert accepted.get_json()["help_request"][field] == "x" * longest
    staff = api_as("staff")
    logged = event_count()

    refused = staff.post(f"{SITE}/help-requests", {**body, field: "x" * (longest + 1)})

    assert refused.status_code == 400
    assert refused.get_json()["detail"] == f"'{field}' is longer than {longest} characters."
    assert event_count() == logged
    assert [h[field] for h in state_of(staff)["help_requests"]] == ["x" * longest]


# --- the socket's way in ----------------------------------------------------------------------


def test_a_phone_asks_for_help_and_a_guard_resolves_it_over_their_sockets(live_server, connect):
    manager = connect(live_server.url, live_server.token("duty_manager", "Maria"))
    anna = connect(live_server.url, live_server.token("staff", "Anna"))
    guard = connect(live_server.url, live_server.token("guard", "Gus"))
    assert manager.act("start_incident", {"kind": "fire"})["ok"] is True

    asked = anna.act("request_help", {"location": "Lift", "note": "In a wheelchair"})
    assert asked["ok"] is True, asked
    help_request = asked["result"]["help_request"]
    assert (help_request["location"], help_request["note"]) == ("Lift", "In a wheelchair")
    resolved = guard.act("resolve_help", {"help_id": help_request["id"]})

    assert resolved["ok"] is True, resolved
    assert resolved["result"]["changed"] is True
    assert resolved["result"]["help_request"]["resolved_at"]


def test_resolving_help_over_the_socket_without_its_id_is_refused_naming_it(live_server, connect):
    """Over HTTP the id is in the URL; an action message carries it in its params."""
    manager = connect(live_server.url, live_server.token("duty_manager", "Maria"))
    anna = connect(live_server.url, live_server.token("staff", "Anna"))
    guard = connect(live_server.url, live_server.token("guard", "Gus"))
    manager.act("start_incident", {"kind": "fire"})
    anna.act("request_help", {"location": "Lift"})

    answer = guard.act("resolve_help", {})

    assert answer["ok"] is False
    problem = answer["error"]
    assert (problem["status"], problem["detail"]) == (400, "'help_id' is required.")
