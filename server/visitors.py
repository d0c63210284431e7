"""Visitors and contractors: their personal link, the alarm's SMS to them, and the day's end.

A visitor signed in at the desk or at the entrance keeps a personal link (`/visit/<site>#<token>`)
to sign out, and during an alarm to say "I am out" or "I am safe". The token is made from the
server's secret and a random nonce the log keeps, so the log alone cannot make one, and a
rebuilt database still recognises every link. A visitor who gave a phone number gets an SMS
when an alarm starts (or when they sign in during one), in their language, saying what the
incident's kind asks of them; the SMS service's answer is logged as `visitor.texted`.
Visitors still signed in at the site's closing time are signed out by the server.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from .clock import time_zone
from .errors import NotFound
from .mustering import NEVER, VISITORS_ON_ROLL, visitor_settings
from .names import DEFAULT_LANGUAGE, GATHERING_UNSAID, LANGUAGES, STAY_INSIDE
from .notices.texts import default_texts
from .settings import secret_key_for
from .sms import TextSender, sms_configured

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


def new_link_nonce() -> str:
    return secrets.token_urlsafe(16)


def link_token(secret: str, visitor_id: int, nonce: str) -> str:
    """The visitor's personal token: their id and a MAC only this deployment can make."""
    mac = hmac.new(secret.encode(), f"visitor-link:{visitor_id}:{nonce}".encode(), hashlib.sha256)
    return f"{visitor_id}.{mac.hexdigest()[:32]}"


def link_path(site: str, token: str) -> str:
    # In the fragment: the browser never sends it, so no server or proxy log holds it.
    return f"/visit/{site}#{token}"


def visitor_by_token(db, secret: str, site: str, token) -> dict:
    """The visitor row a personal link belongs to, or a 404 that says nothing more."""
    unknown = NotFound("This visitor link is not valid here. Ask at the reception.")
    if not isinstance(token, str) or len(token) > 100 or "." not in token:
        raise unknown
    number, _, _mac = token.partition(".")
    if not number.isdecimal() or len(number) > 18:
        raise unknown
    row = next(
        db.query("SELECT * FROM visitors WHERE id = ? AND site = ?", [int(number), site]), None
    )
    if row is None or not hmac.compare_digest(
        link_token(secret, row["id"], row["link_nonce"]), token
    ):
        raise unknown
    return row


def closing_moment(signed_in_at: int, closes_at: str, zone_name: str | None) -> int:
    """The first closing time (the site's local HH:MM) after a visitor signed in, in ms."""
    zone = time_zone(zone_name)
    arrived = datetime.fromtimestamp(signed_in_at / 1000, tz=zone)
    hours, minutes = (int(part) for part in closes_at.split(":"))
    closing = datetime.combine(arrived.date(), time(hours, minutes), tzinfo=zone)
    if closing <= arrived:
        closing = datetime.combine(arrived.date() + timedelta(days=1), time(hours, minutes), zone)
    return int(closing.timestamp() * 1000)


def due_out(db, site: str, now: int) -> list[int]:
    """The visitors of `site` still signed in past their day's closing time."""
    row = db.execute("SELECT settings, timezone FROM sites WHERE id = ?", [site]).fetchone()
    closes_at = visitor_settings(row[0])["closes_at"]
    return [
        visitor_id
        for visitor_id, signed_in_at in db.execute(
            "SELECT id, signed_in_at FROM visitors WHERE site = ? AND left_at IS NULL", [site]
        ).fetchall()
        if closing_moment(signed_in_at, closes_at, row[1]) <= now
    ]


class VisitorTexts(TextSender):
    """After commit: the alarm's SMS to every visitor on site who gave a number, sent in the
    background; each answer is logged by `record_outcome(site, outcome)`."""

    def after_commit(self, events: list[dict]) -> None:
        if not sms_configured(self.settings):
            return
        for event in events:
            is_alarm = event["type"] == "incident.started"
            joined = event["type"] == "visitor.signed_in" and event["payload"].get("incident_id")
            if is_alarm or joined:
                self.socketio.start_background_task(self.send_for, event)

    def send_for(self, event: dict) -> int:
        """Text every visitor the event concerns; return how many messages went out."""
        messages = self._messages(event)
        for visitor_id, incident_id, to, text in messages:
            outcome = self.sms.send(to, text)
            outcome |= {"incident_id": incident_id, "visitor_id": visitor_id}
            try:
                self.record_outcome(event["site"], outcome)
            except Exception:
                logger.exception("could not log the answer to a visitor's SMS")
        return len(messages)

    def _messages(self, event: dict) -> list[tuple[int, int, str, str]]:
        site, payload = event["site"], event["payload"]
        secret = secret_key_for(self.settings)
        with self.store.reading() as db:
            incident = next(
                db.query(
                    "SELECT * FROM incidents WHERE id = ? AND ended_at IS NULL",
                    [payload["incident_id"]],
                ),
                None,
            )
            if incident is None:  # over already
                return []
            only = "AND v.id = :visitor_id" if event["type"] == "visitor.signed_in" else ""
            rows = list(
                db.query(
                    f"""SELECT v.*, z.assembly_point AS point_id, p.name AS point
                        FROM visitors v LEFT JOIN staff h ON h.id = v.host_staff_id
                        LEFT JOIN zones z ON z.site = v.site AND z.id = h.home_zone
                        LEFT JOIN assembly_points p ON p.site = v.site AND p.id = z.assembly_point
                        WHERE {VISITORS_ON_ROLL} AND v.left_at IS NULL AND v.phone IS NOT NULL
                        {only}""",
                    {
                        "site": site,
                        "since": incident["started_at"],
                        "until": NEVER,
                        "visitor_id": payload.get("visitor_id"),
                    },
                )
            )
            site_name = db.execute("SELECT name FROM sites WHERE id = ?", [site]).fetchone()[0]
            points = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM assembly_points WHERE site = ? ORDER BY position, id", [site]
                )
            ]
        return [
            (
                row["id"],
                incident["id"],
                row["phone"],
                visitor_text(incident, row, site_name, points, self._link(site, secret, row)),
            )
            for row in rows
        ]

    def _link(self, site: str, secret: str, row: dict) -> str:
        token = link_token(secret, row["id"], row["link_nonce"])
        return self.settings.base_url + link_path(site, token)


VISITOR_ASKS = ("leave", "stay", "follow_staff")


def visitor_asks(kind: str) -> str:
    """What an incident of `kind` asks of a visitor: to leave, to stay inside (shelter), or,
    when nothing may say where people gather (a threat), to follow the staff."""
    if kind in STAY_INSIDE:
        return "stay"
    return "follow_staff" if kind in GATHERING_UNSAID else "leave"


def visitor_text(
    incident: dict, visitor: dict, site_name: str, points: list[str], link: str
) -> str:
    """The SMS in the visitor's language: what the kind asks, and their personal link."""
    language = visitor["language"] if visitor["language"] in LANGUAGES else DEFAULT_LANGUAGE
    texts = default_texts(language)
    words = texts["sms_visitor"]
    title = (texts["drill"] if incident["drill"] else texts["alarm"])[incident["kind"]]
    asks = visitor_asks(incident["kind"])
    if asks == "leave":
        where = visitor["point"] or ", ".join(points)
        action = words["leave_to"].format(places=where) if where else words["leave"]
    else:
        action = words[asks]
    return words["message"].format(title=title, site=site_name, action=action, link=link)
