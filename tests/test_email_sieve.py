"""A self-hosted mailbox for real: Debian's Dovecot with Pigeonhole on 127.0.0.1. At the alarm
our vacation script is uploaded and activated over ManageSieve; a customer's message delivered
over LMTP during the incident draws the notice as the reply (caught by an SMTP sink); after the
all-clear the mailbox's own earlier script is active again, exactly, and nobody gets ours."""

from __future__ import annotations

import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from mail_standins import Dovecot

from harness import free_port, unit_settings
from server.channels.mailboxes.managesieve import ManageSieve

BOX = "service@shop.example"
PASSWORD = "pw-Sieve-123"
EARLIER = 'require ["fileinto"];\r\n# the team\'s own rules\r\nif header :contains "subject" "invoice" { fileinto "INBOX"; }\r\n'


class Sink:
    """An SMTP server on 127.0.0.1 that keeps every message (Pigeonhole's vacation replies)."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 OK"


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def dovecot(sink):
    server = Dovecot(sink[1], BOX, PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, dovecot):
    return unit_settings(tmp_path / "exitnow.db").with_changes(
        public_url="https://exitnow.shop.example",
        sieve_host="127.0.0.1",
        sieve_port=dovecot.sieve_port,
        sieve_password=PASSWORD,
    )


def sieve_session(dovecot) -> ManageSieve:
    session = ManageSieve("127.0.0.1", dovecot.sieve_port)
    session.authenticate(BOX, PASSWORD)
    return session


def test_a_customer_who_writes_during_the_incident_gets_the_notice_and_none_after(
    services, api_as, dovecot, sink
):
    messages = sink[0].messages
    team = sieve_session(dovecot)
    team.put("team-rules", EARLIER)
    team.activate("team-rules")
    team.close()
    api_as("admin").post(
        "/api/sites/demo/notice-settings",
        {"settings": {"email": [{"provider": "sieve", "mailbox": BOX}]}},
    )
    manager = api_as("duty_manager")
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})

    assert services.mailboxes.switch_due(services) == 1
    dovecot.deliver("asiakas@example.net", "Tilaus 1234")

    ((to, reply),) = messages
    assert to == ["asiakas@example.net"]
    assert reply["Auto-Submitted"].startswith("auto-replied")
    assert "on suljettu" in reply["Subject"]  # the site's first language first
    plain = reply.get_body(("plain",)).get_content()
    html = reply.get_body(("html",)).get_content()
    for words in ("on suljettu", "är stängd", "is closed", "/status/demo"):
        assert words in plain and words in html, words

    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})
    assert services.mailboxes.switch_due(services) == 1
    dovecot.deliver("toinen@example.net", "Tilaus 5678")

    assert len(messages) == 1  # the reply is sent within the delivery: none came
    team = sieve_session(dovecot)
    assert team.scripts() == {"team-rules": True}  # ours is gone, theirs active
    assert team.get("team-rules") == EARLIER
    team.close()


def test_a_refused_managesieve_login_shows_the_mailbox_not_ready(services, api_as, dovecot):
    """Readiness before any alarm: Dovecot refuses the password (EXITNOW_SIEVE_PASSWORD is
    not the mailbox's), tried in the background."""
    from server.channels.mailboxes.checks import check_due

    api_as("admin").post(
        "/api/sites/demo/notice-settings",
        {"settings": {"email": [{"provider": "sieve", "mailbox": BOX}]}},
    )
    sieve = services.mailboxes.providers["sieve"]
    sieve.settings = services.settings.with_changes(sieve_password="not-" + PASSWORD)

    check_due(services, services.mailboxes.providers)

    manager = api_as("duty_manager")
    (mailbox,) = manager.get("/api/sites/demo/readiness").json["mailboxes"]
    assert (mailbox["ready"], mailbox["reason"]) == (False, "login_refused")


def test_a_mailbox_with_its_own_password_sealed_is_switched_and_the_password_stays_sealed(
    services, api_as, dovecot, event_count
):
    """No EXITNOW_SIEVE_PASSWORD: the admin keeps the mailbox's own ManageSieve password, sealed
    as the webhooks' secrets are; the switch logs in with it, and it is in no log entry, answer,
    state or report in the clear."""
    admin = api_as("admin")
    sieve = services.mailboxes.providers["sieve"]
    sieve.settings = services.settings.with_changes(sieve_password=None)
    admin.post(
        "/api/sites/demo/notice-settings",
        {"settings": {"email": [{"provider": "sieve", "mailbox": BOX}]}},
    )
    before = event_count()
    refused = admin.post("/api/sites/demo/mailbox-passwords", {"mailbox": "x@shop.example"})
    assert (refused.status_code, refused.json["field"]) == (400, "mailbox")
    assert event_count() == before

    kept = admin.post("/api/sites/demo/mailbox-passwords", {"mailbox": BOX, "password": PASSWORD})

    assert kept.status_code == 200 and kept.json["password_set"] is True
    assert PASSWORD not in kept.get_data(as_text=True)
    manager = api_as("duty_manager")
    incident = manager.post("/api/sites/demo/incidents", {"kind": "fire"}).json["id"]
    assert services.mailboxes.switch_due(services) == 1
    team = sieve_session(dovecot)
    assert team.scripts() == {"exitnow": True}  # ours, uploaded with the mailbox's own login
    team.close()
    with services.store.reading() as db:
        stored = "\n".join(
            str(row)
            for table in ("events", "mailbox_passwords")
            for row in db.execute(f"SELECT * FROM {table}")
        )
    assert PASSWORD not in stored and "password_sealed" in stored
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})
    services.mailboxes.switch_due(services)
    report = manager.get(f"/api/sites/demo/incidents/{incident}/report.json")
    assert PASSWORD not in report.get_data(as_text=True)

    forgot = admin.post("/api/sites/demo/mailbox-passwords", {"mailbox": BOX})
    assert forgot.json["password_set"] is False
    with services.store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM mailbox_passwords").fetchone()[0] == 0
