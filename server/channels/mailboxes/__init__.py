"""The customer-service mailboxes' automatic replies: one provider per kind of mailbox
(Microsoft 365 through Graph, Gmail through its API, a self-hosted one through ManageSieve),
and the switcher that follows the site's public notice in the background
(server/channels/mailboxes/switcher.py).

A provider reads the mailbox's automatic reply as the provider holds it (every field, so that
it can be put back exactly), sets ours, and puts an earlier one back. Each failure is a
ProviderError with what the provider answered, so that the switcher can retry as it asks.
Imports: the standard library, settings, push's connections; nothing of the commands.
"""

from __future__ import annotations

import http.client
import json
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from ...basics.http import connector_for
from ..email import AutoReply

LONGEST_ERROR = 300


class ProviderError(Exception):
    """The provider refused or could not be reached: `status` (HTTP, or None), how long it
    asked us to wait (a 429's Retry-After), if it did, and `during` which step: "settings"
    (the mailbox's own), "token" (signing in), "login" (ManageSieve), or "configuration"
    (our environment lacks the credentials)."""

    def __init__(
        self,
        status: int | None,
        error: str,
        retry_after: float | None = None,
        during: str = "settings",
    ):
        super().__init__(error)
        self.status = status
        self.error = error[:LONGEST_ERROR]
        self.retry_after = retry_after
        self.during = during


class Provider(Protocol):
    name: str

    def read(self, mailbox: dict) -> dict:
        """The mailbox's automatic reply as the provider holds it, every field."""

    def write(self, mailbox: dict, reply: AutoReply) -> int | None:
        """Set our reply, on for everyone; the provider's status."""

    def put_back(self, mailbox: dict, earlier: dict) -> int | None:
        """Put an earlier reply (as `read` gave it) back exactly; the provider's status."""


def providers_for(settings) -> dict[str, Provider]:
    from .gmail import Gmail
    from .graph import Microsoft365
    from .sieve import Sieve

    return {
        "microsoft365": Microsoft365(settings),
        "gmail": Gmail(settings),
        "sieve": Sieve(settings),
    }


def http_json(method: str, url: str, headers: dict, body=None, form: dict | None = None):
    """One HTTP request; (status, JSON answer or None). Anything but 2xx is a ProviderError
    (a 429's or 503's Retry-After with it); a refused connection or a timeout too."""
    parts = urlsplit(url)
    data, sent_headers = None, {"Accept": "application/json", **headers}
    if form is not None:
        data = urlencode(form).encode()
        sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        sent_headers["Content-Type"] = "application/json"
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection = connector_for(f"{parts.scheme}://{parts.netloc}")()
        try:
            connection.request(method, target, body=data, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read(1024 * 1024)
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as failure:  # refused, timed out, TLS, ...
        raise ProviderError(None, f"{type(failure).__name__}: {failure}") from None
    if not 200 <= response.status < 300:
        raise ProviderError(
            response.status,
            f"HTTP {response.status}: {raw[:200].decode('utf-8', 'replace')}",
            _seconds(response.getheader("Retry-After")),
        )
    try:
        return response.status, (json.loads(raw) if raw.strip() else None)
    except ValueError:
        raise ProviderError(response.status, "the answer was not JSON") from None


def signing_in(request):
    """`request()`, a failure of which is the sign-in's (a token endpoint's), not the
    mailbox's: readiness says "the sign-in was refused" rather than "no access"."""
    try:
        return request()
    except ProviderError as failure:
        failure.during = "token"
        raise


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: wait as our backoff says
        return None
