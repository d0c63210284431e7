"""What the tests and the benchmarks share: the real server in a subprocess on a free port
(`LiveServer`, `flask_cli`), databases prepared with people and tokens, ports, recording
Socket.IO clients, Chromium's settings, and stand-ins for outside services on 127.0.0.1 (a push
service, Twilio, Redis, PostgreSQL, nginx with the production snippets). `harness.bench` holds the
benchmarks' light clients and figures.

It may import `server` and `deploy`, never `tests/` or `bench/`: both of those import it.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import os
import pwd
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import engineio
import http_ece
import pytest
import requests
import socketio
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from deploy.launch import start_nginx_process
from server import create_app, demo
from server.basics.settings import Settings
from server.commands import execute
from server.rules.auth import command_line

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask_cli(db_path, *args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess:
    """`flask --app server ARGS` on that database file, as an operator runs it (in the checkout
    `cwd`, this one by default)."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", *args],
        cwd=cwd,
        env={
            **os.environ,
            "EXITNOW_DB": str(db_path),
            **engine_env(db_path),
            "EXITNOW_PUBLIC_DIR": str(Path(db_path).parent / "public"),
            "EXITNOW_ASYNC_MODE": "threading",
            "EXITNOW_DISK_RESERVE_MB": "0",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def enrolled_page(context, server, staff_id: int, site: str = "demo", lang: str | None = None):
    """A browser page signed in as that person through a new enrollment link, as a phone is."""
    link = server.cli("enrollment-link", "--site", site, "--staff-id", str(staff_id))
    page = context.new_page()
    page.goto(link.stdout.strip().splitlines()[-1] + (f"?lang={lang}" if lang else ""))
    page.click("#enroll")
    return page


NGINX_CONFIG = REPO / "deploy" / "nginx" / "one-app.conf"


def start_nginx(
    prefix: Path, public_dir: Path, app_port: int, connections: int = 256
) -> tuple[subprocess.Popen, str]:
    """Debian's nginx on 127.0.0.1 with the documented one-app block (deploy/nginx/one-app.conf)
    and a private prefix, as deploy/launch.py runs the production one: (process, base URL)."""
    port = free_port()
    server_block = (
        NGINX_CONFIG.read_text()
        .replace("@LISTEN@", f"127.0.0.1:{port}")
        .replace("@PUBLIC_DIR@", str(public_dir))
        .replace("@APP@", f"127.0.0.1:{app_port}")
        .replace("@NOTICES@", str(NGINX_CONFIG.parent))
    )
    url = f"http://127.0.0.1:{port}"
    answers = lambda: requests.get(url + "/status/none.json", timeout=1).status_code  # noqa: E731
    return start_nginx_process(prefix, server_block, answers, connections), url


class LiveServer:
    """`python -m server` on 127.0.0.1 and a free port, with its own database file."""

    def __init__(self, db_path: Path, env: dict | None = None, cwd: Path = REPO):
        self.db_path = db_path
        self.cwd = cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "EXITNOW_DB": str(db_path),
            **engine_env(db_path),
            "EXITNOW_PUBLIC_DIR": str(db_path.parent / "public"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "EXITNOW_SECRET_KEY": "live-test-secret",
            # No 32 MiB disk reserve in every test's folder; tests/test_disk.py sets one.
            "EXITNOW_DISK_RESERVE_MB": "0",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.output = db_path.parent / f"server-{self.port}.log"

    def start(self, demo: bool = False, timeout: float = 20) -> LiveServer:
        args = [sys.executable, "-m", "server"] + (["--demo"] if demo else [])
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with open(self.output, "ab") as output:
            self.process = subprocess.Popen(
                args, cwd=self.cwd, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not listening, or still busy
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.output.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return flask_cli(self.db_path, *args, cwd=self.cwd, **self.env)

    def token(self, role: str, name: str) -> str:
        result = self.cli("create-token", "--site", "demo", "--role", role, "--name", name)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    def post(
        self, path: str, token: str, body=None, key: str | None = None, timeout: float = 10
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        return requests.post(self.url + path, json=body or {}, headers=headers, timeout=timeout)

    def get(self, path: str, token: str) -> requests.Response:
        return requests.get(
            self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )


def mount_small_disk(folder: Path, size_mb: int) -> list[str]:
    """A tmpfs of `size_mb` at `folder`, else an ext4 image loop-mounted there; the command
    that unmounts it. Skips when this machine lets the test mount neither."""
    folder.mkdir()
    tried = []
    tmpfs = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(folder)]
    image = folder.parent / "disk.img"
    attempts = [
        [tmpfs],
        [
            ["truncate", "-s", f"{size_mb}M", str(image)],
            ["mkfs.ext4", "-q", "-m", "0", str(image)],
            ["mount", "-o", "loop", str(image), str(folder)],
        ],
    ]
    for steps in attempts:
        done = [subprocess.run(step, capture_output=True, text=True) for step in steps]
        if all(result.returncode == 0 for result in done):
            return ["umount", "-l", str(folder)]
        tried += [result.stderr.strip() for result in done if result.returncode]
    pytest.skip(f"cannot mount a small file system here: {tried}")


def unit_settings(
    db_path: Path, secret_key: str = "test-secret", database_url: str | None = None
) -> Settings:
    """Settings for an app in the test's own process: its database file, the public folder
    beside it, threading mode (no monkey-patching in pytest). With EXITNOW_TEST_ENGINE=postgresql
    the store is a new database of its own on one PostgreSQL server for the whole run."""
    return Settings(
        db_path=str(db_path),
        database_url=database_url or store_url_for(db_path),
        public_dir=str(Path(db_path).parent / "public"),
        async_mode="threading",
        secret_key=secret_key,
        disk_reserve_mb=0,  # no 32 MiB file beside every test's database (tests/test_disk.py)
        testing=True,
    )


_POSTGRES: list[PostgresServer] = []


def store_url_for(db_path: Path) -> str | None:
    """None (the SQLite file) unless EXITNOW_TEST_ENGINE=postgresql: then the database that
    stands for the file `db_path` on the run's PostgreSQL server (made on first use; the
    server is started on first use and stopped when the run ends)."""
    if os.environ.get("EXITNOW_TEST_ENGINE", "sqlite") != "postgresql":
        return None
    return tests_postgres().create_database(_database_name(db_path))


def _database_name(db_path: Path) -> str:
    return "t_" + hashlib.sha256(str(Path(db_path).resolve()).encode()).hexdigest()[:24]


def copy_store(source: Path, target: Path) -> None:
    """The store of the database file `target` made a copy of `source`'s: the file copied, or
    on PostgreSQL a database made with the other as its template (nobody may be connected to
    it then: close its app's store first)."""
    if os.environ.get("EXITNOW_TEST_ENGINE", "sqlite") != "postgresql":
        for suffix in ("", "-wal", "-shm"):  # the WAL too, should a connection be open
            if Path(f"{source}{suffix}").exists():
                shutil.copy2(f"{source}{suffix}", f"{target}{suffix}")
        return
    import psycopg

    with psycopg.connect(tests_postgres().url("postgres"), autocommit=True) as connection:
        connection.execute(
            f'CREATE DATABASE "{_database_name(target)}" TEMPLATE "{_database_name(source)}"'
        )


def tests_postgres() -> PostgresServer:
    """The run's PostgreSQL server, started on first use and stopped when the run ends."""
    if not _POSTGRES:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="exitnow-postgres-"))
        _POSTGRES.append(PostgresServer(folder, durable=False).start())
        atexit.register(lambda: (_POSTGRES[0].stop(), shutil.rmtree(folder, True)))
    return _POSTGRES[0]


tests_postgres.__test__ = False  # a test file that imports it is not given it as a test


# A test of the SQLite file itself (its pragmas, triggers, copies, migrations, file modes):
# skipped when the tests run on PostgreSQL, where tests/test_postgresql.py says the same.
only_on_sqlite = pytest.mark.skipif(
    os.environ.get("EXITNOW_TEST_ENGINE", "sqlite") == "postgresql",
    reason="the SQLite file's own behaviour",
)


@contextlib.contextmanager
def outside_store(db_path: Path):
    """The test's store opened beside the server, as whoever holds the database can: sqlite3 on
    the file, or psycopg on the PostgreSQL database that stands for it; `?` placeholders and
    tuple rows either way; committed when the block ends."""
    url = store_url_for(db_path)
    if url is None:
        connection = sqlite3.connect(db_path, timeout=10)
        try:
            with connection:
                yield connection
        finally:
            connection.close()
        return
    import psycopg

    from server.store.postgresql import Database

    with psycopg.connect(url) as connection:  # commits at the end of the block
        yield Database(connection)


def end_restored_time(db_path: Path) -> None:
    """As if the site's restored time were over: the server's timer reopens within 5 s."""
    with outside_store(db_path) as db:
        db.execute("UPDATE public_notices SET restored_until = 0")


def engine_env(db_path: Path) -> dict[str, str]:
    """The environment that points a server process at the test's store."""
    url = store_url_for(db_path)
    return {"EXITNOW_DATABASE_URL": url} if url else {}


def prepare_database(
    db_path: Path, people: dict[str, int], database_url: str | None = None
) -> dict[str, list[str]]:
    """Seed the demo site into a database file and make bearer tokens: {role: [token, ...]}.

    Quicker than one `flask create-token` process per person when a test needs fifty.
    """
    services = create_app(unit_settings(db_path, "x", database_url)).extensions["exitnow"]
    demo.seed(services)
    tokens = {
        role: [
            execute(
                services,
                command_line("demo"),
                "demo",
                "create_token",
                {"name": f"{role} {i}", "role": role},
            )["token"]
            for i in range(count)
        ]
        for role, count in people.items()
    }
    services.store.close()
    return tokens


def send_until_answered(
    nodes: list[LiveServer], first: int, path: str, token: str, key: str, body=None, timeout=60
):
    """As a phone's outbox does: the same key again, on the next node, until answered."""
    deadline = time.monotonic() + timeout
    node = first
    while time.monotonic() < deadline:
        try:
            answer = nodes[node].post(path, token, body, key=key)
            if answer.status_code in (200, 201):
                return answer.json()
            assert answer.status_code == 503, answer.text  # refused for now, never a 500
        except (requests.ConnectionError, requests.Timeout):
            pass
        node = (node + 1) % len(nodes)
        time.sleep(0.1)
    raise AssertionError(f"{path} {key} was never answered")


def log_rows(url: str) -> list[tuple]:
    """The demo site's log on PostgreSQL: (seq, type, payload) in order."""
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute(
            "SELECT seq, type, payload FROM events WHERE site = 'demo' ORDER BY seq"
        ).fetchall()


def each_answered_once(url: str, answered: dict, types: dict, phones: int) -> list[tuple]:
    """Asserts that every answered receipt ({(path, i): answer}) is in the demo site's log on
    PostgreSQL once, at the seq it was answered with, each phone's once per type, the seqs
    without a gap or a fork; returns the log's rows."""
    rows = log_rows(url)
    by_seq = {seq: (type_, json.loads(payload)) for seq, type_, payload in rows}
    for (path, _), answer in answered.items():
        assert by_seq[answer["seq"]][0] == types[path]
    assert len({answer["seq"] for answer in answered.values()}) == len(answered)
    for type_ in types.values():
        staff = [payload["staff_id"] for t, payload in by_seq.values() if t == type_]
        assert len(staff) == len(set(staff)) == phones
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    return rows


def connections_held(port: int, count: int, stop, resume) -> int:
    """How many of `count` connections opened at once to 127.0.0.1:`port` the kernel completes
    while the server accepts none (`stop()` until `resume()`): at most its listen backlog
    (+1). Beyond it the kernel drops a SYN, and the client sends it again after a second."""
    phones = []
    stop()
    try:
        for _ in range(count):
            phone = socket.socket()
            phone.setblocking(False)
            phone.connect_ex(("127.0.0.1", port))  # in progress
            phones.append(phone)
        time.sleep(0.5)
        _, connected, _ = select.select([], phones, [], 0)
        return sum(phone.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for phone in connected)
    finally:
        resume()
        for phone in phones:
            phone.close()


def wait_for(predicate, timeout: float = 10) -> bool:
    """Whether `predicate()` holds within `timeout` seconds (asked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def run_async(coroutine):
    """asyncio.run(coroutine) in a thread of its own: the run's Chromium (Playwright's sync
    API, session-wide) holds an event loop in the tests' main thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def eventually(check, timeout: float = 10, every: float = 0.05):
    """What `check()` returns once it is true, polled every `every` seconds (for state that
    changes in another process or a background task); AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s")


class RedisServer:
    """Debian's redis-server on 127.0.0.1 and a fixed port, which can be stopped and started
    again (an outage); no persistence."""

    def __init__(self, folder: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> RedisServer:
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--dir", str(self.folder), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Api:
    """A signed-in HTTP client of the app under test."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path: str, body=None, key: str | None = None, raw: str | None = None):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        if raw is not None:
            return self.client.post(
                path, data=raw, headers=headers, content_type="application/json"
            )
        return self.client.post(path, json=body, headers=headers)

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)


