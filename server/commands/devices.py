"""Credentials and devices: bearer tokens for integrations, enrollment links that turn a phone
into a person's enrolled device, and the device's Web Push subscription (added by the phone,
dropped when the push service says it is gone, 404 or 410)."""

from __future__ import annotations

import binascii
import ipaddress
import re
from base64 import urlsafe_b64decode
from collections.abc import Callable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from ..basics.clock import iso
from ..basics.errors import Forbidden, Gone, Invalid, NotFound
from ..rules.auth import ADMINS, EVERYONE, MANAGERS, ROLES, Identity, digest, new_secret
from ..rules.privacy import privacy_of
from . import Route, Tx, command
from .fields import Field
from .staff import add_person

BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
MAX_ENDPOINT = 2000  # characters; the push services' URLs are a few hundred
AUTH_SECRET_BYTES = 16  # RFC 8291: the browser's authentication secret


@command(
    "create_token",
    ADMINS,
    name=Field(required=True, max_length=100),
    role=Field("choice", required=True, choices=ROLES),
    chain=Field("bool", default=False),
)
def create_token(tx: Tx, params: dict) -> dict:
    """A bearer token for an integration or script, acting as the named person of that role.

    With `chain`, the person becomes the chain's admin: an admin of every site. Only the
    operator at the command line may grant that."""
    if params["chain"] and (params["role"] != "admin" or tx.identity.staff_id is not None):
        raise Forbidden("Only the command line makes a chain admin, and with the admin role.")
    row = tx.db.execute(
        "SELECT id FROM staff WHERE site = ? AND name = ? AND role = ? ORDER BY id LIMIT 1",
        [tx.site, params["name"], params["role"]],
    ).fetchone()
    # An admin's token made for a name not on the staff list is an integration's (or the
    # chain's admin): an account, not a person on the floor, so not on the roll call.
    staff_id = row[0] if row else add_person(tx, {**params, "on_roll": params["role"] != "admin"})
    token = new_secret()
    credential_id = tx.new_id("credentials")
    tx.record(
        "token.created",
        {"staff_id": staff_id, "credential_id": credential_id, "token_hash": digest(token)},
    )
    if (
        params["chain"]
        and not tx.db.execute(
            "SELECT 1 FROM chain_admins WHERE staff_id = ?", [staff_id]
        ).fetchone()
    ):
        tx.record("chain_admin.granted", {"staff_id": staff_id})
    # The token itself is in the answer only: the log and the database hold its digest.
    return {
        "token": token,
        "staff_id": staff_id,
        "credential_id": credential_id,
        "seq": tx.current_seq(),
    }


@command(
    "create_enrollment_link",
    MANAGERS,
    route=Route(
        "/sites/<site>/staff/<int:staff_id>/enrollment-links",
        "A single-use, expiring enrollment link for a staff member (duty manager, admin)",
        201,
    ),
    staff_id=Field("int", required=True),
)
def create_enrollment_link(tx: Tx, params: dict) -> dict:
    """A single-use, expiring link that turns a phone into this person's enrolled device."""
    person = tx.db.execute(
        """SELECT s.role, a.staff_id IS NOT NULL FROM staff s
           LEFT JOIN chain_admins a ON a.staff_id = s.id AND s.role = 'admin'
           WHERE s.id = ? AND s.site = ?""",
        [params["staff_id"], tx.site],
    ).fetchone()
    if person is None:
        raise NotFound(f"There is no staff member {params['staff_id']} on this site.")
    # The link signs a phone in as that person: a credential no stronger than its maker's.
    if not tx.identity.may_vouch_for(*person):
        raise Forbidden("You may enroll phones only for people with no more rights than yours.")
    code = new_secret()[:24]
    expires_at = tx.ts + tx.settings.enrollment_ttl_hours * 3_600_000
    event = tx.record(
        "enrollment.created",
        {"staff_id": params["staff_id"], "code_hash": digest(code), "expires_at": iso(expires_at)},
    )
    return {
        "code": code,
        "path": f"/enroll/{code}",
        "expires_at": iso(expires_at),
        "seq": event["seq"],
    }


def check_link(link: dict, now: int) -> None:
    """410 for a link used or expired, with `reason` (used, expired) for the phone's words."""
    if link["used_at"] is not None:
        raise Gone(
            "This enrollment link was already used. Ask your duty manager for a new one.",
            reason="used",
        )
    if link["expires_at"] < now:
        raise Gone(
            "This enrollment link has expired. Ask your duty manager for a new one.",
            reason="expired",
        )


