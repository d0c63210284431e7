"""The fire-alarm panel's signed webhook (POST /hooks/alarm/<site>): every refusal is a clear
4xx problem+json with nothing logged; the site's policy decides what each signal does; one
event id is done once; two secrets are valid during a rotation; a pre-alarm nobody answers
starts the evacuation by itself, on the real server with its timer."""

from __future__ import annotations

import json
import time

import pytest
import requests

from harness import flask_cli, only_on_sqlite, prepare_database, prepare_panel_site
from server.basics import signing
from server.commands import execute
from server.rules.auth import command_line
from server.timers import watch_alarm_panels

HOOK = "/hooks/alarm/demo"
SITE = "/api/sites/demo"


@pytest.fixture
def secret(services, demo_links) -> str:
    return execute(services, command_line("demo"), "demo", "add_alarm_panel_secret", {})["secret"]


def signed(body: dict, *secrets: str, at: float | None = None) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    return raw, signing.sign(secrets, raw, int(time.time() if at is None else at))


def deliver(client, body: dict, *secrets: str, at: float | None = None, site: str = "demo"):
    raw, headers = signed(body, *secrets, at=at)
    return client.post(f"/hooks/alarm/{site}", data=raw, headers=headers)


def site_now(services) -> dict:
    from server.store.state import site_state

    with services.store.reading() as db:
        return site_state(db, "demo", is_responder=True)


def events_of(services, after: int = 0) -> list[dict]:
    with services.store.reading() as db:
        rows = db.execute(
            "SELECT type, actor FROM events WHERE site = 'demo' AND seq > ? ORDER BY seq",
            [after],
        ).fetchall()
    return [{"type": row[0], "actor": json.loads(row[1])} for row in rows]


def policy(services, **changes) -> None:
    """Give the demo site its own alarm panel policy through its site file."""
    with services.store.reading() as db:
        from server.commands.site_config import read_site

        config = read_site(db, "demo")
    config["alarm_panel"] = changes
    execute(services, command_line("demo"), "demo", "import_site", {"config": config})


# --- refusals: clear 4xx, nothing logged ---------------------------------------------------


def refusal(answer, status: int, problem: str) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    body = answer.get_json()
    assert body["status"] == status and body["type"].endswith(f"/{problem}"), body
    assert body["detail"]
    return body


FIRE = {"event_id": "panel-1", "event": "fire_alarm", "detail": "Detector 12, 2nd floor"}


@pytest.mark.parametrize(
    ("case", "status", "problem"),
    [
        ("no signature headers", 401, "missing-signature"),
        ("a timestamp but no signature", 401, "missing-signature"),
        ("a signature of another scheme only", 401, "missing-signature"),
        ("signed with another secret", 401, "bad-signature"),
        ("the body changed after signing", 401, "bad-signature"),
        ("a timestamp that is not a number", 401, "bad-timestamp"),
        ("signed six minutes ago", 401, "stale-timestamp"),
        ("signed six minutes ahead", 401, "stale-timestamp"),
        ("an unknown site", 404, "not-found"),
        ("not JSON", 400, "invalid"),
        ("an unknown event type", 400, "invalid"),
        ("no event id", 400, "invalid"),
    ],
)
def test_a_bad_delivery_is_refused_with_nothing_logged(
    client, secret, event_count, case, status, problem
):
    raw, headers = signed(FIRE, secret)
    path = HOOK
    if case == "no signature headers":
        headers = {}
    elif case == "a timestamp but no signature":
        del headers[signing.SIGNATURE_HEADER]
    elif case == "a signature of another scheme only":
        headers[signing.SIGNATURE_HEADER] = headers[signing.SIGNATURE_HEADER].replace("v1=", "v0=")
    elif case == "signed with another secret":
        raw, headers = signed(FIRE, "not-the-secret")
    elif case == "the body changed after signing":
        raw = raw.replace(b"fire_alarm", b"test")
    elif case == "a timestamp that is not a number":
        headers[signing.TIMESTAMP_HEADER] = "yesterday"
    elif case == "signed six minutes ago":
        raw, headers = signed(FIRE, secret, at=time.time() - 360)
    elif case == "signed six minutes ahead":
        raw, headers = signed(FIRE, secret, at=time.time() + 360)
    elif case == "an unknown site":
        path = "/hooks/alarm/nowhere"
    elif case == "not JSON":
        raw, headers = b"fire!", signing.sign([secret], b"fire!", int(time.time()))
    elif case == "an unknown event type":
        raw, headers = signed({**FIRE, "event": "smoke"}, secret)
    elif case == "no event id":
        raw, headers = signed({"event": "fire_alarm"}, secret)
    before = event_count()

    answer = client.post(path, data=raw, headers=headers)

    refusal(answer, status, problem)
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("ExitNow-Signature")
    assert event_count() == before
    assert site_now(client.application.extensions["exitnow"])["incident"] is None