class InOrderEngineIO(engineio.Client):
    """Engine.IO's client runs each message's handler in a thread of its own, so a `state`
    could be handled before the `events` sent ahead of it (and the events then dropped as
    seen). A browser handles them one after another, in order: so does this one, on the
    read loop (the handlers only note and emit; none waits for an answer)."""

    def _trigger_event(self, event, *args, **kwargs):
        kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return InOrderEngineIO


class StaffClient:
    """A real python-socketio client that records every event it receives (from `event` and
    `events` messages alike, in order: a redacted range is one item) and every `state`."""

    def __init__(self, url: str, token: str, last_seq: int | None = None):
        self.events: list[dict] = []
        self.states: list[dict] = []
        self.messages: list[str] = []  # the name of every message, in order
        self.disk: list[dict] = []  # each `disk` message (responders: the console's banner)
        self.syncs = 0  # how often it asked for what it missed (a gap, or behind a `head`)
        self._changed = threading.Condition()
        self.sio = InOrderClient(reconnection=False)
        self.sio.on("event", self._on_event)
        self.sio.on("events", self._on_events)
        self.sio.on("state", self._on_state)
        self.sio.on("head", self._on_head)
        self.sio.on("disk", self._on_disk)
        auth = {"token": token} if last_seq is None else {"token": token, "last_seq": last_seq}
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=20)

    def _on_event(self, data: dict) -> None:
        with self._changed:
            self.messages.append("event")
            self._keep([data])

    def _on_events(self, data: list) -> None:
        with self._changed:
            self.messages.append("events")
            self._keep(data)

    def _keep(self, items: list) -> None:
        """As the staff app does: skip what was seen (one can arrive twice around a
        reconnect), and at a gap in `seq` ask for the rest and drop the batch's tail."""
        for item in items:
            last = self.last_seq()
            if last is not None and item.get("last_seq", item["seq"]) <= last:
                continue
            if last is not None and item["seq"] > last + 1:
                self._sync(last)
                break
            self.events.append(item)
        self._changed.notify_all()

    def _on_state(self, data: dict) -> None:
        with self._changed:
            self.messages.append("state")
            self.states.append(data)
            self._changed.notify_all()

    def _on_disk(self, data: dict) -> None:
        with self._changed:
            self.messages.append("disk")
            self.disk.append(data)
            self._changed.notify_all()

    def _on_head(self, data: dict) -> None:
        """As the staff app does: behind the site's head, ask for the rest."""
        with self._changed:
            self.messages.append("head")
            last = self.last_seq()
            if last is not None and data["seq"] > last:
                self._sync(last)

    def _sync(self, last: int) -> None:
        self.syncs += 1
        self.sio.emit("sync", {"last_seq": last})

    def last_seq(self) -> int | None:
        """The newest seq this client knows, from events or the last state."""
        known = self.seqs()[-1:] + [state["seq"] for state in self.states[-1:]]
        return max(known, default=None)

    def seqs(self) -> list[int]:
        """Every sequence number this client has learnt, redacted ranges included."""
        numbers: list[int] = []
        for event in self.events:
            numbers += range(event["seq"], event.get("last_seq", event["seq"]) + 1)
        return numbers

    def wait_until(self, predicate, timeout: float = 10) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout=timeout)

    def wait_for_event(self, type_: str, timeout: float = 10) -> dict | None:
        self.wait_until(lambda c: any(e["type"] == type_ for e in c.events), timeout)
        return next((e for e in self.events if e["type"] == type_), None)

    def act(self, command: str, params: dict | None = None, key: str | None = None) -> dict:
        data = {"command": command, "params": params or {}}
        if key:
            data["idempotency_key"] = key
        return self.sio.call("action", data, timeout=10)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


