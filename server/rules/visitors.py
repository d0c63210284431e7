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

from ..basics.clock import time_zone
from ..basics.errors import NotFound
from ..basics.names import GATHERING_UNSAID, STAY_INSIDE
from .mustering import visitor_settings

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


VISITOR_ASKS = ("leave", "stay", "follow_staff")


def visitor_asks(kind: str) -> str:
    """What an incident of `kind` asks of a visitor: to leave, to stay inside (shelter), or,
    when nothing may say where people gather (a threat), to follow the staff."""
    if kind in STAY_INSIDE:
        return "stay"
    return "follow_staff" if kind in GATHERING_UNSAID else "leave"