def test_a_site_without_a_secret_refuses_every_delivery(client, demo_links, event_count):
    before = event_count()
    body = refusal(deliver(client, FIRE, "anything"), 401, "no-panel-secret")
    assert "panel-secret --site demo" in body["detail"]
    assert event_count() == before


@pytest.mark.parametrize("dressed", [False, True], ids=["as it was", "with another v1= added"])
def test_a_replayed_delivery_is_refused_and_changes_nothing(client, secret, event_count, dressed):
    raw, headers = signed(FIRE, secret)
    assert client.post(HOOK, data=raw, headers=headers).status_code == 200
    before = event_count()
    if dressed:  # the same signed delivery, its header made to look different
        headers[signing.SIGNATURE_HEADER] += ", v1=" + "0" * 64

    replay = client.post(HOOK, data=raw, headers=headers)

    refusal(replay, 409, "replayed-delivery")
    assert event_count() == before


# --- what the policy does ------------------------------------------------------------------


def test_a_fire_alarm_starts_a_fire_evacuation_at_once_by_the_panel(client, services, secret):
    answer = deliver(client, FIRE, secret)

    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert result["action"] == "evacuate" and result["incident_id"]
    incident = site_now(services)["incident"]
    assert incident["id"] == result["incident_id"]
    assert incident["kind"] == "fire" and incident["drill"] is False
    assert incident["message"] == "Detector 12, 2nd floor"
    started = [e for e in events_of(services) if e["type"] == "incident.started"]
    assert started[0]["actor"] == {"staff_id": None, "name": "alarm panel", "role": "alarm_panel"}
    assert client.get("/status/demo.json").get_json()["state"] == "closed"


def test_a_fire_alarm_during_a_drill_ends_the_drill_and_starts_a_real_evacuation(
    client, services, secret
):
    drill = execute(
        services, command_line("demo"), "demo", "start_incident", {"kind": "fire", "drill": True}
    )

    answer = deliver(client, FIRE, secret)

    assert answer.status_code == 200, answer.get_json()
    incident = site_now(services)["incident"]
    assert incident["id"] == answer.get_json()["incident_id"] != drill["id"]
    assert incident["drill"] is False and incident["ended_at"] is None
    types = [e["type"] for e in events_of(services, drill["seq"])]
    assert types.index("incident.ended") < types.index("incident.started")


def test_a_second_delivery_of_one_event_id_changes_nothing_and_answers_the_same(
    client, services, secret, event_count
):
    first = deliver(client, FIRE, secret, at=time.time() - 2)
    before = event_count()

    again = deliver(client, FIRE, secret)  # signed anew: a retry, not a replay

    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert event_count() == before


