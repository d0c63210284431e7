"""The evidence report as a duty manager downloads it: what a mutation tester changed in
server/reports/report.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

import csv
import functools
import io

from harness import Api
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
    """90.507 seconds, not 90.51: the drill's figure keeps its milliseconds."""
    run = functools.partial(execute, services, command_line("demo"), "demo")
    started = run("start_incident", {"kind": "fire", "drill": True})
    clock["now"] += 90_507
    with services.store.reading() as db:
        staff = [row[0] for row in db.execute("SELECT id FROM staff WHERE site = 'demo'")]
    for staff_id in staff:
        run("account_person", {"staff_id": staff_id, "assembly_point": "lamp-post-a"})
    run("end_incident", {"reason": "drill_over"})

    with services.store.reading() as db:
        accounting = incident_report(db, "demo", started["id"])["accounting"]

    assert accounting["everyone_accounted"] is True
    assert accounting["seconds_to_everyone"] == 90.507


def test_each_channel_and_all_together_say_to_the_millisecond_how_long_they_said_closed(
    services, clock
):
    """90.507 seconds per channel and in all, not 90.51."""
    run = functools.partial(execute, services, command_line("demo"), "demo")
    started = run("start_incident", {"kind": "fire"})
    clock["now"] += 90_507
    run("end_incident", {"reason": "false_alarm"})

    with services.store.reading() as db:
        closures = incident_report(db, "demo", started["id"])["closures"]

    assert {span["closed_seconds"] for span in closures["per_channel"].values()} == {90.507}
    assert closures["total_closed_seconds"] == 90.507


def test_a_backup_asked_for_before_the_alarm_cuts_nothing_after_it_from_the_report(api_as):
    """A request from before the alarm, answered during it, stays out; the all-clear after
    it is still in the timeline."""
    manager, guard = api_as("duty_manager"), api_as("guard")
    asked = api_as("staff").post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    guard.post(f"{SITE}/backup-requests/{asked['backup_request']['id']}/answer")
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    types = [e["type"] for e in report["events"]]
    assert "backup.answered" not in types
    assert types.count("incident.ended") == 1
    assert sum(e["type"] == "notice.switched" for e in report["events"]) == 10


def mailbox_took_the_notice(services, client, incident_id: int) -> None:
    """What the mailbox switcher logs when a mailbox took our closed reply
    (server/channels/mailboxes/switcher.py), in the background, after the other channels."""
    version = client.get("/status/demo.json").get_json()["version"]
    outcome = {
        "outcome": "switched",
        "mailbox": "service@shop.example",
        "provider": "microsoft365",
        "state": "closed",
        "version": version,
        "incident_id": incident_id,
        "reply": "ours",
        "status": 200,
    }
    execute(services, command_line("demo"), "demo", "record_mailbox_switch", {"outcome": outcome})


def test_a_mailbox_switched_during_the_incident_leaves_the_channels_closed_time_whole(
    api_as, services, client
):
    """The mailbox's own switch comes between the channels' closing and their reopening:
    each channel still says when it reopened, and the total closed time is there."""
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    mailbox_took_the_notice(services, client, incident_id)
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    closures = report["closures"]
    assert all(span["reopened_at"] for span in closures["per_channel"].values())
    assert closures["total_closed_seconds"] is not None


def test_the_csv_shows_what_people_typed_in_their_own_letters(api_as):
    """The payload cell says "Kylmävarasto" as typed, not "Kylm\\u00e4varasto"."""
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    api_as("staff").post(f"{SITE}/help-requests", {"location": "Kylmävarasto"})

    sheet = manager.get(f"{SITE}/incidents/{incident_id}/report.csv").get_data(as_text=True)

    rows = list(csv.DictReader(io.StringIO(sheet)))
    (asked,) = [row for row in rows if row["type"] == "help.requested"]
    assert "Kylmävarasto" in asked["payload"]


def test_a_site_with_one_person_who_is_accounted_for_has_everyone_accounted_for(
    services, client, make_token
):
    """A one-person site's drill: its report says everyone was accounted for, and when."""
    execute(services, command_line("annex"), "annex", "create_site", {"name": "Annex"})
    maija = Api(client, make_token("duty_manager", name="Maija", site="annex"))
    annex = "/api/sites/annex"
    incident_id = maija.post(f"{annex}/incidents", {"kind": "fire", "drill": True}).get_json()["id"]
    maija.post(f"{annex}/incidents/current/safe")
    maija.post(f"{annex}/incidents/current/all-clear", {"reason": "drill_over"})

    report = maija.get(f"{annex}/incidents/{incident_id}/report.json").get_json()

    assert report["roll_call"]["on_site"] == 1
    assert report["accounting"]["everyone_accounted"] is True
    assert report["accounting"]["seconds_to_everyone"] is not None
