"""The fire-alarm panel's webhook and what the server's timers decide, as the site's state and log
show them: what a mutation tester changed in server/commands/alarm_panel.py and no test noticed
(issue 28). The app in this process; the commands' clock set by the test where a moment matters
(a delivery's signature still carries the real time, as a panel's does)."""

from __future__ import annotations

import itertools
import json

import pytest
from test_alarm_panel import FIRE, HOOK, deliver, policy, signed, site_now

import server.commands as commands_module
from server.basics.clock import now_ms as server_clock
from server.commands import execute
from server.rules.alarm_panel import MISSED_HEARTBEATS
from server.rules.auth import alarm_panel, command_line

NUMBERS = itertools.count(1)


@pytest.fixture
def secret(services, demo_links) -> str:
    return execute(services, command_line("demo"), "demo", "add_alarm_panel_secret", {})["secret"]


@pytest.fixture
def clock(monkeypatch, secret):
    """The commands' clock, moved on by the test from the server's: {"now": UTC ms}."""
    moment = {"now": server_clock() + 1000}
    monkeypatch.setattr(commands_module, "now_ms", lambda: moment["now"])
    return moment


def heartbeat(client, secret: str, seconds: int = 60):
    body = {"event_id": f"heartbeat-{next(NUMBERS)}", "event": "heartbeat"}
    answer = deliver(client, body | {"heartbeat_seconds": seconds}, secret)
    assert answer.status_code == 200, answer.get_json()
    return answer


def the_panel(services, name: str) -> dict:
    return execute(services, alarm_panel("demo"), "demo", name, {})


def logged(services, type_: str) -> list[dict]:
    with services.store.reading() as db:
        rows = db.execute("SELECT payload FROM events WHERE type = ? ORDER BY seq", [type_])
        return [json.loads(row[0]) for row in rows]


def test_the_link_is_logged_up_once_and_again_only_when_its_interval_changes(
    client, services, secret
):
    for seconds in (60, 60, 60, 30, 30):
        heartbeat(client, secret, seconds)

    assert logged(services, "alarm_panel.link_up") == [
        {"interval_seconds": 60},
        {"interval_seconds": 30},
    ]
    assert site_now(services)["alarm_panel"]["link"]["state"] == "up"


def test_the_link_is_down_once_the_missed_heartbeats_time_has_passed(
    client, services, secret, clock
):
    silence = MISSED_HEARTBEATS * 60_000
    for late in (1, 0):  # the timer comes a little after the moment, or at it
        heard = clock["now"]
        heartbeat(client, secret)
        clock["now"] = heard + silence - 1
        assert the_panel(services, "mark_alarm_panel_link_down")["changed"] is False

        clock["now"] = heard + silence + late
        assert the_panel(services, "mark_alarm_panel_link_down")["changed"] is True
        assert site_now(services)["alarm_panel"]["link"]["state"] == "down"
        clock["now"] += silence + 1  # a link down stays down, said once
        assert the_panel(services, "mark_alarm_panel_link_down")["changed"] is False
    assert len(logged(services, "alarm_panel.link_down")) == 2


def test_each_heartbeat_keeps_the_link_up_not_only_the_first(client, services, secret, clock):
    up = clock["now"]
    heartbeat(client, secret)
    clock["now"] = up + 100_000
    heartbeat(client, secret)  # the same interval: the link stays up since the first

    clock["now"] = up + MISSED_HEARTBEATS * 60_000
    assert the_panel(services, "mark_alarm_panel_link_down")["changed"] is False
    clock["now"] = up + 100_000 + MISSED_HEARTBEATS * 60_000
    assert the_panel(services, "mark_alarm_panel_link_down")["changed"] is True


def test_a_heartbeat_that_names_no_interval_is_taken_as_every_60_seconds(client, services, secret):
    deliver(client, {"event_id": "heartbeat-0", "event": "heartbeat"}, secret)

    assert logged(services, "alarm_panel.link_up") == [{"interval_seconds": 60}]


def test_a_pre_alarm_nobody_answers_starts_the_evacuation_at_its_deadline_not_before(
    client, services, secret, clock
):
    policy(services, countdown_seconds=30)
    started = clock["now"]
    answer = deliver(client, {"event_id": "pre-1", "event": "pre_alarm"}, secret)
    assert answer.get_json()["action"] == "countdown"

    clock["now"] = started + 30_000 - 1
    assert the_panel(services, "expire_pre_alarm")["changed"] is False
    assert site_now(services)["incident"] is None

    clock["now"] = started + 30_000
    expired = the_panel(services, "expire_pre_alarm")
    assert expired["changed"] is True
    assert site_now(services)["incident"]["id"] == expired["incident_id"]


