"""The building's fire-alarm panel: what each of its signals does on a site (the policy, the
`alarm_panel:` section of the site file), and its webhook secrets, kept sealed.

The panel (or `python -m server.bridge` beside a panel that has only a relay) sends signed
webhooks (server/basics/signing.py) to POST /hooks/alarm/<site> (server/api/hooks.py), which runs the
commands in server/commands/alarm_panel.py as the panel's own actor (auth.alarm_panel).
"""

from __future__ import annotations

import json
import logging

from cryptography.exceptions import InvalidTag

from ..basics import sealed
from ..basics.clock import iso
from ..basics.names import KINDS

logger = logging.getLogger(__name__)

# What a panel can say, besides its heartbeat.
SIGNALS = ("fire_alarm", "pre_alarm", "fault", "reset", "test")
HEARTBEAT = "heartbeat"

# What a signal may do on a site: evacuate (start the incident at once), countdown (tell the
# duty managers and start it when nobody confirms or dismisses in time), notify (tell the
# duty managers), log (only keep it in the log). A reset never ends an incident: the duty
# manager, who can see the building, calls the all-clear.
ACTIONS = {
    "fire_alarm": ("evacuate", "countdown", "notify"),
    "pre_alarm": ("countdown", "evacuate", "notify"),
    "fault": ("notify", "log"),
    "reset": ("notify", "log"),
    "test": ("notify", "log"),
}

DEFAULT_POLICY = {
    "fire_alarm": "evacuate",
    "pre_alarm": "countdown",
    "fault": "notify",
    "reset": "notify",
    "test": "notify",
    "countdown_seconds": 120,  # how long a pre-alarm waits for a duty manager
    "kind": "fire",  # the kind of incident the panel starts
}
LONGEST_COUNTDOWN_SECONDS = 3600

# A bridge that misses this many of its own heartbeats in a row is "link down".
MISSED_HEARTBEATS = 3


def check_policy(policy, path: tuple = ("alarm_panel",)) -> list[tuple[tuple, str]]:
    """Every problem of a site file's `alarm_panel:` section, as (path, message)."""
    if not isinstance(policy, dict):
        return [(path, "a mapping: fire_alarm, pre_alarm, fault, reset, test, countdown_seconds")]
    problems = []
    for key, value in policy.items():
        where = (*path, key)
        if key in ACTIONS:
            if value not in ACTIONS[key]:
                problems.append((where, f"one of: {', '.join(ACTIONS[key])}"))
        elif key == "countdown_seconds":
            if type(value) is not int or not 1 <= value <= LONGEST_COUNTDOWN_SECONDS:
                problems.append((where, f"whole seconds from 1 to {LONGEST_COUNTDOWN_SECONDS}"))
        elif key == "kind":
            if value not in KINDS:
                problems.append((where, f"one of: {', '.join(KINDS)}"))
        else:
            problems.append((where, "not an alarm panel setting"))
    return problems


def policy_of(site_settings: str | dict) -> dict:
    """A site's policy with every default filled in (from sites.settings)."""
    if isinstance(site_settings, str):
        site_settings = json.loads(site_settings)
    return {**DEFAULT_POLICY, **(site_settings.get("alarm_panel") or {})}


def site_policy(db, site: str) -> dict:
    row = db.execute("SELECT settings FROM sites WHERE id = ?", [site]).fetchone()
    return policy_of(row[0] if row else "{}")


# --- the webhook secrets ---------------------------------------------------------------------
# A verifier needs the secret itself, not a digest: it is kept sealed (AES-GCM, server/basics/sealed.py)
# under a key derived from the server's secret, so a copy of the database or the log alone
# cannot sign a fire alarm.


def _context(site: str, secret_id: int) -> str:
    return f"alarm-panel-secret:{site}:{secret_id}"


def seal_secret(server_secret: str, site: str, secret_id: int, secret: str) -> str:
    return sealed.seal(server_secret, _context(site, secret_id), secret)


def valid_secrets(db, server_secret: str, site: str) -> list[str]:
    """The site's secrets a webhook may be signed with now, newest first (two during a
    rotation, none before `flask --app server panel-secret`)."""
    rows = db.execute(
        "SELECT id, sealed FROM alarm_panel_secrets WHERE site = ? AND retired_at IS NULL "
        "ORDER BY id DESC",
        [site],
    ).fetchall()
    secrets = []
    for secret_id, sealed_secret in rows:
        try:
            secrets.append(sealed.unseal(server_secret, _context(site, secret_id), sealed_secret))
        except InvalidTag:  # sealed under another server secret: make a new one
            logger.error("alarm panel secret %s of site %s cannot be unsealed", secret_id, site)
    return secrets


# --- what the console shows, and what the timers look for --------------------------------

NOTES_SHOWN = 5
NOTES_FOR_MS = 24 * 3600_000


def panel_view(db, site: str, now: int) -> dict:
    """The panel as duty managers see it: its link, the pre-alarm counting down (if any) and
    its latest notes (faults, tests, resets) of the last day, newest first."""
    link = next(db.query("SELECT * FROM alarm_panel_links WHERE site = ?", [site]), None)
    waiting = next(
        db.query("SELECT * FROM pre_alarms WHERE site = ? AND ended_at IS NULL", [site]), None
    )
    notes = db.query(
        """SELECT * FROM alarm_panel_signals WHERE site = ? AND action = 'notify'
           AND received_at >= ? ORDER BY seq DESC LIMIT ?""",
        [site, now - NOTES_FOR_MS, NOTES_SHOWN],
    )
    return {
        "link": link and {"state": link["state"], "since": iso(link["since"])},
        "pre_alarm": waiting
        and {
            "id": waiting["id"],
            "detail": waiting["detail"],
            "started_at": iso(waiting["started_at"]),
            "deadline": iso(waiting["deadline"]),
        },
        "notes": [
            {"event": n["signal"], "detail": n["detail"], "at": iso(n["received_at"])}
            for n in notes
        ],
    }


def sites_past_deadline(db, now: int) -> list[str]:
    """Sites whose pre-alarm nobody answered in time."""
    rows = db.execute("SELECT site FROM pre_alarms WHERE ended_at IS NULL AND deadline <= ?", [now])
    return [row[0] for row in rows]


def sites_gone_silent(db, now: int) -> list[str]:
    """Sites whose panel link is up but whose heartbeat stopped MISSED_HEARTBEATS intervals ago."""
    rows = db.execute(
        """SELECT l.site FROM alarm_panel_links l
           LEFT JOIN alarm_panel_heartbeats h ON h.site = l.site
           WHERE l.state = 'up'
           AND CASE WHEN h.received_at > l.since THEN h.received_at ELSE l.since END
               + ? * l.interval_seconds * 1000 <= ?""",
        [MISSED_HEARTBEATS, now],
    )
    return [row[0] for row in rows]
