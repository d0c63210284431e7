"""The evidence report as a duty manager downloads it: what a mutation tester changed in
server/reports/report.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

import functools

from server.basics.clock import now_ms
from server.commands import execute
from server.reports.report import incident_report
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


def test_a_roll_with_nobody_on_it_is_not_everyone_accounted_for(services):
    """A site with no staff and no visitors yet (just set up): its drill's report must not
    claim that everyone was accounted for."""
    execute(services, command_line("annex"), "annex", "create_site", {"name": "Annex"})
    start = {"kind": "fire", "drill": True}
    started = execute(services, command_line("annex"), "annex", "start_incident", start)

    with services.store.reading() as db:
        report = incident_report(db, "annex", started["id"])

    assert report["roll_call"]["on_site"] == 0
    assert report["accounting"]["everyone_accounted"] is False


def test_a_backup_asked_for_in_the_incident_is_followed_and_one_after_it_is_not(api_as, services):
    manager, guard, staff = api_as("duty_manager"), api_as("guard"), api_as("staff")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    asked = staff.post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    clock_stepped(services, 7_000)
    guard.post(f"{SITE}/backup-requests/{asked['backup_request']['id']}/answer")
    api_as("staff").post(f"{SITE}/backup-requests", {"location": "Till 4"})  # another day's

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    types = [e["type"] for e in report["events"]]
    assert types.count("backup.requested") == types.count("backup.answered") == 1


def test_the_drill_says_to_the_millisecond_how_long_until_everyone_was_accounted_for(
    services, clock
):
    run = functools.partial(execute, services, command_line("demo"), "demo")
    started = run("start_incident", {"kind": "fire", "drill": True})
    clock["now"] += 90_500
    with services.store.reading() as db:
        staff = [row[0] for row in db.execute("SELECT id FROM staff WHERE site = 'demo'")]
    for staff_id in staff:
        run("account_person", {"staff_id": staff_id, "assembly_point": "lamp-post-a"})
    run("end_incident", {"reason": "drill_over"})

    with services.store.reading() as db:
        accounting = incident_report(db, "demo", started["id"])["accounting"]

    assert accounting["everyone_accounted"] is True
    assert accounting["seconds_to_everyone"] == 90.5


def test_each_channel_says_to_the_millisecond_how_long_it_said_closed(services, clock):
    run = functools.partial(execute, services, command_line("demo"), "demo")
    started = run("start_incident", {"kind": "fire"})
    clock["now"] += 90_505
    run("end_incident", {"reason": "false_alarm"})

    with services.store.reading() as db:
        closures = incident_report(db, "demo", started["id"])["closures"]

    assert {span["closed_seconds"] for span in closures["per_channel"].values()} == {90.505}
