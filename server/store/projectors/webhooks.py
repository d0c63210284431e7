"""Outbound webhook subscriptions."""

from __future__ import annotations

import json

from . import projects


@projects("webhook.added")
def webhook_added(db, event, p):
    db.execute(
        "INSERT INTO webhooks (id, site, url_sealed, secret_sealed, origin, events, format, "
        "created_at, created_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            p["webhook_id"],
            event["site"],
            p["url_sealed"],
            p["secret_sealed"],
            p["origin"],
            json.dumps(p["events"]),
            p["format"],
            event["ts"],
            event["seq"],
        ],
    )
    if p.get("include_names"):  # older logs did not carry it: no names then
        db.execute("UPDATE webhooks SET include_names = 1 WHERE id = ?", [p["webhook_id"]])


@projects("webhook.removed")
def webhook_removed(db, event, p):
    db.execute("UPDATE webhooks SET removed_at = ? WHERE id = ?", [event["ts"], p["webhook_id"]])


@projects("webhook.tested")
def webhook_tested(db, event, p):
    """Only a delivery (to that one webhook) follows; nothing in the state changes."""
