"""Visitors as the reception signs them in: what a mutation tester changed in
server/commands/visitors.py and no test noticed (issue 28). The app in this process; the
alarm's SMS to the Twilio stand-in on 127.0.0.1."""

from __future__ import annotations

import pytest

from harness import Api, eventually, unit_settings
from server import create_app, demo
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def test_a_visitor_signed_in_at_the_desk_is_not_said_to_have_signed_in_themself(api_as):
    guard, manager = api_as("guard"), api_as("duty_manager")
    guard.post(f"{SITE}/visitors", {"name": "Lars Lift", "company": "Lift Oy"})
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    [visitor] = report["roll_call"]["visitors"]
    assert visitor["name"] == "Lars Lift" and not visitor["self_signed"]


def test_a_visitor_gone_before_the_alarm_saying_they_are_out_is_not_logged(
    api_as, client, event_count
):
    signed_in = client.post(f"{SITE}/visitors/self", json={"name": "Olga Walk-in"}).get_json()
    client.post(f"{SITE}/visitors/self/leave", json={"token": signed_in["token"]})
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    logged = event_count()

    answer = client.post(f"{SITE}/visitors/self/safe", json={"token": signed_in["token"]})

    assert answer.status_code == 200 and answer.get_json()["changed"] is False
    assert event_count() == logged  # not on this alarm's roll: nothing to account for


def test_a_visitor_signed_in_with_their_host_is_listed_with_that_host(api_as):
    guard, manager = api_as("guard"), api_as("duty_manager")
    host = manager.get(f"{SITE}/state").get_json()["roll_call"]["staff"][0]

    answer = guard.post(
        f"{SITE}/visitors", {"name": "Hilda Hosted", "host_staff_id": host["staff_id"]}
    )

    assert answer.status_code == 201, answer.get_json()
    [listed] = manager.get(f"{SITE}/visitors").get_json()["visitors"]
    assert listed["host_staff_id"] == host["staff_id"]
    assert listed["expected_assembly_point"] == host["expected_assembly_point"]


def test_a_visitor_signed_in_with_an_unknown_host_is_refused_naming_it_and_logs_nothing(
    api_as, event_count
):
    guard = api_as("guard")
    logged = event_count()

    answer = guard.post(f"{SITE}/visitors", {"name": "Hilda Hosted", "host_staff_id": 9999})

    assert answer.status_code == 404
    problem = answer.get_json()
    assert problem["field"] == "host_staff_id"
    assert problem["detail"] == "There is no staff member 9999 on this site."
    assert event_count() == logged
    assert guard.get(f"{SITE}/visitors").get_json()["visitors"] == []


@pytest.mark.parametrize(
    ("field", "limit", "longest", "too_long"),
    [
        ("company", 100, "x" * 100, "x" * 101),
        # E.164 is at most 16 characters (the format's refusal up to 20); past 20, the length.
        ("phone", 20, "+358" + "4" * 12, "+358" + "4" * 17),
    ],
    ids=["company", "phone"],
)
def test_a_visitor_text_one_character_past_its_limit_is_refused_and_logs_nothing(
    api_as, event_count, field, limit, longest, too_long
):
    guard = api_as("guard")
    accepted = guard.post(f"{SITE}/visitors", {"name": "Vera", field: longest})
    assert accepted.status_code == 201, accepted.get_json()
    logged = event_count()

    refused = guard.post(f"{SITE}/visitors", {"name": "Walter", field: too_long})

    assert refused.status_code == 400
    problem = refused.get_json()
    assert problem["field"] == field
    assert problem["detail"] == f"'{field}' is longer than {limit} characters."
    assert event_count() == logged
    assert [v["name"] for v in guard.get(f"{SITE}/visitors").get_json()["visitors"]] == ["Vera"]


