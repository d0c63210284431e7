"""Outbound webhooks, read by admins: the subscriptions (never their URL's path or secret)
and the delivery log, newest first, with every attempt."""

from __future__ import annotations

import json

from flask import jsonify, request

from ..basics.clock import iso
from ..basics.errors import Invalid
from ..basics.names import LARGEST_INTEGER
from ..integrations.webhooks import delivery_view
from ..rules.auth import ADMINS
from ..store.sql import marks
from . import api, require_member, services

MOST_DELIVERIES = 500


@api.get("/sites/<site>/webhooks")
def webhooks(site: str):
    with services().store.reading() as db:
        require_member(db, site, ADMINS, "the webhooks")
        rows = list(db.query("SELECT * FROM webhooks WHERE site = ? ORDER BY id", [site]))
        pending = dict(
            db.execute(
                "SELECT webhook_id, COUNT(*) FROM webhook_deliveries "
                "WHERE site = ? AND state = 'pending' GROUP BY webhook_id",
                [site],
            ).fetchall()
        )
    return jsonify(
        {
            "webhooks": [
                {
                    "id": row["id"],
                    "origin": row["origin"],
                    "events": json.loads(row["events"]),
                    "format": row["format"],
                    "include_names": bool(row["include_names"]),
                    "created_at": iso(row["created_at"]),
                    "removed_at": iso(row["removed_at"]),
                    "pending": pending.get(row["id"], 0),
                }
                for row in rows
            ]
        }
    )


@api.get("/sites/<site>/webhooks/deliveries")
def webhook_deliveries(site: str):
    """The delivery log: `?webhook_id=N` for one subscription, `?limit=` (at most 500)."""
    webhook_id = _number("webhook_id", None)
    limit = min(_number("limit", 100), MOST_DELIVERIES)
    only_one = "AND webhook_id = ?" if webhook_id is not None else ""
    with services().store.reading() as db:
        require_member(db, site, ADMINS, "the webhook deliveries")
        rows = list(
            db.query(
                f"SELECT * FROM webhook_deliveries WHERE site = ? {only_one} "
                "ORDER BY id DESC LIMIT ?",
                [site, *([webhook_id] if webhook_id is not None else []), limit],
            )
        )
        attempts: dict[int, list] = {}
        for attempt in db.query(
            f"SELECT * FROM webhook_attempts WHERE delivery_id IN "
            f"({marks(rows)}) ORDER BY delivery_id, attempt",
            [row["id"] for row in rows],
        ):
            attempts.setdefault(attempt["delivery_id"], []).append(attempt)
    return jsonify({"deliveries": [delivery_view(r, attempts.get(r["id"], [])) for r in rows]})


def _number(name: str, default):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdecimal() and 0 < len(raw) <= 19) or int(raw) > LARGEST_INTEGER:
        raise Invalid(f"'{name}' must be a whole number.", field=name)
    return int(raw)
