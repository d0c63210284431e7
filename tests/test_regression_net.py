"""Holes in the regression net (issue 28): one-line breaks that passed every relevant test
file. Each test here fails on the break named in its docstring. Fast: the app in this
process, no server."""

from __future__ import annotations

import pytest

from harness import StandIn
from server.channels import load_notice
from server.commands import execute
from server.commands.site_config import read_site
from server.reports.report import incident_report
from server.rules.auth import Identity, command_line
from server.rules.escalation import due_attempts
from server.store.state import active_incident, site_state

MAIJA = Identity(site="demo", role="duty_manager", name="Maija Manager", staff_id=1)
ERIK = 3  # the demo's staff member who reads Swedish


def run(services, name: str, params: dict | None = None, identity=None) -> dict:
    return execute(services, identity or command_line("demo"), "demo", name, params or {})


def test_report_says_how_long_each_channel_was_closed(services, demo_links, clock):
    """Breaks: report.py's durations set to 0."""
    started = run(services, "start_incident", {"kind": "fire"})
    clock["now"] += 90_500
    run(services, "end_incident", {"reason": "false_alarm"})

    with services.store.reading() as db:
        closures = incident_report(db, "demo", started["id"])["closures"]

    assert closures["total_closed_seconds"] == 90.5
    assert {span["closed_seconds"] for span in closures["per_channel"].values()} == {90.5}


def test_clear_eta_takes_the_reopening_time_away(services, demo_links, clock):
    """Breaks: commands/incidents.py ignoring `clear_eta`."""
    eta = "2099-01-15T10:00:00Z"  # a fixed date, far enough ahead
    run(services, "start_incident", {"kind": "fire", "eta": eta})
    run(services, "update_incident", {"clear_eta": True})

    with services.store.reading() as db:
        state = site_state(db, "demo", is_responder=True)
        notice = load_notice(db, "demo")
    assert state["incident"]["eta"] is None
    assert notice.eta is None and notice.state == "closed"


def escalation_site(services, sms: bool) -> None:
    """Escalation after 1 s; Maija (who starts the alarm) and Erik have a phone number."""
    with services.store.reading() as db:
        config = read_site(db, "demo")
    for person in config["staff"]:
        if person["name"] in ("Maija Manager", "Erik Lindqvist"):
            person["phone"] = "+358401234567"
    config["escalation"] = {"seconds": 1, "sms": sms}
    run(services, "import_site", {"config": config})


def due_after(services, seconds: int, sms_ready: bool = True) -> list[tuple[int, int]]:
    with services.store.reading() as db:
        incident = active_incident(db, "demo")
        return due_attempts(db, incident, incident["started_at"] + seconds * 1000, sms_ready)


def test_the_person_who_started_the_alarm_is_not_chased(services, demo_links, clock):
    """Breaks: escalation.py escalating the person who started the incident."""
    escalation_site(services, sms=True)
    run(services, "start_incident", {"kind": "fire"}, MAIJA)

    due = due_after(services, 2)

    assert (ERIK, 2) in due
    assert all(staff_id != MAIJA.staff_id for staff_id, _step in due)


def test_no_sms_when_the_site_has_sms_off_or_the_server_no_twilio(services, demo_links, clock):
    """Breaks: escalation.py sending an SMS with the site's SMS off (or without Twilio)."""
    escalation_site(services, sms=False)
    run(services, "start_incident", {"kind": "fire"}, MAIJA)
    assert due_after(services, 2) == []

    escalation_site(services, sms=True)
    assert due_after(services, 2, sms_ready=False) == []
    assert due_after(services, 2) == [(ERIK, 2)]


class Receiver(StandIn):
    def __init__(self):
        super().__init__()
        from http.server import BaseHTTPRequestHandler

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.record({"path": self.path})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.url = self.serve(Handler)


def test_a_removed_webhook_gets_nothing_more(services, demo_links):
    """Breaks: webhooks.py still delivering to removed webhooks."""
    receiver = Receiver()
    try:
        kept = run(services, "add_webhook", {"url": receiver.url + "/kept"})
        gone = run(services, "add_webhook", {"url": receiver.url + "/gone"})
        run(services, "remove_webhook", {"webhook_id": gone["webhook_id"]})
        run(services, "start_incident", {"kind": "fire"})

        while services.webhooks.deliver_due(services):
            pass

        paths = {request["path"] for request in receiver.received}
        assert paths == {"/kept"}
        with services.store.reading() as db:
            hooks = {row[0] for row in db.execute("SELECT webhook_id FROM webhook_deliveries")}
        assert hooks == {kept["webhook_id"]}
    finally:
        receiver.close()


def test_a_drill_the_panel_ends_is_over_as_a_drill(services, demo_links):
    """Breaks: commands/alarm_panel.py recording a panel-ended drill as `resolved`."""
    from server.rules.auth import alarm_panel

    drill = run(services, "start_incident", {"kind": "fire", "drill": True})
    params = {"event_id": "panel-1", "event": "fire_alarm", "delivery": "signed-1"}
    execute(services, alarm_panel("demo"), "demo", "receive_alarm_signal", params)

    with services.store.reading() as db:
        ended = db.execute("SELECT end_reason FROM incidents WHERE id = ?", [drill["id"]])
        assert ended.fetchone()[0] == "drill_over"


@pytest.mark.parametrize("kind", ["json", "csv", "html", "pdf", "bundle"])
def test_a_guard_gets_no_evidence_report(client, api_as, services, demo_links, kind):
    """Breaks: api/reports.py giving guards (or staff) the evidence report or bundle."""
    started = run(services, "start_incident", {"kind": "fire"})
    run(services, "end_incident", {"reason": "false_alarm"})
    path = f"/api/sites/demo/incidents/{started['id']}/report.{kind}"

    for role in ("guard", "staff"):
        answer = api_as(role).get(path)
        assert answer.status_code == 403, (role, answer.status_code)
    assert api_as("duty_manager").get(path).status_code == 200
