"""Fixtures everyone uses: a fresh database and app, the real server as a process on a free
port, connected python-socketio clients, and a Redis server on 127.0.0.1."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import server.commands as commands_module
from harness import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    Api,
    LiveServer,
    PushService,
    RedisServer,
    StaffClient,
    TwilioStandIn,
    free_port,
    prepare_database,
    unit_settings,
)
from server import create_app, demo
from server.basics.clock import now_ms
from server.basics.settings import Settings
from server.commands import execute
from server.rules.auth import command_line

# --- the app in this process (units) -------------------------------------------------------


@pytest.fixture
def settings(tmp_path) -> Settings:
    return unit_settings(tmp_path / "exitnow.db")


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.extensions["exitnow"].store.close()


@pytest.fixture
def services(app):
    return app.extensions["exitnow"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo_links(services) -> list:
    """The demo site "demo" (4 zones, a duty manager, 4 staff, a guard): [(person, link)]."""
    return demo.seed(services)


@pytest.fixture
def make_token(services, demo_links):
    """make_token(role, name=None, site="demo") -> a bearer token for a new person."""
    counter = iter(range(1, 10_000))

    def make(role: str = "staff", name: str | None = None, site: str = "demo") -> str:
        name = name or f"{role} {next(counter)}"
        params = {"name": name, "role": role}
        return execute(services, command_line(site), site, "create_token", params)["token"]

    return make


@pytest.fixture
def other_site_manager(services, client, make_token) -> Api:
    """Olli, a duty manager of a second site "other": a stranger to the demo site."""
    execute(services, command_line("other"), "other", "create_site", {"name": "Other shop"})
    return Api(client, make_token("duty_manager", name="Olli", site="other"))


@pytest.fixture
def api_as(client, make_token):
    """api_as(role) -> an Api signed in as a new person with that role on the demo site."""
    return lambda role="staff", **kwargs: Api(client, make_token(role, **kwargs))


@pytest.fixture
def event_count(services):
    """event_count() -> how many entries the log holds now."""

    def count() -> int:
        with services.store.reading() as db:
            return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    return count


@pytest.fixture
def clock(monkeypatch, demo_links):
    """The commands' clock, moved on by the test from the server's: {"now": UTC ms}. Not a
    fixed date: once the real time passed it, the commands would stand behind the demo's
    entries, and an entry is never stamped before the site's last one."""
    moment = {"now": now_ms() + 1000}
    monkeypatch.setattr(commands_module, "now_ms", lambda: moment["now"])
    return moment


# --- the real server, as a separate process ------------------------------------------------


@pytest.fixture
def live_servers(tmp_path):
    """live_servers(db_path=None, env=None, cwd=REPO) -> a LiveServer (not started); all stop
    at the end."""
    made: list[LiveServer] = []

    def make(db_path: Path | None = None, env: dict | None = None, cwd: Path = REPO) -> LiveServer:
        server = LiveServer(db_path or tmp_path / "live.db", env, cwd)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def live_server(live_servers) -> LiveServer:
    """The real server under eventlet with the demo site, started."""
    return live_servers().start(demo=True)


# --- Socket.IO clients ----------------------------------------------------------------------


@pytest.fixture
def connect():
    """connect(url, token, last_seq=None) -> a connected StaffClient; all close at the end."""
    clients: list[StaffClient] = []

    def make(url: str, token: str, last_seq: int | None = None) -> StaffClient:
        client = StaffClient(url, token, last_seq)
        clients.append(client)
        return client

    yield make
    # All at once: against the gevent server each close waits about 3 s for the socket's end.
    closing = [threading.Thread(target=client.close) for client in clients]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(30)


# --- Chromium ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for the whole run, here so that tests/browser and
    tests/test_production.py share it: Playwright's sync API allows one at a time."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


# --- Web Push ----------------------------------------------------------------------------


@pytest.fixture
def push_service() -> PushService:
    """A push service on 127.0.0.1 that records each push (410 under /gone/)."""
    service = PushService()
    yield service
    service.close()


# --- Twilio ---------------------------------------------------------------------------------


@pytest.fixture
def twilio() -> TwilioStandIn:
    """Twilio's Messages API on 127.0.0.1; `twilio.env()` points the server at it."""
    stand_in = TwilioStandIn()
    yield stand_in
    stand_in.close()


# --- Redis ----------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path) -> RedisServer:
    """A private redis-server on 127.0.0.1 (Debian's package; .ci/run installs it), started."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    return redis_server.url
