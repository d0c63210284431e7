"""A site's privacy settings (the site file's `privacy`): who is responsible, where the full
notice is, and how long personal data is kept; and what is held about one person, for them
to see (GDPR Art. 15). Erasing is the commands' (server/commands/privacy.py)."""

from __future__ import annotations

import json

from ..basics.clock import iso

DAY_MS = 24 * 3600 * 1000
# How long personal data is kept, in days, unless the site file says otherwise (docs/privacy.md:
# Personal data). The evidence of an incident (times, channels, counts, roles) is kept as
# long as the site keeps reports; only what names or describes people ends.
RETENTION_DEFAULTS = {
    "visitors_days": 30,  # a visitor's name, company and phone, after they signed out
    "incidents_days": 365,  # notes and locations people wrote, after the incident ended
    "devices_days": 90,  # a phone's push subscription, after it stopped; presence records
}
TEXT_FIELDS = ("controller", "notice_url")


def check_privacy(section, path: tuple = ("privacy",)) -> list[tuple[tuple, str]]:
    """Every problem of a site file's `privacy:` section, as (path, message)."""
    if not isinstance(section, dict):
        return [(path, "a mapping: controller, notice_url, " + ", ".join(RETENTION_DEFAULTS))]
    problems = []
    for name, value in section.items():
        if name in RETENTION_DEFAULTS:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
                problems.append(((*path, name), "a whole number of days, 1 to 3650"))
        elif name in TEXT_FIELDS:
            if not isinstance(value, str) or not 1 <= len(value) <= 500:
                problems.append(((*path, name), "text of 1 to 500 characters"))
            elif name == "notice_url" and not value.startswith("https://"):
                problems.append(((*path, name), "an https:// address"))
        else:
            problems.append(((*path, name), "not a privacy setting"))
    return problems


def privacy_of(site_settings: str | dict) -> dict:
    """The site's privacy settings with the defaults filled in."""
    settings = json.loads(site_settings) if isinstance(site_settings, str) else site_settings
    return {
        "controller": None,
        "notice_url": None,
        **RETENTION_DEFAULTS,
        **settings.get("privacy", {}),
    }


def held_about_staff(db, staff_id: int) -> dict:
    """Everything the state holds about a staff member, as they may see it."""
    person = dict(next(db.query("SELECT * FROM staff WHERE id = ?", [staff_id])))
    devices = db.query(
        "SELECT id, kind, created_at, revoked_at FROM credentials WHERE staff_id = ? ORDER BY id",
        [staff_id],
    )
    pushes = db.query(
        "SELECT id, credential_id, created_at, endpoint FROM push_subscriptions "
        "WHERE staff_id = ? ORDER BY id",
        [staff_id],
    )
    roll_calls = db.query(
        "SELECT * FROM roll_call WHERE staff_id = ? ORDER BY incident_id", [staff_id]
    )
    helps = db.query("SELECT * FROM help_requests WHERE raised_by = ? ORDER BY id", [staff_id])
    backups = db.query("SELECT * FROM backup_requests WHERE raised_by = ? ORDER BY id", [staff_id])
    sweeps = db.query("SELECT * FROM sweeps WHERE staff_id = ? ORDER BY incident_id", [staff_id])
    presence = db.query(
        "SELECT connected_at, last_seen_at, app_version, notifications FROM device_presence "
        "WHERE staff_id = ?",
        [staff_id],
    )
    return {
        "person": {
            "staff_id": staff_id,
            "site": person["site"],
            "name": person["name"],
            "role": person["role"],
            "home_zone": person["home_zone"],
            "language": person["language"],
            "phone": person["phone"],
            "marshal": bool(person["marshal"]),
            "added_at": iso(person["created_at"]),
        },
        "devices": [
            {
                "credential_id": d["id"],
                "kind": d["kind"],
                "enrolled_at": iso(d["created_at"]),
                "revoked_at": iso(d["revoked_at"]),
            }
            for d in devices
        ],
        # The push service (and so the phone's maker) each subscription goes through.
        "push_subscriptions": [
            {
                "credential_id": p["credential_id"],
                "subscribed_at": iso(p["created_at"]),
                "push_service": p["endpoint"].split("/")[2],
            }
            for p in pushes
        ],
        "presence": [
            {**p, "connected_at": iso(p["connected_at"]), "last_seen_at": iso(p["last_seen_at"])}
            for p in presence
        ],
        "roll_calls": [
            {
                "incident_id": r["incident_id"],
                **{k: iso(r[k]) for k in ("delivered_at", "acknowledged_at", "safe_at")},
            }
            for r in roll_calls
        ],
        "help_requests": [_with_times(h, "raised_at", "resolved_at") for h in helps],
        "backup_requests": [_with_times(b, "raised_at", "ended_at") for b in backups],
        "sweeps": [_with_times(s, "updated_at") for s in sweeps],
        "accounted": _person_rows(db, "accounted", "staff", staff_id),
        "reported_inside": _person_rows(db, "reported_inside", "staff", staff_id),
    }


def _with_times(row: dict, *times: str) -> dict:
    return {**row, **{name: iso(row[name]) for name in times}}


def _person_rows(db, table: str, kind: str, person_id: int) -> list[dict]:
    return [
        _with_times(row, "at")
        for row in db.query(
            f"SELECT * FROM {table} WHERE person = ? AND person_id = ? ORDER BY incident_id",
            [kind, person_id],
        )
    ]
