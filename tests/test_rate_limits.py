"""Guessing is limited per client address: failed enrollments and failed sign-ins get 429 with
Retry-After beyond the limit, over HTTP and the socket; valid credentials never spend any."""

from __future__ import annotations

import pytest
import socketio

from harness import outside_store
from server import commands, create_app
from server.operations import rate_limits
from server.operations.rate_limits import BURST, FailureLimit
from server.rules.auth import SESSION_COOKIE, command_line

STATE = "/api/sites/demo/state"


class Clock:
    """The limits' clock, moved by the test instead of waited for."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    rate_limits.install(app, clock)
    return clock


def new_code(services) -> str:
    """A new enrollment code for a member of the demo shop's staff."""
    with services.store.reading() as db:
        staff_id = db.execute("SELECT id FROM staff WHERE role = 'staff'").fetchone()[0]
    return commands.execute(
        services, command_line("demo"), "demo", "create_enrollment_link", {"staff_id": staff_id}
    )["code"]


def bearer(token: str, address: str = "127.0.0.1", forwarded_for: str | None = None) -> dict:
    """A test client request's keywords: that token, from that address (through a proxy)."""
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return {"headers": headers, "environ_base": {"REMOTE_ADDR": address}}


def assert_too_many(answer, what: str, retry_after: int = 6) -> None:
    assert answer.status_code == 429
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"] == str(retry_after)
    problem = answer.get_json()
    assert problem["status"] == 429 and problem["retry_after"] == retry_after
    assert f"Too many {what}" in problem["detail"]


def test_wrong_enrollment_codes_beyond_the_limit_get_429_until_the_window_passes(
    client, services, demo_links, clock, event_count
):
    new_code(services)  # a real code exists: the guesses still miss it
    logged = event_count()
    for attempt in range(BURST):
        assert client.post("/api/enroll", json={"code": f"guess-{attempt}"}).status_code == 404

    assert_too_many(client.post("/api/enroll", json={"code": "guess"}), "failed enrollments")
    assert event_count() == logged

    clock.advance(6)  # one more failure has refilled, and only one
    assert client.post("/api/enroll", json={"code": "guess"}).status_code == 404
    assert client.post("/api/enroll", json={"code": "guess"}).status_code == 429
    assert event_count() == logged


def test_a_right_code_enrolls_even_from_an_address_that_is_refused(
    client, services, demo_links, clock
):
    """Someone failing on purpose behind the shop's address must not lock the staff out."""
    for attempt in range(BURST + 1):
        client.post("/api/enroll", json={"code": f"guess-{attempt}"})
    assert client.post("/api/enroll", json={"code": "guess"}).status_code == 429

    enrolled = client.post("/api/enroll", json={"code": new_code(services)})

    assert enrolled.status_code == 201 and SESSION_COOKIE in enrolled.headers["Set-Cookie"]


def test_wrong_bearer_tokens_beyond_the_limit_get_429(
    client, demo_links, make_token, clock, event_count
):
    logged = event_count()
    for attempt in range(BURST):
        assert client.get(STATE, **bearer(f"guess-{attempt}")).status_code == 401

    assert_too_many(client.get(STATE, **bearer("guess")), "failed sign-ins")
    start = client.post("/api/sites/demo/incidents", json={"kind": "fire"}, **bearer("guess"))
    assert start.status_code == 429
    assert client.get("/api/openapi.json", **bearer("guess")).status_code == 429
    assert event_count() == logged
    # Another address has its own budget; the enrollment limit is a separate one.
    assert client.get(STATE, **bearer(make_token("staff"), "10.0.0.2")).status_code == 200
    assert client.post("/api/enroll", json={"code": "guess"}).status_code == 404


def test_a_crowd_of_valid_credentials_from_one_address_spends_nothing(
    app, services, demo_links, make_token, clock
):
    """A department store's phones behind the shop's one NAT address, all at the same moment
    (the clock stands still): enroll, sign in by cookie and by token."""
    phones = [app.test_client() for _ in range(50)]
    for phone in phones:
        assert phone.post("/api/enroll", json={"code": new_code(services)}).status_code == 201
    for phone in phones:
        assert phone.get("/api/me").status_code == 200
    token = make_token("duty_manager")
    for _ in range(50):
        assert phones[0].get(STATE, **bearer(token)).status_code == 200

    # The whole budget is still there.
    client = app.test_client()
    for attempt in range(BURST):
        assert client.get(STATE, **bearer(f"guess-{attempt}")).status_code == 401
        assert client.post("/api/enroll", json={"code": f"guess-{attempt}"}).status_code == 404
    assert client.get(STATE, **bearer("guess")).status_code == 429
    assert client.post("/api/enroll", json={"code": "guess"}).status_code == 429