def test_a_signals_answer_names_the_pre_alarm_it_started_and_no_other(client, services, secret):
    fire = deliver(client, {"event_id": "fault-1", "event": "fault"}, secret).get_json()
    countdown = deliver(client, {"event_id": "pre-1", "event": "pre_alarm"}, secret).get_json()

    assert fire["pre_alarm_id"] is None
    assert countdown["pre_alarm_id"] == site_now(services)["alarm_panel"]["pre_alarm"]["id"]
    started = logged(services, "pre_alarm.started")
    assert [p["pre_alarm_id"] for p in started] == [countdown["pre_alarm_id"]]


def test_a_delivery_is_remembered_past_the_next_one(client, services, secret, clock):
    """A replay is refused for as long as a signature stays fresh (5 min), even after other
    deliveries came in between."""
    raw, headers = signed(FIRE, secret)
    assert client.post(HOOK, data=raw, headers=headers).status_code == 200
    clock["now"] += 60_000
    heartbeat(client, secret)

    replay = client.post(HOOK, data=raw, headers=headers)

    assert replay.status_code == 409, replay.get_json()
    assert replay.get_json()["type"].endswith("/replayed-delivery")


def test_retiring_old_secrets_with_only_one_keeps_it(client, services, secret):
    retired = execute(services, command_line("demo"), "demo", "retire_old_alarm_panel_secrets", {})

    assert retired["retired"] == []
    assert deliver(client, FIRE, secret).status_code == 200


def test_a_delivery_without_its_event_is_refused_and_logs_nothing(client, secret, event_count):
    before = event_count()

    answer = deliver(client, {"event_id": "panel-9", "detail": "Detector 3"}, secret)

    assert answer.status_code == 400
    assert "'event' is required" in answer.get_json()["detail"]
    assert event_count() == before


def test_the_panel_starts_an_evacuation_after_hundreds_of_incidents(client, services, secret):
    """Ids past 256 are no longer the small integers Python keeps once: the panel's start
    compares the id it reserved with the one it got by value."""
    operator, drill = command_line("demo"), {"kind": "fire", "drill": True}
    for _ in range(256):  # drills: no public notice to write each time
        run = execute(services, operator, "demo", "start_incident", drill)
        execute(services, operator, "demo", "end_incident", {"reason": "drill_over"})

    answer = deliver(client, FIRE, secret)

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["incident_id"] == run["id"] + 1 == 257


def test_a_site_file_may_make_a_pre_alarm_evacuate_at_once(client, services, secret):
    policy(services, pre_alarm="evacuate")

    answer = deliver(client, {"event_id": "pre-1", "event": "pre_alarm"}, secret)

    assert answer.get_json()["action"] == "evacuate"
    assert site_now(services)["incident"]["id"] == answer.get_json()["incident_id"]


def test_a_new_secret_says_how_many_are_valid_now(services, demo_links):
    def add(**params) -> dict:
        return execute(services, command_line("demo"), "demo", "add_alarm_panel_secret", params)

    assert add()["valid"] == 1
    assert add(rotate=True)["valid"] == 2


def test_deliveries_are_kept_only_as_long_as_a_replay_could_come(client, services, secret, clock):
    """A signature is fresh for 5 minutes either way: what is older is forgotten, so a panel's
    heartbeat a minute does not keep a row a minute for ever."""
    heartbeat(client, secret)
    clock["now"] += 16 * 60_000
    heartbeat(client, secret)

    with services.store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM alarm_panel_deliveries").fetchone()[0] == 1


def test_a_delivery_replayed_just_inside_the_replay_memory_is_still_refused(
    client, services, secret, clock
):
    """A delivery replayed 14.5 minutes after it came, other deliveries between, is a 409."""
    raw, headers = signed(FIRE, secret)
    assert client.post(HOOK, data=raw, headers=headers).status_code == 200
    clock["now"] += 14 * 60_000 + 30_000
    heartbeat(client, secret)  # forgets the deliveries older than the memory

    replay = client.post(HOOK, data=raw, headers=headers)

    assert replay.status_code == 409, replay.get_json()
    assert replay.get_json()["type"].endswith("/replayed-delivery")


@pytest.mark.parametrize(("field", "longest"), [("event_id", 200), ("detail", 500)])
def test_a_signals_text_may_be_as_long_as_its_limit_and_no_longer(
    client, services, secret, event_count, field, longest
):
    """The longest event id or detail starts the alarm; one more character is a 400 naming
    the field, with nothing logged."""
    accepted = deliver(client, {**FIRE, field: "x" * longest}, secret)
    assert accepted.status_code == 200, accepted.get_json()
    assert site_now(services)["incident"]["id"] == accepted.get_json()["incident_id"]
    assert logged(services, "alarm_panel.signalled")[0][field] == "x" * longest
    before = event_count()

    refused = deliver(client, {**FIRE, "event_id": "panel-2", field: "x" * (longest + 1)}, secret)

    assert refused.status_code == 400, refused.get_json()
    assert refused.get_json()["detail"] == f"'{field}' is longer than {longest} characters."
    assert refused.get_json()["field"] == field
    assert event_count() == before
