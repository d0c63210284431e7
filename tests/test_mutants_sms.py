"""Text messages when Twilio says no, or when its answer cannot be logged: what a mutation
tester changed in server/integrations/sms.py and no test noticed (issue 28). The app in this
process; its SMS to the Twilio stand-in on 127.0.0.1, which refuses the numbers a test names
as Twilio refuses a number it will not text (400, code 21211)."""

from __future__ import annotations

import dataclasses

import pytest

from harness import Api, eventually, free_port, unit_settings
from server.basics.errors import DiskFull

SITE = "/api/sites/demo"
VERA, SVEN, ELSA = "+358401110001", "+46701110002", "+447700900003"


@pytest.fixture
def settings(tmp_path, twilio):
    """The app's settings, with Twilio's at the stand-in."""
    return twilio.settings_for(unit_settings(tmp_path / "exitnow.db"))


@pytest.fixture
def desk(api_as) -> tuple[Api, Api]:
    """The reception's guard and the duty manager of the demo site: (guard, manager)."""
    return api_as("guard"), api_as("duty_manager")


def sign_in(guard: Api, name: str, phone: str) -> None:
    answer = guard.post(f"{SITE}/visitors", {"name": name, "phone": phone, "language": "en"})
    assert answer.status_code == 201, answer.get_json()


def logged(manager: Api, event_type: str, count: int) -> list[dict]:
    """The payloads of the log's `event_type` entries, once there are `count` of them."""

    def entries() -> list[dict] | None:
        events = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
        found = [e["payload"] for e in events if e["type"] == event_type]
        return found if len(found) >= count else None

    return eventually(entries)


def test_an_accepted_visitors_sms_is_logged_with_twilios_created_status(desk, twilio):
    guard, manager = desk
    sign_in(guard, "Vera", VERA)

    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    [answer] = logged(manager, "visitor.texted", 1)
    assert (answer["outcome"], answer["status"]) == ("accepted", 201)


def test_a_number_twilio_refuses_is_logged_as_failed_and_the_others_still_get_theirs(desk, twilio):
    guard, manager = desk
    for name, phone in (("Vera", VERA), ("Sven", SVEN), ("Elsa", ELSA)):
        sign_in(guard, name, phone)
    twilio.refused[SVEN] = 400

    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    assert sorted(sms["To"] for sms in twilio.wait_for(3)) == sorted((VERA, SVEN, ELSA))
    answers = logged(manager, "visitor.texted", 3)
    outcomes = sorted((a["outcome"], a["status"], a["sid"] is None) for a in answers)
    assert outcomes == [("accepted", 201, False), ("accepted", 201, False), ("failed", 400, True)]


def test_an_sms_service_that_cannot_be_reached_is_logged_as_failed(
    settings, desk, twilio, services
):
    guard, manager = desk
    sign_in(guard, "Vera", VERA)
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    services.visitor_texts.sms.settings = dataclasses.replace(
        settings, twilio_api_url=nothing_listens
    )

    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    [answer] = logged(manager, "visitor.texted", 1)
    assert (answer["outcome"], answer["status"], answer["sid"]) == ("failed", None, None)
    assert twilio.received == []


def test_an_answer_that_cannot_be_logged_does_not_stop_the_rest_of_the_round(
    desk, twilio, services
):
    """The disk fills as the alarm's texts go: logging an answer is refused (the reserve is
    kept for the alarm itself), and the visitors after it must still be texted."""
    guard, manager = desk
    for name, phone in (("Vera", VERA), ("Sven", SVEN), ("Elsa", ELSA)):
        sign_in(guard, name, phone)
    record = services.visitor_texts.record_outcome
    refusals = iter([DiskFull()])

    def record_unless_full(site: str, outcome: dict) -> None:
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal
        record(site, outcome)

    services.visitor_texts.record_outcome = record_unless_full

    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    assert len(twilio.wait_for(3)) == 3
    assert len(logged(manager, "visitor.texted", 2)) == 2


# --- the escalation's SMS to staff ------------------------------------------------------------


@pytest.fixture
def escalated(services, desk, api_as) -> dict:
    """An escalation to SMS as the escalation command logs it: a staff member given a phone
    number in the site file, in a running fire alarm."""
    admin = api_as("admin")
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    config["staff"][0]["phone"] = SVEN
    assert admin.post(f"{SITE}/setup", {"config": config}).status_code == 200
    incident = desk[1].post(f"{SITE}/incidents", {"kind": "fire"}).get_json()
    with services.store.reading() as db:
        [staff_id] = db.execute("SELECT id FROM staff WHERE phone = ?", [SVEN]).fetchone()
    payload = {"incident_id": incident["id"], "staff_id": staff_id, "step": 2}
    payload |= {"channel": "sms", "kind": "fire", "drill": False}
    return {"site": "demo", "type": "alarm.escalated", "payload": payload}


def test_a_refused_escalation_sms_is_logged_as_failed_with_twilios_status(
    services, desk, escalated, twilio
):
    twilio.refused[SVEN] = 400

    assert services.sms.send(escalated) == "failed"

    [answer] = logged(desk[1], "sms.sent", 1)
    assert (answer["outcome"], answer["status"], answer["step"]) == ("failed", 400, 2)


def test_an_accepted_escalation_sms_is_logged_with_twilios_created_status(
    services, desk, escalated, twilio
):
    assert services.sms.send(escalated) == "accepted"

    [answer] = logged(desk[1], "sms.sent", 1)
    assert (answer["outcome"], answer["status"]) == ("accepted", 201)
    assert answer["sid"] == "SM" + "1".zfill(32)


def test_an_escalation_sms_whose_answer_cannot_be_logged_still_counts_as_sent(
    services, escalated, twilio
):
    def disk_full(site: str, outcome: dict) -> None:
        raise DiskFull()

    services.sms.record_outcome = disk_full

    assert services.sms.send(escalated) == "accepted"
    [sms] = twilio.wait_for(1)
    assert sms["To"] == SVEN
