"""The roll call: each phone's receipt, "got it" and "I am safe"."""

from __future__ import annotations

from . import projects
from .mustering import account

# Each roll-call step also proves the ones before it: "safe" means the alarm arrived too.
ROLL_CALL_COLUMNS = {
    "alarm.delivered": ("delivered_at",),
    "alarm.acknowledged": ("acknowledged_at", "delivered_at"),
    "staff.safe": ("safe_at", "acknowledged_at", "delivered_at"),
}


@projects(*ROLL_CALL_COLUMNS)
def roll_call_marked(db, event, p):
    key = [p["incident_id"], p["staff_id"]]
    db.execute(
        "INSERT INTO roll_call (incident_id, staff_id) VALUES (?, ?) ON CONFLICT DO NOTHING", key
    )
    for column in ROLL_CALL_COLUMNS[event["type"]]:  # names from this module, never input
        db.execute(
            f"UPDATE roll_call SET {column} = COALESCE({column}, ?) "
            "WHERE incident_id = ? AND staff_id = ?",
            [event["ts"], *key],
        )
    if event["type"] == "staff.safe":  # by their own phone, or the sign's QR code
        account(db, event, p, "staff", p["staff_id"], p.get("how", "phone"))