def test_a_cookie_of_nobody_counts_except_where_no_cookie_is_needed(
    client, services, demo_links, clock
):
    client.set_cookie(SESSION_COOKIE, "revoked-or-made-up")
    # A phone enrolling again still carries its old cookie: public routes do not look at it.
    for _ in range(BURST + 5):
        assert client.get("/api/openapi.json").status_code == 200
    assert client.post("/api/enroll", json={"code": new_code(services)}).status_code == 201

    client.set_cookie(SESSION_COOKIE, "revoked-or-made-up")
    for _ in range(BURST):
        assert client.get("/api/me").status_code == 401
    assert_too_many(client.get("/api/me"), "failed sign-ins")


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(settings):
    app = create_app(settings.with_changes(trusted_proxies=1))
    rate_limits.install(app, Clock())
    client = app.test_client()
    try:
        for attempt in range(BURST):
            answer = client.get(STATE, **bearer("guess", forwarded_for="203.0.113.7"))
            assert answer.status_code == 401, attempt
        assert client.get(STATE, **bearer("guess", forwarded_for="203.0.113.7")).status_code == 429
        # Another customer through the same proxy is not held back.
        assert client.get(STATE, **bearer("guess", forwarded_for="203.0.113.8")).status_code == 401
    finally:
        app.extensions["exitnow"].store.close()


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(client, demo_links, clock):
    for attempt in range(BURST):
        forged = bearer("guess", forwarded_for=f"198.51.100.{attempt}")
        assert client.get(STATE, **forged).status_code == 401
    assert client.get(STATE, **bearer("guess", forwarded_for="198.51.100.99")).status_code == 429


def test_an_ipv6_slash_64_is_one_address(client, demo_links, clock):
    for attempt in range(BURST):
        assert client.get(STATE, **bearer("guess", f"2001:db8::{attempt + 1:x}")).status_code == 401
    assert client.get(STATE, **bearer("guess", "2001:db8::ffff:1")).status_code == 429
    assert client.get(STATE, **bearer("guess", "2001:db8:0:1::1")).status_code == 401


def test_memory_stays_bounded_however_many_addresses_fail():
    clock = Clock()
    limit = FailureLimit("failed sign-ins", clock, max_addresses=100)
    for number in range(5000):  # an attacker rotating addresses
        limit.failed(f"10.{number // 65536}.{number // 256 % 256}.{number % 256}")
    assert len(limit) == 100

    clock.advance(60)  # every bucket has refilled: nothing needs remembering
    limit.failed("192.0.2.1")
    assert len(limit) == 1


def test_socket_connect_with_wrong_tokens_beyond_the_limit_is_refused(live_server, connect):
    token = live_server.token("staff", "Sami Socket")
    phones = [connect(live_server.url, token) for _ in range(20)]  # valid: they spend nothing
    assert all(phone.wait_until(lambda c: c.states) for phone in phones)

    refusals = [refused_connect(live_server.url, f"guess-{attempt}") for attempt in range(BURST)]
    assert all(refusal["message"].startswith("unauthorized") for refusal in refusals)

    refusal = refused_connect(live_server.url, "guess")
    assert refusal["message"].startswith("Too many failed sign-ins from this address")
    assert refusal["data"]["status"] == 429 and refusal["data"]["retry_after"] > 0
    with outside_store(live_server.db_path) as db:
        logged = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    refused_connect(live_server.url, "guess again")
    with outside_store(live_server.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == logged
    # A phone of the shop, behind the same address, still connects.
    assert connect(live_server.url, token).wait_until(lambda c: c.states)


def test_the_socket_counts_the_address_the_trusted_proxy_forwarded(live_servers):
    server = live_servers(env={"EXITNOW_TRUSTED_PROXIES": "1"}).start(demo=True)
    for attempt in range(BURST):
        refusal = refused_connect(server.url, f"guess-{attempt}", forwarded_for="203.0.113.7")
        assert refusal["message"].startswith("unauthorized")

    refusal = refused_connect(server.url, "guess", forwarded_for="203.0.113.7")
    assert refusal["message"].startswith("Too many failed sign-ins")
    refusal = refused_connect(server.url, "guess", forwarded_for="203.0.113.8")
    assert refusal["message"].startswith("unauthorized")


def refused_connect(url: str, token: str, forwarded_for: str | None = None) -> dict:
    """Connect with that token, expect a refusal, and return what the server said."""
    client = socketio.Client(reconnection=False)
    said: list[dict] = []
    client.on("connect_error", said.append)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            url, auth={"token": token}, headers=headers, transports=["websocket"], wait_timeout=10
        )
    assert not client.connected
    return said[0]
