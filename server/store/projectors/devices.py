"""Credentials: tokens, enrollment links, enrolled phones and their push subscriptions."""

from __future__ import annotations

from . import ms_or_none, projects


def _add_credential(db, event, p, kind: str) -> None:
    db.execute(
        "INSERT INTO credentials (id, token_hash, kind, staff_id, created_at) VALUES (?, ?, ?, ?, ?)",
        [p["credential_id"], p["token_hash"], kind, p["staff_id"], event["ts"]],
    )


@projects("token.created")
def token_created(db, event, p):
    _add_credential(db, event, p, "api")


@projects("enrollment.created")
def enrollment_created(db, event, p):
    db.execute(
        "INSERT INTO enrollment_links (code_hash, staff_id, expires_at) VALUES (?, ?, ?)",
        [p["code_hash"], p["staff_id"], ms_or_none(p["expires_at"])],
    )


@projects("device.enrolled")
def device_enrolled(db, event, p):
    _add_credential(db, event, p, "device")
    db.execute(
        "UPDATE enrollment_links SET used_at = ? WHERE code_hash = ?", [event["ts"], p["code_hash"]]
    )


@projects("push.subscribed")
def push_subscribed(db, event, p):
    if p["endpoint"] is None:  # erased (server/store/personal.py): gone from the state as well
        return
    db.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", [p["endpoint"]])
    db.execute(
        """INSERT INTO push_subscriptions
           (id, endpoint, p256dh, auth, credential_id, staff_id, site, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            p["subscription_id"],
            p["endpoint"],
            p["p256dh"],
            p["auth"],
            p["credential_id"],
            p["staff_id"],
            event["site"],
            event["ts"],
        ],
    )


@projects("push.expired")
def push_expired(db, event, p):
    db.execute("DELETE FROM push_subscriptions WHERE id = ?", [p["subscription_id"]])
