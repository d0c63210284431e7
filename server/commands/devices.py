"""A device's Web Push subscription: added by the phone, dropped when the push service says
it is gone (404 or 410)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..auth import ADMINS, EVERYONE
from ..errors import Forbidden, Invalid
from . import Tx, command
from .fields import Field

BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@command("subscribe_push", EVERYONE, subscription=Field("object", required=True))
def subscribe_push(tx: Tx, params: dict) -> dict:
    """Store (or move to this device) a PushSubscription as the browser gives it."""
    if tx.identity.credential_id is None or tx.identity.staff_id is None:
        raise Forbidden("Only an enrolled device can subscribe to push messages.")
    endpoint, p256dh, auth = _checked(params["subscription"])
    subscription_id = tx.new_id("push_subscriptions")
    # The endpoint is a capability URL: it and its keys are never sent to a client
    # (events.PRIVATE_FIELDS); the log keeps them so that the state can be rebuilt.
    event = tx.record(
        "push.subscribed",
        {
            "subscription_id": subscription_id,
            "staff_id": tx.identity.staff_id,
            "credential_id": tx.identity.credential_id,
            "push_service": urlsplit(endpoint).hostname,
            "endpoint": endpoint,
            "p256dh": p256dh,
            "auth": auth,
        },
    )
    return {"subscription_id": subscription_id, "seq": event["seq"]}


@command("drop_push_subscription", ADMINS, subscription_id=Field("int", required=True))
def drop_push_subscription(tx: Tx, params: dict) -> dict:
    """The push service answered 404 or 410: the subscription has expired."""
    found = tx.db.execute(
        "SELECT 1 FROM push_subscriptions WHERE id = ? AND site = ?",
        [params["subscription_id"], tx.site],
    ).fetchone()
    if not found:
        return {"changed": False, "seq": tx.current_seq()}
    event = tx.record("push.expired", {"subscription_id": params["subscription_id"]})
    return {"changed": True, "seq": event["seq"]}


def _checked(subscription: dict) -> tuple[str, str, str]:
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") if isinstance(subscription.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("https", "http"):
        raise Invalid("subscription.endpoint must be the push service's URL.", field="subscription")
    if len(endpoint) > 2000:
        raise Invalid("subscription.endpoint is too long.", field="subscription")
    for name, value in (("p256dh", p256dh), ("auth", auth)):
        if not isinstance(value, str) or not BASE64URL.match(value) or len(value) > 200:
            raise Invalid(f"subscription.keys.{name} must be base64url.", field="subscription")
    return endpoint, p256dh, auth