def enrollment_link_view(db, code: str, now: int) -> dict:
    """Whose link this is, before it is used: the person's name, language and site, so that
    the page says "This link is for Erik Lindqvist" in Erik's language (404, 410 as using it)."""
    link = next(
        db.query(
            """SELECT l.used_at, l.expires_at, s.name, s.language, t.name AS site_name,
               t.settings FROM enrollment_links l JOIN staff s ON s.id = l.staff_id
               JOIN sites t ON t.id = s.site WHERE l.code_hash = ?""",
            [digest(code)],
        ),
        None,
    )
    if link is None:
        raise NotFound("This enrollment link is not valid. Ask your duty manager for a new one.")
    check_link(link, now)
    keep = privacy_of(link["settings"])
    return {
        "name": link["name"],
        "language": link["language"],
        "site_name": link["site_name"],
        # What the page tells the person about their data before the phone is enrolled.
        "privacy": {
            k: keep[k] for k in ("controller", "notice_url", "incidents_days", "devices_days")
        },
    }


def enrollee(db, code: str) -> Identity:
    """Who an enrollment code is for, to run `enroll_device` as (404 for an unknown code)."""
    person = next(
        db.query(
            "SELECT s.* FROM enrollment_links l JOIN staff s ON s.id = l.staff_id "
            "WHERE l.code_hash = ?",
            [digest(code)],
        ),
        None,
    )
    if person is None:
        raise NotFound("This enrollment link is not valid. Ask your duty manager for a new one.")
    return Identity(person["site"], person["role"], person["name"], person["id"])


@command("enroll_device", EVERYONE, code=Field(required=True, max_length=100))
def enroll_device(tx: Tx, params: dict) -> dict:
    """Use an enrollment link: this phone becomes the person's enrolled device. The answer
    holds the device's session token (never stored: run it without an Idempotency-Key)."""
    code_hash = digest(params["code"])
    link = next(
        tx.db.query("SELECT * FROM enrollment_links WHERE code_hash = ?", [code_hash]), None
    )
    if link is None or link["staff_id"] != tx.identity.staff_id:
        raise NotFound("This enrollment link is not valid. Ask your duty manager for a new one.")
    check_link(link, tx.ts)
    token = new_secret()
    credential_id = tx.new_id("credentials")
    event = tx.record(
        "device.enrolled",
        {
            "staff_id": link["staff_id"],
            "credential_id": credential_id,
            "token_hash": digest(token),
            "code_hash": code_hash,
        },
    )
    return {"token": token, "credential_id": credential_id, "seq": event["seq"]}


@command(
    "subscribe_push",
    EVERYONE,
    route=Route("/push/subscriptions", "Store this device's Web Push subscription", 201),
    subscription=Field("object", required=True),
)
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
        return tx.unchanged()
    event = tx.record("push.expired", {"subscription_id": params["subscription_id"]})
    return tx.changed(event)


def _checked(subscription: dict) -> tuple[str, str, str]:
    """The endpoint and keys of a PushSubscription, refused (400, naming the field) unless a
    push round can use them: an https URL (http only to this machine, the tests' and the
    bench's push service), a P-256 public point and a 16-byte secret, as browsers give."""
    endpoint = subscription.get("endpoint")
    keys = subscription.get("keys") if isinstance(subscription.get("keys"), dict) else {}
    if not isinstance(endpoint, str) or not _push_service_url(endpoint):
        raise Invalid(
            "subscription.endpoint must be the push service's https:// URL.",
            field="subscription.endpoint",
        )
    if len(endpoint) > MAX_ENDPOINT:
        raise Invalid("subscription.endpoint is too long.", field="subscription.endpoint")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not _decodes(p256dh, _is_p256_point):
        raise Invalid(
            "subscription.keys.p256dh must be a P-256 public key (base64url).",
            field="subscription.keys.p256dh",
        )
    if not _decodes(auth, lambda raw: len(raw) == AUTH_SECRET_BYTES):
        raise Invalid(
            f"subscription.keys.auth must be a {AUTH_SECRET_BYTES}-byte secret (base64url).",
            field="subscription.keys.auth",
        )
    return endpoint, p256dh, auth


def _push_service_url(endpoint: str) -> bool:
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises for a port that is not a number
    except ValueError:
        return False
    if not host or parts.username is not None:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _decodes(value, check: Callable[[bytes], bool]) -> bool:
    """Whether `value` is base64url (padded or not, as browsers differ) whose bytes pass."""
    if not isinstance(value, str) or not BASE64URL.match(value) or len(value) > 200:
        return False
    try:
        return check(urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, binascii.Error):
        return False


def _is_p256_point(raw: bytes) -> bool:
    # RFC 8291 mixes the uncompressed point (65 bytes) into every push's keys, and
    # from_encoded_point checks that it is on the curve (ValueError otherwise).
    if len(raw) != 65 or raw[0] != 4:
        return False
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    return True
