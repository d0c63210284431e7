"""The evidence report as a duty manager downloads it: what a mutation tester changed in
server/reports/report.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

from server.basics.clock import now_ms
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def clock_stepped(services, by_ms: int) -> None:
    """What the server's watch logs when the system clock steps (server/timers.py)."""
    stepped = {"ms": by_ms, "back": False, "system_ms": now_ms() + by_ms}
    execute(services, command_line("demo"), "demo", "record_clock_step", stepped)


def test_the_report_holds_the_clock_steps_while_the_incident_was_on_only(api_as, services):
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    clock_stepped(services, 5_000)  # its durations run on evenly across it: the reader is told
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    clock_stepped(services, 7_000)  # after the all-clear: not this incident's

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    steps = [e["payload"]["by_ms"] for e in report["events"] if e["type"] == "clock.stepped"]
    assert steps == [5_000]
