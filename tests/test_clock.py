"""A system clock that steps during an incident, on the real server under libfaketime
(Debian's `faketime`): the offset is a file the test rewrites (FAKETIME_TIMESTAMP_FILE,
read on every call), the monotonic clock is left alone as an NTP step leaves it. Escalation
fires neither early nor never, the log's times never go back, the steps are logged and the
report says so, its durations are not negative, and verify-log passes."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from test_escalation import ERIKS_PHONE, phone_of

from harness import eventually, prepare_database

SITE = "demo"
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
ESCALATION_SECONDS = 3
HOUR = 3600

pytestmark = pytest.mark.skipif(
    not LIBFAKETIME.exists(), reason="libfaketime missing: tests/run.sh installs `faketime`"
)


@pytest.fixture
def stepped_server(tmp_path, live_servers, twilio):
    """The real server whose system clock the test steps by writing `offset` seconds."""
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    tokens = prepare_database(tmp_path / "site.db", {"admin": 1, "duty_manager": 1})
    env = {
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        **twilio.env(),
    }
    server = live_servers(tmp_path / "site.db", env=env).start(timeout=60)
    admin, manager = tokens["admin"][0], tokens["duty_manager"][0]
    config = server.get(f"/api/sites/{SITE}/setup", admin).json()["config"]
    for person in config["staff"]:
        if person["name"] == "Erik Lindqvist":
            person["phone"] = ERIKS_PHONE
    config["escalation"] = {"seconds": ESCALATION_SECONDS, "sms": True}
    assert server.post(f"/api/sites/{SITE}/setup", admin, {"config": config}).status_code == 200

    def step_to(seconds: int) -> None:
        # Whole or not at all: libfaketime reads the file at every clock call
        # (FAKETIME_NO_CACHE), and a file being rewritten in place reads empty (no offset).
        written = offset.with_suffix(".new")
        written.write_text(f"{seconds:+d}\n")
        os.replace(written, offset)

    return server, manager, step_to


def log_of(server, manager: str) -> list[dict]:
    return server.get(f"/api/sites/{SITE}/events?after=0&limit=1000", manager).json()["events"]


def steps_logged(server, manager: str) -> list[int]:
    return [e["payload"]["by_ms"] for e in log_of(server, manager) if e["type"] == "clock.stepped"]


def test_a_clock_stepping_forward_then_back_mid_incident_changes_no_duration(
    stepped_server, push_service, twilio
):
    server, manager, step_to = stepped_server
    _erik, _browser = phone_of(server, manager, "Erik Lindqvist", push_service.url + "/erik")

    began = time.monotonic()  # before the start: no attempt is due before `began` + the time
    started = server.post(f"/api/sites/{SITE}/incidents", manager, {"kind": "fire"})
    assert started.status_code == 201, started.text
    push_service.wait_for(1)  # the alarm; Erik's phone never confirms it

    # An hour forward at once: with durations on the wall clock, both attempts were due now.
    step_to(+HOUR)
    eventually(lambda: steps_logged(server, manager), timeout=10)
    push_service.wait_for(2)  # the alarm again, after the site's time and not before
    assert time.monotonic() - began >= ESCALATION_SECONDS
    assert twilio.received_within(1, timeout=0.5) == []  # the SMS is not due yet either

    # Two hours back: with durations on the wall clock, the SMS was due in an hour.
    step_to(-HOUR)
    eventually(lambda: len(steps_logged(server, manager)) == 2, timeout=10)
    [sms] = twilio.wait_for(1)
    assert time.monotonic() - began >= 2 * ESCALATION_SECONDS
    assert sms["To"] == ERIKS_PHONE

    ended = server.post(
        f"/api/sites/{SITE}/incidents/current/all-clear", manager, {"reason": "false_alarm"}
    )
    assert ended.status_code == 200, ended.text

    entries = log_of(server, manager)
    times = [datetime.fromisoformat(e["ts"].replace("Z", "+00:00")) for e in entries]
    assert times == sorted(times), "the log's times went back"
    assert [round(by / 1000 / HOUR) for by in steps_logged(server, manager)] == [1, -2]

    incident_id = started.json()["id"]
    report_url = f"/api/sites/{SITE}/incidents/{incident_id}/report"
    closures = server.get(f"{report_url}.json", manager).json()["closures"]
    closed = [span["closed_seconds"] for span in closures["per_channel"].values()]
    assert closed and all(seconds is not None and 0 <= seconds < HOUR for seconds in closed)
    assert 0 <= closures["total_closed_seconds"] < HOUR
    page = server.get(f"{report_url}.html?lang=en", manager).text
    assert "clock stepped back 7200 s" in page
    assert "clock stepped forward 3600 s" in page

    verified = server.cli("verify-log")
    assert verified.returncode == 0, verified.stderr
