"""An incident's start, its updates and its end."""

from __future__ import annotations

from . import ms_or_none, projects, staff_id_of


@projects("incident.started")
def incident_started(db, event, p):
    db.execute(
        """INSERT INTO incidents
           (id, site, kind, drill, message, eta, started_at, started_by, start_seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            p["incident_id"],
            event["site"],
            p["kind"],
            int(p["drill"]),
            p["message"],
            ms_or_none(p["eta"]),
            event["ts"],
            staff_id_of(event),
            event["seq"],
        ],
    )
    db.execute(
        "INSERT INTO sweeps (incident_id, zone, status) "
        "SELECT ?, id, 'unchecked' FROM zones WHERE site = ?",
        [p["incident_id"], event["site"]],
    )


@projects("incident.updated")
def incident_updated(db, event, p):
    db.execute(
        "UPDATE incidents SET eta = ?, message = ? WHERE id = ?",
        [ms_or_none(p["eta"]), p["message"], p["incident_id"]],
    )


@projects("incident.ended")
def incident_ended(db, event, p):
    db.execute(
        "UPDATE incidents SET ended_at = ?, ended_by = ?, end_reason = ?, end_seq = ? WHERE id = ?",
        [event["ts"], staff_id_of(event), p["reason"], event["seq"], p["incident_id"]],
    )
