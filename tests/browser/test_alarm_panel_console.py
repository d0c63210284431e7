"""The fire-alarm panel on the duty manager's console in Chromium: the pre-alarm counts down
with "Evacuate now" and "Dismiss", a silent panel says "Alarm panel link down", and a reset is
a note that leaves the incident running."""

from __future__ import annotations

import json
import time

import pytest
import requests

from harness import enrolled_page, prepare_panel_site
from server.basics import signing

MAIJA = 1  # the demo's duty manager


@pytest.fixture
def panel_site(live_servers, tmp_path):
    """The real server, its demo site's pre-alarm counting 60 s: (server, the panel's secret)."""
    _, secret = prepare_panel_site(tmp_path / "live.db", {"countdown_seconds": 60})
    return live_servers(tmp_path / "live.db").start(), secret


def deliver(server, secret: str, body: dict) -> dict:
    raw = json.dumps(body).encode()
    headers = signing.sign([secret], raw, int(time.time()))
    answer = requests.post(f"{server.url}/hooks/alarm/demo", data=raw, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def console(context, server, lang: str):
    page = enrolled_page(context, server, MAIJA, lang=lang)
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.wait_for_function("() => document.getElementById('connection').className === 'ok'")
    return page


def test_a_pre_alarm_counts_down_on_the_console_and_evacuate_now_starts_it(panel_site, context):
    server, secret = panel_site
    page = console(context, server, "fi")

    deliver(server, secret, {"event_id": "pre-1", "event": "pre_alarm", "detail": "Ilmaisin 12"})

    page.wait_for_selector("#pre-alarm:not([hidden])", timeout=5_000)
    assert "esihälytys" in page.inner_text("#pre-alarm-title")
    assert page.inner_text("#pre-alarm-detail") == "Ilmaisin 12"
    page.wait_for_function(
        "() => /itsestään (59|60) sekunnin/.test("
        "document.getElementById('pre-alarm-countdown').innerText)",
        timeout=5_000,
    )
    page.click("#pre-alarm-confirm")  # "Evakuoi nyt"
    page.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    page.wait_for_selector("#pre-alarm", state="hidden", timeout=5_000)


def test_a_silent_panel_is_link_down_and_a_reset_is_a_note(panel_site, context):
    server, secret = panel_site
    page = console(context, server, "en")

    deliver(server, secret, {"event_id": "hb-1", "event": "heartbeat", "heartbeat_seconds": 1})
    deliver(server, secret, {"event_id": "fire-1", "event": "fire_alarm"})
    page.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    deliver(server, secret, {"event_id": "reset-1", "event": "reset"})

    page.wait_for_function(
        "() => document.getElementById('panel-link-down').innerText"
        ".startsWith('Alarm panel link down')",
        timeout=10_000,
    )
    assert "was reset" in page.inner_text("#panel-notes")
    assert page.is_visible("#screen-console")  # the incident goes on
