"""The roll call: each phone's receipt, "got it" and "I am safe"."""

from __future__ import annotations

from ..sql import write_later
from . import projects
from .mustering import account

# Each roll-call step also proves the ones before it: "safe" means the alarm arrived too.
ROLL_CALL_COLUMNS = {
    "alarm.delivered": ("delivered_at",),
    "alarm.acknowledged": ("acknowledged_at", "delivered_at"),
    "staff.safe": ("safe_at", "acknowledged_at", "delivered_at"),
}


def _marking(columns: tuple[str, ...]) -> str:
    """One statement (one round trip on PostgreSQL): the row made, or its times kept where set."""
    kept = ", ".join(
        f"{column} = COALESCE(roll_call.{column}, excluded.{column})" for column in columns
    )
    return (
        f"INSERT INTO roll_call (incident_id, staff_id, {', '.join(columns)}) "
        f"VALUES (?, ?{', ?' * len(columns)}) "
        f"ON CONFLICT (incident_id, staff_id) DO UPDATE SET {kept}"
    )


MARKING = {type_: _marking(columns) for type_, columns in ROLL_CALL_COLUMNS.items()}


@projects(*ROLL_CALL_COLUMNS)
def roll_call_marked(db, event, p):
    times = [event["ts"]] * len(ROLL_CALL_COLUMNS[event["type"]])
    write_later(db, MARKING[event["type"]], [p["incident_id"], p["staff_id"], *times])
    if event["type"] == "staff.safe":  # by their own phone, or the sign's QR code
        account(db, event, p, "staff", p["staff_id"], p.get("how", "phone"))
