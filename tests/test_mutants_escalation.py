"""Escalation as an admin sets it up and a silent phone meets it: what a mutation tester changed
in the escalation code and no test noticed (issue 28). The app in this process: the site file
through the setup API; the escalation's command at a moment the test sets, its SMS sent to the
Twilio stand-in on 127.0.0.1."""

from __future__ import annotations

import pytest

import server.commands as commands_module
from harness import Browser, eventually, unit_settings
from server.basics.clock import now_ms as server_clock
from server.basics.clock import parse_iso
from server.channels.texts import default_texts
from server.commands import execute
from server.rules.auth import CSRF_HEADER, command_line
from server.store.log import row_to_entry

SETUP = "/api/sites/demo/setup"
ERIK = 3  # the demo's staff member who reads Swedish


@pytest.fixture
def admin(api_as):
    return api_as("admin")


def with_escalation(admin, section) -> dict:
    config = admin.get(SETUP).get_json()["config"]
    return {**config, "escalation": section}


def with_phone(admin, phone) -> dict:
    config = admin.get(SETUP).get_json()["config"]
    config["staff"][0]["phone"] = phone
    return config


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ([60], "escalation: a mapping: seconds, sms"),
        ({"seconds": 0}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": 3601}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": 1.5}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": True}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": "60"}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"sms": "yes"}, "escalation.sms: true or false"),
        ({"sms": 1}, "escalation.sms: true or false"),
        ({"seconds": 60, "retries": 3}, "escalation.retries: not an escalation setting"),
        ({"voice": True}, "escalation.voice: not an escalation setting"),
    ],
)
def test_a_wrong_escalation_setting_is_refused_naming_it(admin, event_count, section, problem):
    before = event_count()

    answer = admin.post(SETUP, {"config": with_escalation(admin, section)})

    assert answer.status_code == 400
    assert problem in answer.get_json()["detail"]
    assert event_count() == before


@pytest.mark.parametrize(
    "section", [{"seconds": 1}, {"seconds": 3600, "sms": True}, {"sms": False}, {}]
)
def test_every_escalation_setting_in_range_is_taken(admin, section):
    answer = admin.post(SETUP, {"config": with_escalation(admin, section)})

    assert answer.status_code == 200, answer.get_json()
    saved = admin.get(SETUP).get_json()["config"].get("escalation", {})
    assert saved == section


@pytest.mark.parametrize(
    "phone", ["0401234567", "+0401234567", "+123456", "+1234567890123456", "+358 40 1234567", 358]
)
def test_a_phone_number_twilio_would_not_take_is_refused(admin, event_count, phone):
    before = event_count()

    answer = admin.post(SETUP, {"config": with_phone(admin, phone)})

    assert answer.status_code == 400
    assert "staff[0].phone: a phone number with its country code" in answer.get_json()["detail"]
    assert event_count() == before


@pytest.mark.parametrize("phone", ["+1234567", "+123456789012345", None])
def test_the_shortest_and_longest_phone_numbers_are_taken(admin, phone):
    answer = admin.post(SETUP, {"config": with_phone(admin, phone)})

    assert answer.status_code == 200, answer.get_json()
    assert admin.get(SETUP).get_json()["config"]["staff"][0].get("phone") == phone


# --- the SMS: when it goes, in whose words ----------------------------------------------------


@pytest.fixture
def settings(tmp_path, twilio):
    """The app's settings, with Twilio's at the stand-in."""
    return twilio.settings_for(unit_settings(tmp_path / "exitnow.db"))


@pytest.fixture
def clock(monkeypatch, erik_has_a_phone):
    """The commands' clock, moved on by the test from the server's: {"now": UTC ms}."""
    moment = {"now": server_clock()}
    monkeypatch.setattr(commands_module, "now_ms", lambda: moment["now"])
    return moment


def run(services, name: str, params: dict | None = None) -> dict:
    return execute(services, command_line("demo"), "demo", name, params or {})


def start_fire(services, clock, drill: bool = False) -> int:
    """Start the alarm; the commands' clock then stands at its start (never before the log's
    last entry): the start's time."""
    started = run(services, "start_incident", {"kind": "fire", "drill": drill})
    clock["now"] = parse_iso(started["started_at"])
    return clock["now"]


