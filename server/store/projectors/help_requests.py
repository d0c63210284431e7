"""Help requests and their resolution."""

from __future__ import annotations

from . import projects, staff_id_of


@projects("help.requested")
def help_requested(db, event, p):
    db.execute(
        "INSERT INTO help_requests (id, incident_id, raised_by, location, note, raised_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            p["help_id"],
            p["incident_id"],
            p.get("staff_id", staff_id_of(event)),
            p["location"],
            p["note"],
            event["ts"],
        ],
    )


@projects("help.resolved")
def help_resolved(db, event, p):
    db.execute(
        "UPDATE help_requests SET resolved_at = ?, resolved_by = ? WHERE id = ?",
        [event["ts"], p["staff_id"], p["help_id"]],
    )
