"""Escalation attempts and the SMS service's answers."""

from __future__ import annotations

from . import projects


@projects("alarm.escalated")
def alarm_escalated(db, event, p):
    db.execute(
        "INSERT INTO escalations (incident_id, staff_id, step, channel, at) VALUES (?, ?, ?, ?, ?)",
        [p["incident_id"], p["staff_id"], p["step"], p["channel"], event["ts"]],
    )


@projects("sms.sent")
def sms_sent(db, event, p):
    db.execute(
        "UPDATE escalations SET outcome = ?, status = ? "
        "WHERE incident_id = ? AND staff_id = ? AND step = ?",
        [p["outcome"], p.get("status"), p["incident_id"], p["staff_id"], p["step"]],
    )
