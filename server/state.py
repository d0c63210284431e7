"""The current-state tables, read as views: site state, incident, zones, roll call.

Also decides who may see which event: backup requests go only to responders; everyone else
still receives the sequence number, redacted, so that a gap always means a lost message.
"""

from __future__ import annotations

import json

from . import log
from .clock import iso
from .events import RESPONDER_ONLY_EVENTS


def site_row(db, site: str) -> dict | None:
    rows = list(db.query("SELECT * FROM sites WHERE id = ?", [site]))
    return rows[0] if rows else None


def active_incident(db, site: str) -> dict | None:
    rows = list(db.query("SELECT * FROM incidents WHERE site = ? AND ended_at IS NULL", [site]))
    return rows[0] if rows else None


def incident_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "site": row["site"],
        "kind": row["kind"],
        "drill": bool(row["drill"]),
        "message": row["message"],
        "eta": iso(row["eta"]),
        "started_at": iso(row["started_at"]),
        "started_by": row["started_by"],
        "start_seq": row["start_seq"],
        "ended_at": iso(row["ended_at"]),
        "ended_by": row["ended_by"],
        "end_reason": row["end_reason"],
        "end_seq": row["end_seq"],
    }


def zone_views(db, site: str, incident_id: int | None) -> list[dict]:
    """Every zone of the site with its sweep status in the incident (unchecked when none)."""
    rows = db.query(
        """SELECT z.id, z.name, z.exits, z.assembly_point, w.status, w.staff_id, w.note,
                  w.updated_at, s.name AS staff_name
           FROM zones z
           LEFT JOIN sweeps w ON w.zone = z.id AND w.incident_id = ?
           LEFT JOIN staff s ON s.id = w.staff_id
           WHERE z.site = ? ORDER BY z.position, z.id""",
        [incident_id, site],
    )
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "exits": json.loads(r["exits"]),
            "assembly_point": r["assembly_point"],
            "sweep": r["status"] or "unchecked",
            "by": r["staff_id"],
            "by_name": r["staff_name"],
            "note": r["note"],
            "updated_at": iso(r["updated_at"]),
        }
        for r in rows
    ]


def roll_call_view(db, site: str, incident_id: int | None) -> dict:
    """Each staff member with whether the alarm reached them, they acknowledged, they are safe."""
    rows = list(
        db.query(
            """SELECT s.id, s.name, s.role, s.home_zone,
                      EXISTS (SELECT 1 FROM credentials c WHERE c.staff_id = s.id
                              AND c.revoked_at IS NULL) AS enrolled,
                      r.delivered_at, r.acknowledged_at, r.safe_at
               FROM staff s
               LEFT JOIN roll_call r ON r.staff_id = s.id AND r.incident_id = ?
               WHERE s.site = ? ORDER BY s.name, s.id""",
            [incident_id, site],
        )
    )
    people = [
        {
            "staff_id": r["id"],
            "name": r["name"],
            "role": r["role"],
            "home_zone": r["home_zone"],
            "enrolled": bool(r["enrolled"]),
            "delivered_at": iso(r["delivered_at"]),
            "acknowledged_at": iso(r["acknowledged_at"]),
            "safe_at": iso(r["safe_at"]),
        }
        for r in rows
    ]
    return {
        "enrolled": sum(p["enrolled"] for p in people),
        "delivered": sum(p["delivered_at"] is not None for p in people),
        "acknowledged": sum(p["acknowledged_at"] is not None for p in people),
        "safe": sum(p["safe_at"] is not None for p in people),
        "staff": people,
    }


def help_request_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "incident_id": row["incident_id"],
        "raised_by": row["raised_by"],
        "location": row["location"],
        "note": row["note"],
        "raised_at": iso(row["raised_at"]),
        "resolved_at": iso(row["resolved_at"]),
        "resolved_by": row["resolved_by"],
    }


def backup_request_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "raised_by": row["raised_by"],
        "location": row["location"],
        "note": row["note"],
        "raised_at": iso(row["raised_at"]),
        "ended_at": iso(row["ended_at"]),
        "outcome": row["outcome"],
    }


def site_state(db, site: str, is_responder: bool) -> dict:
    """The whole state of a site as one person may see it, at one sequence number."""
    row = site_row(db, site)
    incident = active_incident(db, site)
    incident_id = incident["id"] if incident else None
    state = {
        "site": {
            "id": row["id"],
            "name": row["name"],
            "timezone": row["timezone"],
            "languages": json.loads(row["languages"]),
        },
        "seq": log.latest_seq(db, site),
        "incident": incident_view(incident) if incident else None,
        "zones": zone_views(db, site, incident_id),
        "roll_call": roll_call_view(db, site, incident_id),
        "help_requests": [
            help_request_view(r)
            for r in db.query(
                "SELECT * FROM help_requests WHERE incident_id = ? AND resolved_at IS NULL ORDER BY id",
                [incident_id],
            )
        ],
    }
    if is_responder:
        state["backup_requests"] = [
            backup_request_view(r)
            for r in db.query(
                "SELECT * FROM backup_requests WHERE site = ? AND ended_at IS NULL ORDER BY id",
                [site],
            )
        ]
    return state


def event_message(event: dict) -> dict:
    """An event as clients receive it."""
    return {
        "seq": event["seq"],
        "type": event["type"],
        "ts": iso(event["ts"]),
        "actor": event["actor"],
        "payload": event["payload"],
    }


def event_message_for(is_responder: bool, event: dict) -> dict:
    """The event, or only its number when the reader may not read it."""
    if event["type"] in RESPONDER_ONLY_EVENTS and not is_responder:
        return {"seq": event["seq"], "type": "redacted"}
    return event_message(event)
