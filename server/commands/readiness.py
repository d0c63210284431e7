"""Phone readiness before the day: a test alarm (silent to the site: no incident, no public
notice) to one person's phones or everyone's, each phone's answer to it, and what the push
service answered for each subscription, whatever the push was for."""

from __future__ import annotations

from ..basics.errors import Invalid, NotFound
from ..rules.auth import ADMINS, EVERYONE, MANAGERS
from . import Route, Tx, command
from .fields import Field

# Why a round of pushes went out (push.sent's `purpose`), with the ids its context names.
PURPOSES = {
    "alarm": ("incident_id",),
    "all_clear": ("incident_id",),
    "backup": ("backup_id",),
    "pre_alarm": ("pre_alarm_id",),
    "test": ("test_id",),
    "escalation": ("incident_id", "step"),
}
OUTCOMES = ("accepted", "failed", "expired")


@command(
    "send_test_alarm",
    MANAGERS,
    route=Route(
        "/sites/<site>/test-alarms",
        "Send a test alarm to one person's phones or everyone's; silent to the site "
        "(duty manager, admin)",
        201,
    ),
    staff_id=Field("int"),
)
def send_test_alarm(tx: Tx, params: dict) -> dict:
    """Everyone on the site (or the one person) is asked; the pushes follow the commit, and
    each phone's service worker answers with `answer_test_alarm`."""
    if params["staff_id"] is None:
        staff_ids = [
            row[0]
            for row in tx.db.execute("SELECT id FROM staff WHERE site = ? ORDER BY id", [tx.site])
        ]
    else:
        found = tx.db.execute(
            "SELECT 1 FROM staff WHERE id = ? AND site = ?", [params["staff_id"], tx.site]
        ).fetchone()
        if found is None:
            raise NotFound(f"There is no staff member {params['staff_id']} on this site.")
        staff_ids = [params["staff_id"]]
    test_id = tx.new_id("test_alarms")
    event = tx.record(
        "test_alarm.sent",
        {"test_id": test_id, "staff_id": params["staff_id"], "staff_ids": staff_ids},
    )
    return tx.changed(event, test_id=test_id, people=len(staff_ids))


@command(
    "answer_test_alarm",
    EVERYONE,
    route=Route(
        "/sites/<site>/test-alarms/<int:test_id>/answer",
        "The phone's receipt for a test alarm (its service worker sends it)",
    ),
    test_id=Field("int", required=True),
)
def answer_test_alarm(tx: Tx, params: dict) -> dict:
    staff_id = tx.person("answer a test alarm")
    row = tx.db.execute(
        """SELECT p.answered_at FROM test_alarm_phones p JOIN test_alarms t ON t.id = p.test_id
           WHERE p.test_id = ? AND p.staff_id = ? AND t.site = ?""",
        [params["test_id"], staff_id, tx.site],
    ).fetchone()
    if row is None:
        raise NotFound(f"Test alarm {params['test_id']} was not sent to you.")
    if row[0] is not None:
        return tx.unchanged()
    event = tx.record(
        "test_alarm.answered",
        {
            "test_id": params["test_id"],
            "staff_id": staff_id,
            "credential_id": tx.identity.credential_id,
        },
    )
    return tx.changed(event)


@command("record_push_outcomes", ADMINS, outcome=Field("object", required=True))
def record_push_outcomes(tx: Tx, params: dict) -> dict:
    """The server logs what the push service answered for each subscription of one round
    (push.sent), and forgets each expired one (push.expired, as on a 404 or 410)."""
    outcome = params["outcome"]
    names = PURPOSES.get(outcome.get("purpose"))
    results = outcome.get("results")
    if names is None or not isinstance(results, list) or not results:
        raise Invalid("An outcome names its purpose and holds results.")
    if any(not isinstance(r, dict) or r.get("outcome") not in OUTCOMES for r in results):
        raise Invalid("Each result is accepted, failed or expired.")
    payload = {
        "purpose": outcome["purpose"],
        **{name: outcome.get(name) for name in names},
        "results": [
            {
                key: result.get(key)
                for key in ("subscription_id", "staff_id", "credential_id", "outcome", "status")
            }
            for result in results
        ],
    }
    event = tx.record("push.sent", payload)
    for result in payload["results"]:
        still_there = tx.db.execute(
            "SELECT 1 FROM push_subscriptions WHERE id = ? AND site = ?",
            [result["subscription_id"], tx.site],
        ).fetchone()
        if result["outcome"] == "expired" and still_there:
            event = tx.record("push.expired", {"subscription_id": result["subscription_id"]})
    return tx.changed(event)
