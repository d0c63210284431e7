"""Rate limits on guessing: enrollment codes and sign-in credentials, per client address.

Only failures count: an enrollment code nobody was given, a bearer token or session cookie
that identifies nobody. A department store's thousand phones behind the shop's one NAT
address enroll and sign in at once in an alarm without spending anything. An address may
fail BURST times at once and FAILURES_PER_MINUTE times a minute after that (a token bucket);
once it has no failure left, its failures are answered 429 with Retry-After until the bucket
refills. A valid credential always passes, even from a refused address: someone failing on
purpose on the shop's guest Wi-Fi (the staff phones' NAT address too) must never lock the
staff out during an alarm. Guessing gains nothing from that: tokens carry 256 bits and
enrollment codes 144, and a guesser still spends a lookup per guess at a bounded rate of
answers it can tell apart.

    with rate_limits.counting_failures(rate_limits.SIGN_IN):
        ...  # look the credential up; a Rejected raised here counts as one failure

The client address is the request's (ProxyFix in the app factory applies
EXITNOW_TRUSTED_PROXIES); an IPv6 /64, which one subscriber is handed whole, counts as one.

The counts live in this process's memory and a restart forgets them. That is acceptable:
with nginx pinning a client address to one worker, that worker sees all of its attempts; when
nginx spreads an address over several workers (sticky by a cookie, which a guesser need not
send), the address gets each worker's allowance, still a small bound. Memory
stays bounded however many addresses an attacker rotates through: an address is forgotten
once its bucket is full again (a minute after its last failure at most), and each limit
remembers at most MAX_ADDRESSES, dropping the least recently failed first.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, current_app, request

from ..basics.errors import Rejected, TooManyRequests

FAILURES_PER_MINUTE = 10
BURST = 10  # failures a fresh address may make at once
MAX_ADDRESSES = 10_000  # per limit: a few MB at most

# What is being guessed; each has its own limit.
ENROLLMENT = "enrollment"
SIGN_IN = "sign-in"
# Not a guess but a flood: every visitor's own sign-in at the entrance counts, from one address
# (a shop's guest Wi-Fi is one NAT address for everyone). A busy entrance signs in a person
# every few seconds; a coach party of VISITOR_BURST at once still passes.
VISITOR_SIGN_IN = "visitor sign-in"
VISITOR_BURST = 60
VISITOR_SIGN_INS_PER_MINUTE = 30

EXTENSION = "exitnow.rate_limits"  # the app's limits, in app.extensions


class FailureLimit:
    """Failures per address as a token bucket: BURST at once, FAILURES_PER_MINUTE refilled."""

    def __init__(
        self,
        what: str,
        clock: Callable[[], float] = time.monotonic,
        per_minute: int = FAILURES_PER_MINUTE,
        burst: int = BURST,
        max_addresses: int = MAX_ADDRESSES,
    ):
        self.what = what  # "failed sign-ins", as the refusal names it
        self.clock = clock  # seconds; tests pass their own
        self.per_second = per_minute / 60
        self.burst = burst
        self.max_addresses = max_addresses
        # address -> (failures it had left, when): least recently failed first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # threading mode serves requests in parallel

    def __len__(self) -> int:
        """How many addresses are remembered."""
        return len(self._buckets)

    def check(self, address: str) -> None:
        """Raise TooManyRequests when `address` has no failure left to spend."""
        with self._lock:
            left = self._left(address, self.clock())
        if left < 1:
            wait = math.ceil((1 - left) / self.per_second)
            raise TooManyRequests(
                f"Too many {self.what} from this address: try again in {wait} s.",
                retry_after=wait,
            )

    def failed(self, address: str) -> None:
        """Spend one of the address's failures."""
        with self._lock:
            now = self.clock()
            self._buckets[address] = (max(self._left(address, now) - 1, 0.0), now)
            self._buckets.move_to_end(address)
            self._forget(now)

    def _left(self, address: str, now: float) -> float:
        entry = self._buckets.get(address)
        if entry is None:
            return self.burst
        left, since = entry
        return min(self.burst, left + (now - since) * self.per_second)

    def _forget(self, now: float) -> None:
        """Drop the addresses whose bucket is full again (the oldest failures come first), then
        the least recently failed beyond MAX_ADDRESSES."""
        full_after = self.burst / self.per_second
        while self._buckets:
            address, (_left, since) = next(iter(self._buckets.items()))
            if now - since < full_after and len(self._buckets) <= self.max_addresses:
                break
            del self._buckets[address]


class RateLimits(dict):
    """One app's limits: {ENROLLMENT: FailureLimit, SIGN_IN: FailureLimit}."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        super().__init__(
            {
                ENROLLMENT: FailureLimit("failed enrollments", clock),
                SIGN_IN: FailureLimit("failed sign-ins", clock),
                VISITOR_SIGN_IN: FailureLimit(
                    "visitor sign-ins", clock, VISITOR_SIGN_INS_PER_MINUTE, VISITOR_BURST
                ),
            }
        )


def install(app: Flask, clock: Callable[[], float] = time.monotonic) -> RateLimits:
    """Give `app` fresh limits (a test passes a clock it moves itself)."""
    app.extensions[EXTENSION] = RateLimits(clock)
    return app.extensions[EXTENSION]


def limits_of(app: Flask) -> RateLimits:
    return app.extensions.get(EXTENSION) or app.extensions.setdefault(EXTENSION, RateLimits())


@contextmanager
def counting_failures(kind: str) -> Iterator[None]:
    """Around one attempt of `kind` (ENROLLMENT or SIGN_IN) by this request's client: a
    Rejected raised inside spends one of the address's failures, and is answered 429 instead
    when it has none left. An attempt that succeeds is never refused."""
    try:
        yield
    except Rejected:
        # Whom to count is read only then: a valid credential never needs it, and every phone
        # connecting and every signed-in request passes here.
        limit, address = limits_of(current_app)[kind], client_address()
        limit.check(address)
        limit.failed(address)
        raise


def spend(kind: str) -> None:
    """One attempt of `kind` by this request's client, whether it succeeds or not: 429 with
    Retry-After when the address has none left."""
    limit, address = limits_of(current_app)[kind], client_address()
    limit.check(address)
    limit.failed(address)


def client_address() -> str:
    """Whom to count: the request's client address, an IPv6 address by its /64."""
    address = (request.remote_addr or "unknown")[:100]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an address (a proxy's header): still one client, kept short
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