@pytest.mark.parametrize("action", ["leave", "safe"])
def test_a_visitor_link_of_100_characters_is_checked_and_one_of_101_is_refused_as_too_long(
    api_as, client, event_count, action
):
    """Every link is far shorter: one of 100 is forged (the link's 404), past 100 the field's
    400."""
    signed_in = client.post(f"{SITE}/visitors/self", json={"name": "Olga"}).get_json()
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    number = f"{signed_in['visitor_id']}."
    logged = event_count()

    forged = client.post(
        f"{SITE}/visitors/self/{action}", json={"token": number + "0" * (100 - len(number))}
    )
    too_long = client.post(
        f"{SITE}/visitors/self/{action}", json={"token": number + "0" * (101 - len(number))}
    )

    assert forged.status_code == 404
    assert (
        forged.get_json()["detail"] == "This visitor link is not valid here. Ask at the reception."
    )
    assert too_long.status_code == 400
    assert too_long.get_json()["field"] == "token"
    assert too_long.get_json()["detail"] == "'token' is longer than 100 characters."
    assert event_count() == logged


def test_a_visitor_who_signed_out_the_very_millisecond_the_alarm_started_can_say_they_are_out(
    api_as, client, clock
):
    """On that alarm's roll (they were still there as it started): "I am out" accounts for them."""
    manager = api_as("duty_manager")
    signed_in = client.post(f"{SITE}/visitors/self", json={"name": "Olga Edge"}).get_json()
    clock["now"] += 1000
    client.post(f"{SITE}/visitors/self/leave", json={"token": signed_in["token"]})
    manager.post(f"{SITE}/incidents", {"kind": "fire"})  # the same millisecond

    answer = client.post(f"{SITE}/visitors/self/safe", json={"token": signed_in["token"]})

    assert answer.status_code == 200 and answer.get_json()["changed"] is True
    [olga] = manager.get(f"{SITE}/state").get_json()["roll_call"]["visitors"]
    assert olga["name"] == "Olga Edge" and olga["accounted"]["how"] == "phone"


def test_a_visitor_name_of_100_characters_is_accepted_and_one_of_101_refused_logging_nothing(
    api_as, event_count
):
    """The reception sees the 100-character name listed, and a 400 naming 'name' past it."""
    guard = api_as("guard")
    accepted = guard.post(f"{SITE}/visitors", {"name": "N" * 100})
    assert accepted.status_code == 201, accepted.get_json()
    logged = event_count()

    refused = guard.post(f"{SITE}/visitors", {"name": "N" * 101})

    assert refused.status_code == 400
    assert refused.get_json()["field"] == "name"
    assert refused.get_json()["detail"] == "'name' is longer than 100 characters."
    assert event_count() == logged
    assert [v["name"] for v in guard.get(f"{SITE}/visitors").get_json()["visitors"]] == ["N" * 100]


@pytest.mark.parametrize("action", ["leave", "safe"])
@pytest.mark.parametrize(
    ("body", "detail"),
    [({}, "'token' is required."), ({"token": " "}, "'token' must not be empty.")],
    ids=["missing", "blank"],
)
def test_a_visitor_action_without_their_link_is_refused_naming_the_token_and_logs_nothing(
    api_as, client, event_count, action, body, detail
):
    """A 400 that says the link is missing, not the 404 of a wrong link."""
    client.post(f"{SITE}/visitors/self", json={"name": "Olga"})
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    logged = event_count()

    answer = client.post(f"{SITE}/visitors/self/{action}", json=body)

    assert answer.status_code == 400
    assert answer.get_json()["field"] == "token" and answer.get_json()["detail"] == detail
    assert event_count() == logged


@pytest.fixture
def texting_app(tmp_path, twilio):
    """The demo site's app with Twilio's settings at the stand-in: (client, token(role))."""
    settings = twilio.settings_for(unit_settings(tmp_path / "texting.db"))
    app = create_app(settings)
    services = app.extensions["exitnow"]
    demo.seed(services)

    def token(role: str) -> str:
        params = {"name": f"A {role}", "role": role}
        return execute(services, command_line("demo"), "demo", "create_token", params)["token"]

    yield app.test_client(), token
    services.store.close()


def test_twilios_answer_to_a_visitors_alarm_sms_is_logged(texting_app, twilio):
    client, token = texting_app
    guard, manager = Api(client, token("guard")), Api(client, token("duty_manager"))
    guard.post(f"{SITE}/visitors", {"name": "Vera", "phone": "+358401110001", "language": "en"})

    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    [sms] = twilio.wait_for(1)
    assert sms["To"] == "+358401110001"

    def texted() -> list:
        events = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
        return [e["payload"] for e in events if e["type"] == "visitor.texted"]

    [logged] = eventually(texted)
    assert logged["outcome"] == "accepted" and logged["sid"].startswith("SM")
