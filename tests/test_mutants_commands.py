"""What every command does before it logs: what a mutation tester changed in
server/commands/__init__.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

import server.commands as commands_module
from server.basics.clock import STEP_MS, parse_iso

SITE = "/api/sites/demo"


def test_a_command_stamped_behind_the_log_says_by_how_much_the_clock_stepped_back(
    api_as, monkeypatch
):
    """A process whose clock is behind the log (the system clock stepped back before a CLI
    run started) stamps nothing before the last entry, and logs the step first: the report
    tells the reader how far back the clock was."""
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    events = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    last_ts = max(parse_iso(event["ts"]) for event in events)
    behind = 3 * STEP_MS
    monkeypatch.setattr(commands_module, "now_ms", lambda: last_ts - behind)

    manager.post(f"{SITE}/incidents/current/update", {"message": "Use the east exit"})

    new = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"][len(events) :]
    stepped = [e["payload"] for e in new if e["type"] == "clock.stepped"]
    assert [(step["by_ms"], step["seen_by"]) for step in stepped] == [(-behind, "log")]
    assert [e["type"] for e in new][:2] == ["clock.stepped", "incident.updated"]
    assert min(parse_iso(e["ts"]) for e in new) >= last_ts  # nothing stamped before the log
