"""Outbound webhooks (admins): subscribe a URL to a site's events, remove it, send it a test.
The URL (its path can be a capability, as Slack's and Teams' are) and the signing secret are
kept sealed, in the log and in the state alike; the deliveries follow the log
(server/integrations/webhooks.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..basics import sealed
from ..basics.errors import Invalid, NotFound
from ..basics.settings import secret_key_for
from ..rules.auth import ADMINS, new_secret
from ..store.events import EVENT_TYPES
from . import Route, Tx, command
from .fields import Field

FORMATS = ("exitnow", "slack", "teams")  # the body: ours, Slack's {"text"}, a Teams card
# What a new subscription hears unless it names its own event types.
DEFAULT_EVENTS = (
    "incident.started",
    "incident.updated",
    "incident.ended",
    "notice.switched",
    "alarm_panel.link_down",
)


def seal_for(settings, site: str, webhook_id: int, what: str, value: str) -> str:
    return sealed.seal(secret_key_for(settings), f"webhook:{site}:{webhook_id}:{what}", value)


def unseal_for(settings, site: str, webhook_id: int, what: str, text: str) -> str:
    return sealed.unseal(secret_key_for(settings), f"webhook:{site}:{webhook_id}:{what}", text)


@command(
    "add_webhook",
    ADMINS,
    route=Route("/sites/<site>/webhooks", "Subscribe a URL to the site's events (admin)", 201),
    url=Field(required=True, max_length=2000),
    secret=Field(max_length=200),
    events=Field("list", max_length=100),
    format=Field("choice", choices=FORMATS, default="exitnow"),
    include_names=Field("bool", default=False),
)
def add_webhook(tx: Tx, params: dict) -> dict:
    """The answer holds the signing secret (made here unless given): the only time it is shown."""
    origin = _checked_url(params["url"])
    events = params["events"] or [e for e in DEFAULT_EVENTS if e in EVENT_TYPES]
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"Unknown event type: {', '.join(unknown)}.", field="events")
    secret = params["secret"] or new_secret()
    webhook_id = tx.new_id("webhooks")
    event = tx.record(
        "webhook.added",
        {
            "webhook_id": webhook_id,
            "origin": origin,
            "url_sealed": seal_for(tx.settings, tx.site, webhook_id, "url", params["url"]),
            "secret_sealed": seal_for(tx.settings, tx.site, webhook_id, "secret", secret),
            "events": sorted(set(events)),
            "format": params["format"],
            # People are named only to a subscription that asks (server/store/personal.py).
            **({"include_names": True} if params["include_names"] else {}),
        },
    )
    return tx.changed(
        event,
        webhook_id=webhook_id,
        origin=origin,
        events=sorted(set(events)),
        format=params["format"],
        include_names=bool(params["include_names"]),
        secret=secret,
    )


@command(
    "remove_webhook",
    ADMINS,
    route=Route("/sites/<site>/webhooks/<int:webhook_id>/remove", "Remove a webhook (admin)"),
    webhook_id=Field("int", required=True),
)
def remove_webhook(tx: Tx, params: dict) -> dict:
    row = _webhook(tx, params["webhook_id"])
    if row[0] is not None:
        return tx.unchanged()
    event = tx.record("webhook.removed", {"webhook_id": params["webhook_id"]})
    return tx.changed(event)


@command(
    "send_test_webhook",
    ADMINS,
    route=Route(
        "/sites/<site>/webhooks/<int:webhook_id>/test",
        "Send a signed test delivery to one webhook (admin)",
    ),
    webhook_id=Field("int", required=True),
)
def send_test_webhook(tx: Tx, params: dict) -> dict:
    """A `webhook.tested` event, delivered to that webhook alone, in its turn after the rest."""
    if _webhook(tx, params["webhook_id"])[0] is not None:
        raise NotFound(f"Webhook {params['webhook_id']} was removed.")
    event = tx.record("webhook.tested", {"webhook_id": params["webhook_id"]})
    return tx.changed(event)


def _webhook(tx: Tx, webhook_id: int) -> tuple:
    row = tx.db.execute(
        "SELECT removed_at FROM webhooks WHERE id = ? AND site = ?", [webhook_id, tx.site]
    ).fetchone()
    if row is None:
        raise NotFound(f"There is no webhook {webhook_id} on this site.")
    return row


def _checked_url(url: str) -> str:
    """The URL's origin (scheme, host and port), which is all the log and the API show."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Invalid("'url' must be an http:// or https:// URL.", field="url")
    if parts.username or parts.password:
        raise Invalid("'url' must not hold a user name or password.", field="url")
    try:
        port = parts.port
    except ValueError:
        raise Invalid("'url' has a port that is not a number.", field="url") from None
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
