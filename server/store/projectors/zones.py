"""Zone sweeps, and the requests to sweep one."""

from __future__ import annotations

from . import projects

SWEEP_STATUS = {
    "zone.claimed": "claimed",
    "zone.assigned": "claimed",
    "zone.cleared": "clear",
    "zone.blocked": "blocked",
}


@projects(*SWEEP_STATUS)
def zone_swept(db, event, p):
    # Whoever sweeps it now answers any request to sweep it.
    db.execute(
        "INSERT INTO sweeps (incident_id, zone, status, staff_id, note, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, zone) DO UPDATE SET "
        "status = excluded.status, staff_id = excluded.staff_id, note = excluded.note, "
        "updated_at = excluded.updated_at, asked = NULL, declined = NULL",
        [
            p["incident_id"],
            p["zone"],
            SWEEP_STATUS[event["type"]],
            p["staff_id"],
            p["note"],
            event["ts"],
        ],
    )


# A request to sweep changes nobody's sweep until it is answered: the zone stays as it was
# (unchecked or blocked) and only names who was asked, then who declined.
@projects("zone.sweep_requested", "zone.sweep_declined")
def zone_sweep_asked(db, event, p):
    asked, declined = (
        (p["staff_id"], None) if event["type"] == "zone.sweep_requested" else (None, p["staff_id"])
    )
    db.execute(
        "INSERT INTO sweeps (incident_id, zone, status, asked, declined, updated_at) "
        "VALUES (?, ?, 'unchecked', ?, ?, ?) ON CONFLICT (incident_id, zone) DO UPDATE SET "
        "asked = excluded.asked, declined = excluded.declined, updated_at = excluded.updated_at",
        [p["incident_id"], p["zone"], asked, declined, event["ts"]],
    )
