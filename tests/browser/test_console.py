"""The duty manager's console in Chromium, with staff as real python-socketio clients."""

from __future__ import annotations

import time

import pytest

from harness import enrolled_page
from server.store.events import ROLL_CALL_EVENTS

MAIJA = 1  # the demo's duty manager


@pytest.fixture
def site(server_with):
    return server_with({"duty_manager": 1, "staff": 2})


@pytest.fixture
def console(site, context):
    server, _ = site
    page = enrolled_page(context, server, MAIJA, lang="en")  # Maija's own is Finnish
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.wait_for_function("() => document.getElementById('connection').className === 'ok'")
    return page


def shows(page, selector: str, text: str) -> None:
    """Wait until the console shows `text`; print how long that took (run with -s to see)."""
    started = time.monotonic()
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).innerText.includes(t)",
        arg=[selector, text],
        timeout=5_000,
    )
    print(f"console shows {text!r} after {time.monotonic() - started:.3f} s")


def test_console_runs_an_incident_from_start_to_report(site, console, connect):
    server, tokens = site
    anna, ben = (connect(server.url, token) for token in tokens["staff"])
    watcher = connect(server.url, tokens["duty_manager"][0])  # reads the roll call too

    console.click("#kinds button[data-kind=fire]")
    assert console.is_visible("#start-confirm")  # one tap only arms it
    assert server.get("/api/sites/demo/state", tokens["duty_manager"][0]).json()["incident"] is None
    console.click("#start-confirm")
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    assert anna.wait_for_event("incident.started")["payload"]["kind"] == "fire"
    assert not console.is_visible("#console-drill")

    anna.act("acknowledge")
    shows(console, "#roll-people", "staff 0: acknowledged")
    # Four people have a phone: Maija's and the three tokens of this test; the demo's other
    # five have none, and are counted apart from those who did not answer.
    shows(console, "#roll-summary", "of 4 phones")
    shows(console, "#roll-summary", "5 people have no phone")
    ben.act("clear_zone", {"zone": "grocery"})
    shows(console, "#console-zones li[data-zone=grocery]", "Swept clear by staff 1")
    anna.act("request_help", {"location": "Toilets", "note": "wheelchair"})
    shows(console, "#console-help", "Toilets (wheelchair)")
    console.click("#console-help button")
    shows(console, "#console-help", "No open help requests.")
    ben.act("report_safe")
    shows(console, "#roll-people", "staff 1: safe")

    console.click("#reasons button >> nth=0")  # resolved; three zones are still unchecked
    shows(console, "#allclear-warning", "3 zones are not swept clear")
    assert server.get("/api/sites/demo/state", tokens["duty_manager"][0]).json()["incident"]
    console.click("#allclear-confirm")
    console.wait_for_selector("#screen-console-start:not([hidden])", timeout=5_000)
    shows(console, "#history", "Fire")

    report = server.get("/api/sites/demo/incidents/1/report.json", tokens["duty_manager"][0]).json()
    in_report = {event["seq"]: event for event in report["events"]}
    assert anna.wait_for_event("incident.ended") is not None
    for expected in (
        "incident.started",
        "alarm.acknowledged",
        "zone.cleared",
        "help.requested",
        "help.resolved",
        "staff.safe",
        "incident.ended",
    ):
        # As it happened, to Anna's phone; the roll call as the duty manager's socket saw it.
        live = (watcher if expected in ROLL_CALL_EVENTS else anna).wait_for_event(expected)
        assert in_report[live["seq"]]["type"] == expected
        assert in_report[live["seq"]]["ts"] == live["ts"]
    assert report["verification"]["ok"] is True
    resolved = next(e for e in report["events"] if e["type"] == "help.resolved")
    assert resolved["actor_name"] == "Maija Manager"  # the log keeps no name (issue 25)


def test_manager_assigns_an_unchecked_zone(site, console, connect):
    server, tokens = site
    anna = connect(server.url, tokens["staff"][0])
    server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "evacuation"})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)

    console.select_option("#console-zones li[data-zone=stockroom] select", label="staff 0")

    # A request until she answers it: the zone counts as being swept once she accepts.
    shows(console, "#console-zones li[data-zone=stockroom]", "Asked: staff 0")
    assert "Not swept yet" in console.inner_text("#console-zones li[data-zone=stockroom]")
    asked = anna.wait_for_event("zone.sweep_requested")
    assert asked["payload"]["zone"] == "stockroom"
    anna.act("claim_zone", {"zone": "stockroom"})
    shows(console, "#console-zones li[data-zone=stockroom]", "Being swept by staff 0")


def test_chain_admin_sees_every_site_open_or_closed(site, context, tmp_path):
    server, tokens = site
    other = tmp_path / "kamppi.yaml"
    other.write_text(
        "site: kamppi\nname: Kamppi shop\nzones:\n"
        "  - {id: floor, name: Floor, exits: [Door], assembly_point: Square}\nstaff: []\n"
    )
    assert server.cli("site-import", str(other)).returncode == 0
    kim = server.cli(
        "create-token", "--site", "kamppi", "--role", "admin", "--name", "Kim", "--chain"
    ).stdout.splitlines()[-1]
    kim_id = server.get("/api/me", kim).json()["staff_id"]
    server.post("/api/sites/demo/incidents", kim, {"kind": "fire", "drill": True})
    page = enrolled_page(context, server, kim_id, site="kamppi", lang="en")
    page.wait_for_selector("#screen-console-start:not([hidden])")

    shows(page, "#sites-list", "Kamppi shop: open")
    shows(page, "#sites-list", "Exit Now demo shop: CLOSED: Fire (drill)")