# --- Web Push as a push service and a browser see it ----------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_vapid(authorization: str, audience: str, server_key: str) -> dict:
    """Check `vapid t=<JWT>, k=<key>` (RFC 8292): the ES256 signature, audience and expiry."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == server_key
    header, claims, signature = fields["t"].split(".")
    raw = unb64url(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    public.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{header}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == audience
    assert decoded["exp"] > time.time()
    assert json.loads(unb64url(header))["alg"] == "ES256"
    return decoded


class StandIn:
    """A service on 127.0.0.1 that tests talk to: it records each request it received, in
    order, and a test waits for them with a timeout. `serve(Handler, port)` starts it (one
    thread per connection); `close()` stops it."""

    def __init__(self):
        self.received: list[dict] = []
        self.arrived = threading.Condition()
        self.server: ThreadingHTTPServer | None = None

    def record(self, request: dict) -> None:
        with self.arrived:
            self.received.append(request)
            self.arrived.notify_all()

    def serve(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> str:
        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a sender may open many connections at once
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 10) -> list[dict]:
        """Every request so far, once `count` have arrived; AssertionError after `timeout`
        (a caller that forgot to check must not pass on too few)."""
        arrived = self.received_within(count, timeout)
        if len(arrived) < count:
            raise AssertionError(f"{len(arrived)} of {count} requests within {timeout} s")
        return arrived

    def received_within(self, count: int, timeout: float) -> list[dict]:
        """Every request that arrived by the time `count` had, or `timeout` passed: for a
        test that no more than some arrive."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


