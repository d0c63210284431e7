"""A step of the system clock as the report tells it: what a mutation tester changed in
server/commands/clock.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

from server.basics.clock import now_ms
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def test_a_step_back_is_told_in_the_report_to_the_millisecond(api_as, services):
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    stepped = {"ms": 5_000, "back": True, "system_ms": now_ms() - 5_000}  # as the watch logs it
    execute(services, command_line("demo"), "demo", "record_clock_step", stepped)

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    steps = [e["payload"] for e in report["events"] if e["type"] == "clock.stepped"]
    assert [(step["by_ms"], step["system_ms"]) for step in steps] == [
        (-5_000, stepped["system_ms"])
    ]
