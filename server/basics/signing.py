"""Signed webhooks, both ways (the alarm panel's in, the site's outbound ones): HMAC-SHA256 under a
shared secret over `<timestamp>.<raw body>`, the timestamp in whole UTC seconds.

    X-ExitNow-Timestamp: 1718000000
    X-ExitNow-Signature: v1=<hex>[, v1=<hex>]

During a secret's rotation the sender signs with every secret it holds and sends one `v1=` value
for each; a receiver accepts the request when any of them matches any secret it holds. The `v1`
names the scheme, so a later one can be added beside it (Stripe's `Stripe-Signature` does the same).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

TIMESTAMP_HEADER = "X-ExitNow-Timestamp"
SIGNATURE_HEADER = "X-ExitNow-Signature"
EVENT_ID_HEADER = "X-ExitNow-Event-Id"
SCHEME = "v1"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """Why a signed request is refused; `reason` is one of the names below, for the problem type."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def signing_string(timestamp: int | str, body: bytes) -> bytes:
    """What is signed: the timestamp, a full stop, and the body's bytes exactly as sent."""
    return str(timestamp).encode() + b"." + body


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """One secret's signature in hex (without the `v1=`)."""
    return hmac.new(secret.encode(), signing_string(timestamp, body), hashlib.sha256).hexdigest()


def sign(secrets: Iterable[str], body: bytes, now_seconds: int) -> dict[str, str]:
    """The headers for a body signed now with each secret (one `v1=` per secret)."""
    values = ", ".join(f"{SCHEME}={signature(s, now_seconds, body)}" for s in secrets)
    return {TIMESTAMP_HEADER: str(now_seconds), SIGNATURE_HEADER: values}


def signatures_in(header: str | None) -> list[str]:
    """The `v1=` values of a signature header, other schemes ignored."""
    found = []
    for part in (header or "").split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and value:
            found.append(value.strip().lower())
    return found


def verify(
    secrets: Iterable[str],
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now_seconds: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """The request's timestamp when one `v1=` value matches one secret and the timestamp is within
    `tolerance` seconds of now; otherwise SignatureError. Compares in constant time."""
    if not timestamp_header or not signature_header:
        raise SignatureError(
            "missing-signature", f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are both required"
        )
    try:
        timestamp = int(timestamp_header.strip())
    except ValueError:
        raise SignatureError(
            "bad-timestamp", f"{TIMESTAMP_HEADER} must be whole UTC seconds"
        ) from None
    given = signatures_in(signature_header)
    if not given:
        raise SignatureError("missing-signature", f"{SIGNATURE_HEADER} has no {SCHEME}= value")
    expected = [signature(s, timestamp, body) for s in secrets]
    if not any(hmac.compare_digest(g, e) for g in given for e in expected):
        raise SignatureError("bad-signature", "the signature does not match the site's secret")
    if abs(now_seconds - timestamp) > tolerance:
        raise SignatureError(
            "stale-timestamp",
            f"the timestamp is more than {tolerance} seconds away from the server's clock",
        )
    return timestamp