class PushService(StandIn):
    """A push service on 127.0.0.1: records each push (with the connection it came on and
    when); answers 410 under /gone/. One thread per connection, kept alive."""

    def __init__(self, answer_after: float = 0.0):
        super().__init__()
        self.answer_after = answer_after  # seconds: a push service across the internet
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real push services do

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                push = {"path": self.path, "headers": dict(self.headers), "body": body}
                push.update(at=time.monotonic(), connection=self.client_address)
                service.record(push)
                time.sleep(service.answer_after)
                self.send_response(410 if self.path.startswith("/gone/") else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.url = self.serve(Handler)


class Browser:
    """A browser's side of a subscription: its ECDH key pair and auth secret."""

    def __init__(self, endpoint: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def prepare_panel_site(db_path: Path, policy: dict | None = None) -> tuple[dict[str, str], str]:
    """The demo site in a database file for a LiveServer, with a bearer token per role and an
    alarm panel secret sealed under LiveServer's secret key, and the site's own alarm panel
    policy when given: ({role: token}, the panel's secret). Quicker than the CLI, before start."""
    from server.commands.site_config import read_site

    services = create_app(unit_settings(db_path, "live-test-secret")).extensions["exitnow"]
    demo.seed(services)
    operator = command_line("demo")
    if policy:
        with services.store.reading() as db:
            config = {**read_site(db, "demo"), "alarm_panel": policy}
        execute(services, operator, "demo", "import_site", {"config": config})
    tokens = {
        role: execute(services, operator, "demo", "create_token", {"name": role, "role": role})[
            "token"
        ]
        for role in ("staff", "duty_manager", "admin")
    }
    secret = execute(services, operator, "demo", "add_alarm_panel_secret", {})["secret"]
    services.store.close()
    return tokens, secret


# --- pages at a large text size ---------------------------------------------------------


def larger_text(page, percent: int) -> None:
    """The reader's own text size (the browser's default font size, which rem follows)."""
    cdp = page.context.new_cdp_session(page)
    size = 16 * percent // 100
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": size, "fixed": size}})
    page.evaluate("() => dispatchEvent(new Event('resize'))")
    page.wait_for_timeout(300)


# Every visible element that sticks out of the screen or out of its own box (cut off).
CUT_OFF = r"""
() => {
  const width = document.documentElement.clientWidth;
  const height = document.documentElement.clientHeight;
  // Below the bottom of a fixed box that does not scroll: nobody can ever see it.
  const stuck = (el) => {
    for (; el; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.overflowY === "auto" || style.overflowY === "scroll") return false;
      if (style.position === "fixed") return true;
    }
    return false;
  };
  const problems = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.getClientRects().length === 0 || el.tagName === "SCRIPT") continue;
    const box = el.getBoundingClientRect();
    const name = `${el.tagName.toLowerCase()}.${el.className} "${(el.innerText || "").replace(/\s+/g, " ").slice(0, 30)}"`;
    if (box.right > width + 1 || box.left < -1) problems.push(`outside the screen: ${name}`);
    if (stuck(el) && box.bottom > height + 1) problems.push(`below a fixed screen: ${name}`);
    // A text field scrolls its own text; its box must still fit (the test above).
    const scrollsItsText = ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
    if (!scrollsItsText && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "auto") {
      problems.push(`cut off: ${name}`);
    }
  }
  return problems;
}
"""


class TwilioStandIn(StandIn):
    """Twilio's Messages resource as the `twilio` package calls it: records each SMS and
    answers 201 with a message SID, or Twilio's error for a number in `refused` ({number:
    HTTP status}, as Twilio answers a number it will not text: 400 and code 21211)."""

    ACCOUNT = "AC00000000000000000000000000000001"
    AUTH_TOKEN = "twilio-test-auth-token"
    SENDER = "+15005550006"

    def __init__(self):
        super().__init__()
        self.refused: dict[str, int] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                message = {key: values[0] for key, values in form.items()}
                message["path"] = self.path
                message["authorization"] = self.headers.get("Authorization")
                stand_in.record(message)
                status = stand_in.refused.get(message.get("To"), 201)
                if status != 201:
                    error = {"code": 21211, "message": "Invalid 'To' Phone Number"}
                    body = json.dumps({**error, "status": status}).encode()
                else:
                    sid = f"SM{len(stand_in.received):032d}"
                    body = json.dumps({"sid": sid, "status": "queued"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.url = self.serve(Handler)

    def wait_for(self, count: int, timeout: float = 15) -> list[dict]:
        return super().wait_for(count, timeout)

    def settings_for(self, settings):
        """`settings` (the app's, for an app in the test's process) sending SMS here."""
        return dataclasses.replace(
            settings,
            twilio_account_sid=self.ACCOUNT,
            twilio_auth_token=self.AUTH_TOKEN,
            twilio_from=self.SENDER,
            twilio_api_url=self.url,
        )

    def env(self) -> dict[str, str]:
        """The server's settings that send its SMS here."""
        return {
            "EXITNOW_TWILIO_ACCOUNT_SID": self.ACCOUNT,
            "EXITNOW_TWILIO_AUTH_TOKEN": self.AUTH_TOKEN,
            "EXITNOW_TWILIO_FROM": self.SENDER,
            "EXITNOW_TWILIO_API_URL": self.url,
        }


class PostgresServer:
    """Debian's PostgreSQL on 127.0.0.1 and a free port, in a cluster of its own made in
    `folder` (initdb run as the postgres system user when the tests run as root; PostgreSQL
    refuses to run as root). Trust authentication on 127.0.0.1 only. `durable=False` (the
    test run's shared server) turns fsync off: a test run makes hundreds of databases, each
    a synced copy of the template otherwise; what survives a crash is tested on servers of
    their own, durable."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, folder: Path, durable: bool = True, settings: dict | None = None):
        if not (self.BIN / "postgres").exists():
            raise RuntimeError("PostgreSQL 15 is not installed: apt-get install -y postgresql")
        self.folder = folder / "pgdata"
        self.port = free_port()
        self.user = "postgres" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        self.durable = durable
        self.settings = settings or {}  # postgresql.conf settings given on the command line
        self.process: subprocess.Popen | None = None

    def url(self, database: str = "exitnow") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else list(command)

    def start(self, timeout: float = 30) -> PostgresServer:
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            if os.getuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
                shutil.chown(self.folder.parent, "postgres")
            subprocess.run(
                self._as_owner(str(self.BIN / "initdb"), "-D", str(self.folder), "-A", "trust")
                + ["-U", self.user, "--no-sync"],
                check=True,
                capture_output=True,
            )
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.folder}".split()
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            options += ["-c", "full_page_writes=off"]
        for name, value in self.settings.items():
            options += ["-c", f"{name}={value}"]
        self.process = subprocess.Popen(
            self._as_owner(str(self.BIN / "postgres"), "-D", str(self.folder), *options),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("PostgreSQL did not start")

    def create_database(self, name: str) -> str:
        """The URL of database `name`, made when it is not there yet."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            made = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if made.fetchone() is None:
                connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def pause(self) -> list[int]:
        """SIGSTOP to the postmaster and every process of it: a server that hangs (stalled on
        its disk) with its sockets open, answering nothing; no TCP timeout notices that.
        Returns the pids for `resume`."""
        master = int((self.folder / "postmaster.pid").read_text().splitlines()[0])
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        pids = [master, *map(int, children.stdout.split())]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    def resume(self, pids: list[int]) -> None:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL to the postmaster alone, as the machine's power going: no shutdown code
        runs (its backends end when they notice it gone)."""
        pid = int((self.folder / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """A fast shutdown (SIGINT to the postmaster, as `pg_ctl stop -m fast`); the whole
        process group killed if it has not stopped within a minute."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class ReplicatedPostgres:
    """A primary and a synchronous standby on 127.0.0.1, durable (streaming replication): a
    commit returns once the standby has it too (synchronous_standby_names = 'ANY 1 (standby)').
    The standby is promoted by `promote` (pg_promote), deploy/README.md's manual step, which
    Patroni takes in production. `url` names both, for whichever is the primary."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o711)  # the postgres user goes through it to both data folders
        self.primary = PostgresServer(
            folder / "primary", settings={"synchronous_standby_names": "ANY 1 (standby)"}
        )
        self.standby = PostgresServer(folder / "standby", settings={"cluster_name": "standby"})

    def url(self, database: str = "exitnow") -> str:
        hosts = ",".join(f"127.0.0.1:{server.port}" for server in (self.primary, self.standby))
        return (
            f"postgresql://{self.primary.user}@{hosts}/{database}?target_session_attrs=read-write"
        )

    def start(self, timeout: float = 30) -> ReplicatedPostgres:
        self.primary.start()
        copy = self.standby.folder
        copy.parent.mkdir(parents=True)
        if os.getuid() == 0:
            shutil.chown(copy.parent, "postgres", "postgres")
        subprocess.run(
            self.primary._as_owner(str(PostgresServer.BIN / "pg_basebackup"))
            + ["-h", "127.0.0.1", "-p", str(self.primary.port), "-U", self.primary.user]
            + ["-D", str(copy), "--write-recovery-conf", "--wal-method=stream"],
            check=True,
            capture_output=True,
        )
        self.standby.start()
        deadline = time.monotonic() + timeout
        while not self.is_synchronous():
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not become synchronous")
            time.sleep(0.1)
        self.primary.create_database("exitnow")  # a commit: it waits for the standby
        return self

    def is_synchronous(self) -> bool:
        import psycopg

        with psycopg.connect(self.primary.url("postgres"), autocommit=True) as db:
            states = db.execute("SELECT sync_state FROM pg_stat_replication").fetchall()
        return ("quorum",) in states or ("sync",) in states

    def promote(self) -> None:
        import psycopg

        with psycopg.connect(self.standby.url("postgres"), autocommit=True) as db:
            assert db.execute("SELECT pg_promote(true, 60)").fetchone()[0]

    def stop(self) -> None:
        for server in (self.primary, self.standby):
            server.stop()


@contextlib.contextmanager
def started_in_tmp(kind, prefix: str):
    """A cluster of `kind` (ReplicatedPostgres, harness.patroni.PatroniCluster) in a new folder
    under /tmp, not pytest's (the postgres system user must reach it), started; stopped after,
    its folder removed (its WAL is hundreds of MB), a failed start too."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = None
    try:
        cluster = kind(folder)
        yield cluster.start()
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
