"""How a command checks its body, through the routes that use each kind of field: what a
mutation tester changed in server/commands/fields.py and no test noticed (issue 28). The app
in this process; the fields' clock set by the test where a moment matters."""

from __future__ import annotations

import pytest
from test_alarm_panel import FIRE, deliver, site_now

import server.commands.fields as fields_module
from server.basics.clock import iso
from server.basics.clock import now_ms as server_clock
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"
START = f"{SITE}/incidents"
INSIDE = f"{START}/current/reported-inside"
ONE_PERSON = "Give exactly one of 'staff_id' or 'visitor_id'."


def refused(answer, field: str, detail: str) -> None:
    assert answer.status_code == 400, answer.get_data(as_text=True)
    problem = answer.get_json()
    assert (problem["field"], problem["detail"]) == (field, detail)


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


@pytest.fixture
def guard(api_as):
    return api_as("guard", name="Ville Vartija")


@pytest.fixture
def fire(manager):
    assert manager.post(START, {"kind": "fire"}).status_code == 201


@pytest.fixture
def clock(monkeypatch) -> dict:
    """The fields' clock, on a whole second (an ISO time then reads back to the millisecond)."""
    moment = {"now": (server_clock() // 1000 + 1) * 1000}
    monkeypatch.setattr(fields_module, "now_ms", lambda: moment["now"])
    return moment


def test_unknown_fields_are_refused_naming_the_first_in_alphabetical_order(manager, event_count):
    logged = event_count()

    answer = manager.post(START, {"kind": "fire", "zone": "Grocery", "alarm": "panel"})

    refused(answer, "alarm", "Unknown field: alarm, zone.")
    assert event_count() == logged
    assert manager.get(f"{SITE}/state").get_json()["incident"] is None


@pytest.mark.parametrize(
    "person", [{}, {"staff_id": 1, "visitor_id": 1}], ids=["nobody", "staff and visitor"]
)
def test_a_marshal_who_names_nobody_or_two_people_is_refused(guard, fire, event_count, person):
    logged = event_count()

    answer = guard.post(INSIDE, {"location": "Stockroom", **person})

    refused(answer, "staff_id", ONE_PERSON)
    assert event_count() == logged


def test_a_marshal_who_names_one_person_is_heard(guard, fire, event_count):
    logged = event_count()

    answer = guard.post(INSIDE, {"location": "Stockroom", "staff_id": 1})

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["changed"] is True
    assert event_count() == logged + 1


@pytest.mark.parametrize(
    "staff_id", [0, -1, True, "1", 1.5, [1]], ids=["0", "-1", "true", "text", "fraction", "list"]
)
def test_a_staff_id_that_is_no_positive_whole_number_is_refused(
    manager, fire, event_count, staff_id
):
    logged = event_count()

    answer = manager.post(f"{SITE}/zones/grocery/assign", {"staff_id": staff_id})

    refused(answer, "staff_id", "'staff_id' must be a positive whole number.")
    assert event_count() == logged


def test_a_staff_id_of_1_is_a_whole_number_that_is_heard(manager, fire, event_count):
    logged = event_count()

    answer = manager.post(f"{SITE}/zones/grocery/assign", {"staff_id": 1})

    assert answer.status_code == 200, answer.get_json()
    assert event_count() == logged + 1


@pytest.mark.parametrize(
    "events",
    ["incident.started", ["incident.started", "  "], ["incident.started", 7], [""]],
    ids=["a string", "a blank entry", "a number", "an empty entry"],
)
def test_webhook_events_that_are_no_list_of_names_are_refused(api_as, event_count, events):
    admin = api_as("admin")
    logged = event_count()

    answer = admin.post(f"{SITE}/webhooks", {"url": "https://example.org/hook", "events": events})

    refused(answer, "events", "'events' must be a list of non-empty strings.")
    assert event_count() == logged


def test_a_blank_required_text_is_refused(guard, fire, event_count):
    logged = event_count()

    answer = guard.post(INSIDE, {"location": "   ", "staff_id": 1})

    refused(answer, "location", "'location' must not be empty.")
    assert event_count() == logged


def test_a_blank_optional_text_is_as_if_left_out(manager):
    answer = manager.post(START, {"kind": "fire", "message": "  "})

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["message"] is None


def test_a_message_of_500_characters_is_kept_whole_and_501_is_refused(manager, event_count):
    logged = event_count()
    longer = manager.post(START, {"kind": "fire", "message": "x" * 501})
    refused(longer, "message", "'message' is longer than 500 characters.")
    assert event_count() == logged

    answer = manager.post(START, {"kind": "fire", "message": "x" * 500})

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["message"] == "x" * 500


@pytest.mark.parametrize(
    "ago_ms", [60_000, -30_000, -3_600_000], ids=["a minute ago", "in 30 s", "in an hour"]
)
def test_an_eta_from_a_minute_ago_on_is_taken(manager, clock, ago_ms):
    """A minute's grace: the duty manager's phone clock may be a little behind."""
    eta = iso(clock["now"] - ago_ms)

    answer = manager.post(START, {"kind": "fire", "eta": eta})

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["eta"] == eta


@pytest.mark.parametrize("ago_ms", [60_001, 3_600_000], ids=["a minute and 1 ms", "an hour"])
def test_an_eta_further_in_the_past_is_refused(manager, clock, event_count, ago_ms):
    logged = event_count()

    answer = manager.post(START, {"kind": "fire", "eta": iso(clock["now"] - ago_ms)})

    refused(answer, "eta", "'eta' lies in the past.")
    assert event_count() == logged


def test_a_fire_alarm_the_panel_sent_minutes_ago_still_starts_the_evacuation(
    client, services, demo_links
):
    """A panel that could not reach the server sends its signal late; its `sent_at` is a
    time in the past, not an estimate that must lie ahead."""
    secret = execute(services, command_line("demo"), "demo", "add_alarm_panel_secret", {})
    sent_at = iso(server_clock() - 5 * 60_000)

    answer = deliver(client, FIRE | {"sent_at": sent_at}, secret["secret"])

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["action"] == "evacuate"
    assert site_now(services)["incident"]["kind"] == "fire"
