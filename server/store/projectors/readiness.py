"""Phone readiness: what the push service answered, and the test alarms."""

from __future__ import annotations

from ..sql import replace_into
from . import projects, staff_id_of

OUTCOME_COLUMNS = ("subscription_id", "site", "staff_id", "credential_id", "outcome")
OUTCOME_COLUMNS += ("status", "purpose", "at")
REPLACE_OUTCOME = replace_into("push_outcomes", OUTCOME_COLUMNS, key=["subscription_id"])


@projects("push.sent")
def push_sent(db, event, p):
    """The push service's answer for each subscription; a test alarm's and an escalation's
    pushes also mark the person's test and attempt."""
    for result in p["results"]:
        db.execute(
            REPLACE_OUTCOME,
            [
                result["subscription_id"],
                event["site"],
                result["staff_id"],
                result.get("credential_id"),
                result["outcome"],
                result.get("status"),
                p["purpose"],
                event["ts"],
            ],
        )
    best = _best_outcomes(p["results"])
    if p["purpose"] == "test":
        for staff_id, outcome in best.items():
            db.execute(
                "UPDATE test_alarm_phones SET pushed_at = ?, outcome = ? "
                "WHERE test_id = ? AND staff_id = ?",
                [event["ts"], outcome, p["test_id"], staff_id],
            )
    if p["purpose"] == "escalation":
        for staff_id, outcome in best.items():
            db.execute(
                "UPDATE escalations SET outcome = ? "
                "WHERE incident_id = ? AND staff_id = ? AND channel = 'push' AND step = ?",
                [outcome, p["incident_id"], staff_id, p["step"]],
            )


def _best_outcomes(results: list[dict]) -> dict[int, str]:
    """Per person, the best answer over their subscriptions: one phone that can ring is enough."""
    rank = {"accepted": 0, "failed": 1, "expired": 2}
    best: dict[int, str] = {}
    for result in results:
        known = best.get(result["staff_id"])
        if known is None or rank[result["outcome"]] < rank[known]:
            best[result["staff_id"]] = result["outcome"]
    return best


@projects("test_alarm.sent")
def test_alarm_sent(db, event, p):
    db.execute(
        "INSERT INTO test_alarms (id, site, staff_id, sent_at, sent_by) VALUES (?, ?, ?, ?, ?)",
        [p["test_id"], event["site"], p["staff_id"], event["ts"], staff_id_of(event)],
    )
    for staff_id in p["staff_ids"]:
        db.execute(
            "INSERT INTO test_alarm_phones (test_id, staff_id) VALUES (?, ?)",
            [p["test_id"], staff_id],
        )


@projects("test_alarm.answered")
def test_alarm_answered(db, event, p):
    db.execute(
        "UPDATE test_alarm_phones SET answered_at = COALESCE(answered_at, ?) "
        "WHERE test_id = ? AND staff_id = ?",
        [event["ts"], p["test_id"], p["staff_id"]],
    )