@pytest.fixture
def erik_has_a_phone(request, services, demo_links, admin):
    """Erik (Swedish) has a phone, and no app answers; the site's escalation section is the
    test's parameter, else after 60 s with SMS."""
    config = with_escalation(admin, getattr(request, "param", {"seconds": 60, "sms": True}))
    config["staff"] = [
        {**person, "phone": "+46701234567"} if person["name"] == "Erik Lindqvist" else person
        for person in config["staff"]
    ]
    assert admin.post(SETUP, {"config": config}).status_code == 200


def escalations(services) -> list[tuple[int, str]]:
    with services.store.reading() as db:
        rows = db.execute("SELECT staff_id, step FROM escalations ORDER BY staff_id, step")
        return [tuple(row) for row in rows]


@pytest.fixture
def eriks_phone(services, client, push_service, erik_has_a_phone) -> Browser:
    """Erik's phone: enrolled through a link, subscribed to the push service; its app never
    confirms the alarm."""
    link = run(services, "create_enrollment_link", {"staff_id": ERIK})
    assert client.post("/api/enroll", json={"code": link["code"]}).status_code == 201
    csrf = client.get("/api/me").get_json()["csrf_token"]
    browser = Browser(push_service.url + "/erik")
    subscribed = client.post(
        "/api/push/subscriptions",
        json={"subscription": browser.subscription},
        headers={CSRF_HEADER: csrf},
    )
    assert subscribed.status_code == 201, subscribed.get_json()
    return browser


@pytest.mark.parametrize(
    ("erik_has_a_phone", "seconds"),
    [({"sms": True}, 60), ({"seconds": 30, "sms": True}, 30)],  # 60 s unless the file says
    indirect=["erik_has_a_phone"],
)
def test_a_silent_phone_is_chased_at_the_sites_time_and_texted_at_twice_it(
    services, erik_has_a_phone, eriks_phone, clock, push_service, twilio, seconds
):
    started = start_fire(services, clock)
    push_service.wait_for(1)  # the alarm
    time = seconds * 1000

    for moment, due in (
        (time - 1, []),
        (time, [(ERIK, 1)]),
        (2 * time - 1, [(ERIK, 1)]),
        (2 * time, [(ERIK, 1), (ERIK, 2)]),
    ):
        clock["now"] = started + moment
        run(services, "escalate_alarm")
        assert escalations(services) == due, moment
    push_service.wait_for(2)  # the alarm again
    twilio.wait_for(1)
    eventually(lambda: answers_logged(services) == 1)  # not after the test's database is gone


@pytest.mark.parametrize("erik_has_a_phone", [{"seconds": 60}], indirect=True)
def test_a_site_whose_file_does_not_turn_sms_on_sends_none(
    services, erik_has_a_phone, clock, twilio
):
    clock["now"] = start_fire(services, clock) + 120_000

    run(services, "escalate_alarm")

    assert escalations(services) == []
    assert twilio.received_within(1, timeout=1) == []


@pytest.mark.parametrize("drill", [False, True])
def test_the_sms_names_the_alarm_or_the_drill_in_the_persons_language(
    services, erik_has_a_phone, clock, twilio, drill
):
    clock["now"] = start_fire(services, clock, drill) + 120_000

    run(services, "escalate_alarm")

    [sms] = twilio.wait_for(1)
    eventually(lambda: answers_logged(services) == 1)
    swedish = default_texts("sv")
    title = (swedish["drill"] if drill else swedish["alarm"])["fire"]
    assert (sms["To"], sms["Body"]) == (
        "+46701234567",
        swedish["sms_alarm"].format(title=title, site="Exit Now demo shop"),
    )


def test_an_sms_escalation_committed_with_other_events_is_still_sent(
    services, erik_has_a_phone, clock, twilio, api_as
):
    """Group commit hands the senders every event of a batch, many of them other commands'."""
    clock["now"] = start_fire(services, clock) + 120_000
    another_phone = api_as("staff")
    assert another_phone.post("/api/sites/demo/incidents/current/delivered").status_code == 200
    run(services, "escalate_alarm")
    twilio.wait_for(1)
    with services.store.reading() as db:
        batch = [row_to_entry(row) for row in db.query("SELECT * FROM events ORDER BY seq")]

    services.sms.after_commit(batch)  # the start, a receipt, the escalation, its answer

    assert len(twilio.wait_for(2)) == 2
    eventually(lambda: answers_logged(services) == 2)  # not after the test's database is gone


def answers_logged(services) -> int:
    with services.store.reading() as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE type = 'sms.sent'").fetchone()[0]
