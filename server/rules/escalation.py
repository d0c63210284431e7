"""Escalation during an incident: a person whose phone has not confirmed the alarm (the app's
automatic receipt, `alarm.delivered`) within the site's time gets the push again, and after
twice that time an SMS through Twilio, in their own language, when the site has SMS on, the
server has Twilio's credentials and the person a phone number. Each attempt is an
`alarm.escalated` event, recorded before it is made, once (the command decides inside its
transaction, so several workers never send one twice), and the push or SMS service's answer
follows as `push.sent` or `sms.sent`. The site file's `escalation:` section holds the time and
the SMS switch; a person's `phone` is beside them in `staff:`.
"""

from __future__ import annotations

import json
import logging
import re

logger = logging.getLogger(__name__)
DEFAULTS = {"seconds": 60, "sms": False}
LONGEST_SECONDS = 3600
CHECK_EVERY_SECONDS = 1
PHONE_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164, as Twilio takes it
STEPS = {1: "push", 2: "sms"}  # after the site's time once, and twice


def check_escalation(section, path: tuple = ("escalation",)) -> list[tuple[tuple, str]]:
    """Every problem of a site file's `escalation:` section, as (path, message)."""
    if not isinstance(section, dict):
        return [(path, "a mapping: seconds, sms")]
    problems = []
    for key, value in section.items():
        where = (*path, key)
        if key == "seconds":
            if type(value) is not int or not 1 <= value <= LONGEST_SECONDS:
                problems.append((where, f"whole seconds from 1 to {LONGEST_SECONDS}"))
        elif key == "sms":
            if type(value) is not bool:
                problems.append((where, "true or false"))
        else:
            problems.append((where, "not an escalation setting"))
    return problems


def check_phone(value, path: tuple) -> list[tuple[tuple, str]]:
    if value is None or (isinstance(value, str) and PHONE_NUMBER.fullmatch(value)):
        return []
    return [(path, "a phone number with its country code, e.g. +358401234567")]


def escalation_of(site_settings: str | dict) -> dict:
    """A site's escalation settings with the defaults filled in (from sites.settings)."""
    if isinstance(site_settings, str):
        site_settings = json.loads(site_settings)
    return {**DEFAULTS, **(site_settings.get("escalation") or {})}


def due_attempts(db, incident: dict, now: int, sms_ready: bool) -> list[tuple[int, int]]:
    """(staff_id, step) of every attempt due now: people of the site whose phone has not
    confirmed the alarm, but not the one who started it. A push again needs a subscription, an
    SMS the site's SMS on, the server's Twilio and the person's number."""
    row = db.execute("SELECT settings FROM sites WHERE id = ?", [incident["site"]]).fetchone()
    setting = escalation_of(row[0] if row else "{}")
    steps_due = min((now - incident["started_at"]) // (setting["seconds"] * 1000), len(STEPS))
    if steps_due < 1:
        return []
    people = db.execute(
        """SELECT s.id, s.phone,
                  EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.staff_id = s.id),
                  (SELECT COALESCE(MAX(e.step), 0) FROM escalations e
                   WHERE e.incident_id = ? AND e.staff_id = s.id)
           FROM staff s LEFT JOIN roll_call r ON r.staff_id = s.id AND r.incident_id = ?
           WHERE s.site = ? AND r.delivered_at IS NULL AND s.id <> COALESCE(?, 0)""",
        [incident["id"], incident["id"], incident["site"], incident["started_by"]],
    ).fetchall()
    due = []
    for staff_id, phone, subscribed, done in people:
        for step in range(done + 1, steps_due + 1):
            if STEPS[step] == "push" and subscribed:
                due.append((staff_id, step))
            if STEPS[step] == "sms" and phone and setting["sms"] and sms_ready:
                due.append((staff_id, step))
    return due
