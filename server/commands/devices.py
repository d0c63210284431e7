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
    tx.db.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", [endpoint])
    subscription_id = tx.db.execute(
        """INSERT INTO push_subscriptions
           (endpoint, p256dh, auth, credential_id, staff_id, site, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [endpoint, p256dh, auth, tx.identity.credential_id, tx.identity.staff_id, tx.site, tx.ts],
    ).lastrowid
    # The endpoint is a capability URL: the log keeps only its host.
    event = tx.record(
        "push.subscribed",
        {
            "subscription_id": subscription_id,
            "staff_id": tx.identity.staff_id,
            "push_service": urlsplit(endpoint).hostname,
        },
    )
    return {"subscription_id": subscription_id, "seq": event["seq"]}


@command("drop_push_subscription", ADMINS, subscription_id=Field("int", required=True))
def drop_push_subscription(tx: Tx, params: dict) -> dict:
    """The push service answered 404 or 410: the subscription has expired."""
    deleted = tx.db.execute(
        "DELETE FROM push_subscriptions WHERE id = ? AND site = ?",
        [params["subscription_id"], tx.site],
    ).rowcount
    if not deleted:
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