def test_a_reset_tells_the_duty_manager_and_leaves_the_incident_running(client, services, secret):
    incident_id = deliver(client, FIRE, secret).get_json()["incident_id"]

    answer = deliver(client, {"event_id": "panel-2", "event": "reset"}, secret)

    assert answer.get_json()["action"] == "notify"
    state = site_now(services)
    assert state["incident"]["id"] == incident_id and state["incident"]["ended_at"] is None
    assert state["alarm_panel"]["notes"][0]["event"] == "reset"
    assert "incident.ended" not in [e["type"] for e in events_of(services)]


@pytest.mark.parametrize("signal", ["fault", "test"])
def test_a_fault_or_a_test_tells_the_duty_managers_only(client, services, secret, signal):
    answer = deliver(client, {"event_id": "p", "event": signal, "detail": "Loop 2"}, secret)

    assert answer.get_json()["action"] == "notify"
    state = site_now(services)
    assert state["incident"] is None
    assert state["alarm_panel"]["notes"] == [
        {"event": signal, "detail": "Loop 2", "at": state["alarm_panel"]["notes"][0]["at"]}
    ]
    assert [e["type"] for e in events_of(services)][-1] == "alarm_panel.signalled"


def test_a_pre_alarm_counts_down_and_a_duty_manager_confirms_it(client, services, secret, api_as):
    answer = deliver(client, {"event_id": "pre-1", "event": "pre_alarm"}, secret)

    assert answer.get_json()["action"] == "countdown"
    waiting = site_now(services)["alarm_panel"]["pre_alarm"]
    assert waiting is not None and site_now(services)["incident"] is None
    confirmed = api_as("duty_manager").post(f"{SITE}/alarm-panel/pre-alarm/confirm")
    assert confirmed.status_code == 200, confirmed.get_json()
    state = site_now(services)
    assert state["incident"]["id"] == confirmed.get_json()["incident_id"]
    assert state["alarm_panel"]["pre_alarm"] is None


def test_a_dismissed_pre_alarm_starts_nothing_even_after_its_deadline(
    client, services, secret, api_as
):
    policy(services, countdown_seconds=1)
    deliver(client, {"event_id": "pre-1", "event": "pre_alarm"}, secret)

    dismissed = api_as("duty_manager").post(f"{SITE}/alarm-panel/pre-alarm/dismiss")
    time.sleep(1.1)  # past the deadline: the timer's round finds nothing to do
    watch_alarm_panels(services)

    assert dismissed.status_code == 200, dismissed.get_json()
    assert site_now(services)["incident"] is None
    again = api_as("duty_manager").post(f"{SITE}/alarm-panel/pre-alarm/dismiss")
    assert again.status_code == 409


def test_the_site_file_can_make_a_fire_alarm_a_countdown(client, services, secret):
    policy(services, fire_alarm="countdown", countdown_seconds=30)

    answer = deliver(client, FIRE, secret)

    assert answer.get_json()["action"] == "countdown"
    assert site_now(services)["incident"] is None
    assert site_now(services)["alarm_panel"]["pre_alarm"]["detail"] == FIRE["detail"]


def test_a_policy_with_a_mistake_is_refused_naming_it(services, demo_links):
    from server.basics.errors import Invalid

    with pytest.raises(Invalid, match=r"alarm_panel.reset: one of: notify, log"):
        policy(services, reset="end_incident")


# --- secrets and their rotation ------------------------------------------------------------


def test_two_secrets_are_valid_during_a_rotation_and_the_old_one_stops_after(
    client, services, secret
):
    operator = command_line("demo")
    new = execute(services, operator, "demo", "add_alarm_panel_secret", {"rotate": True})

    by_old = deliver(client, {"event_id": "a", "event": "test"}, secret)
    by_new = deliver(client, {"event_id": "b", "event": "test"}, new["secret"])
    by_both = deliver(client, {"event_id": "c", "event": "test"}, new["secret"], secret)
    execute(services, operator, "demo", "retire_old_alarm_panel_secrets", {})
    old_after = deliver(client, {"event_id": "d", "event": "test"}, secret)
    new_after = deliver(client, {"event_id": "e", "event": "test"}, new["secret"])

    assert [a.status_code for a in (by_old, by_new, by_both)] == [200, 200, 200]
    refusal(old_after, 401, "bad-signature")
    assert new_after.status_code == 200


