"""Backup requests: raised, declined, answered or cancelled."""

from __future__ import annotations

from . import projects


@projects("backup.requested")
def backup_requested(db, event, p):
    db.execute(
        "INSERT INTO backup_requests (id, site, raised_by, location, note, raised_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [p["backup_id"], event["site"], p["staff_id"], p["location"], p["note"], event["ts"]],
    )


@projects("backup.declined")
def backup_declined(db, event, p):
    db.execute(
        "INSERT INTO backup_declines (backup_id, staff_id, at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [p["backup_id"], p["staff_id"], event["ts"]],
    )


@projects("backup.cancelled", "backup.answered")
def backup_ended(db, event, p):
    db.execute(
        "UPDATE backup_requests SET ended_at = ?, ended_by = ?, outcome = ? WHERE id = ?",
        [event["ts"], p["staff_id"], event["type"].removeprefix("backup."), p["backup_id"]],
    )