def test_a_second_secret_needs_a_rotation_and_a_third_a_retirement(services, secret):
    from server.basics.errors import Conflict

    operator = command_line("demo")
    with pytest.raises(Conflict, match="--rotate"):
        execute(services, operator, "demo", "add_alarm_panel_secret", {})
    execute(services, operator, "demo", "add_alarm_panel_secret", {"rotate": True})
    with pytest.raises(Conflict, match="--retire-old"):
        execute(services, operator, "demo", "add_alarm_panel_secret", {"rotate": True})


@only_on_sqlite  # it reads the file's bytes; the log's rows are read on both engines
def test_the_secret_is_kept_sealed_never_in_plain_text(services, secret, settings):
    with services.store.reading() as db:
        events = [row[0] for row in db.execute("SELECT payload FROM events")]
    with open(settings.db_path, "rb") as file:
        raw = file.read()
    assert not any(secret in payload for payload in events)
    assert secret.encode() not in raw


def test_panel_secret_on_the_command_line_makes_rotates_and_retires(tmp_path):
    db = tmp_path / "cli.db"
    prepare_database(db, {})  # the demo site

    made = flask_cli(db, "panel-secret", "--site", "demo")
    rotated = flask_cli(db, "panel-secret", "--site", "demo", "--rotate")
    retired = flask_cli(db, "panel-secret", "--site", "demo", "--retire-old")

    assert made.returncode == 0 and "shown only once" in made.stdout, made.stderr
    assert rotated.returncode == 0 and "2 valid now" in rotated.stdout
    assert made.stdout.split()[-1] != rotated.stdout.split()[-1]
    assert retired.returncode == 0 and "Retired 1 old secret" in retired.stdout


# --- the real server: the countdown runs out by itself --------------------------------------


def test_a_pre_alarm_nobody_answers_starts_the_evacuation_by_itself(
    live_servers, connect, tmp_path
):
    tokens, secret = prepare_panel_site(tmp_path / "live.db", {"countdown_seconds": 2})
    live_server = live_servers(tmp_path / "live.db").start()
    manager = connect(live_server.url, tokens["duty_manager"])
    floor = connect(live_server.url, tokens["staff"])

    raw, headers = signed({"event_id": "pre-9", "event": "pre_alarm"}, secret)
    answer = requests.post(live_server.url + HOOK, data=raw, headers=headers, timeout=10)
    started = manager.wait_for_event("pre_alarm.started", timeout=5)
    expired = manager.wait_for_event("pre_alarm.expired", timeout=8)
    alarm = floor.wait_for_event("incident.started", timeout=5)

    assert answer.status_code == 200, answer.text
    assert started and expired, manager.events
    assert started["payload"]["countdown_seconds"] == 2
    assert alarm is not None and alarm["payload"]["kind"] == "fire"
    assert alarm["actor"]["role"] == "alarm_panel"
    assert not any(e["type"].startswith("pre_alarm.") for e in floor.events)  # numbers only


def test_a_pre_alarm_is_pushed_to_the_locked_phones_of_those_who_lead():
    from server.live.push import TO_RESPONDERS, rounds_for

    started = {
        "type": "pre_alarm.started",
        "site": "demo",
        "seq": 9,
        "payload": {"pre_alarm_id": 1, "countdown_seconds": 90, "deadline": "x", "detail": None},
    }

    (round_,) = rounds_for([started], "secret")

    assert round_.audience == TO_RESPONDERS and round_.purpose == "pre_alarm"
    assert round_.context == {"pre_alarm_id": 1}
    swedish = round_.message({"language": "sv"})
    assert swedish["title"] == "Förlarm från brandlarmscentralen"
    assert "90 sekunder" in swedish["body"]
