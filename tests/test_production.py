"""The production recipe, through its launcher (deploy/launch.py): nginx with TLS in front of
eventlet workers that share Redis, sticky sessions, and two nodes sharding the sites."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import socketio
from test_supervision import SUPERVISED_SECONDS, readiness, wait_for

from deploy.launch import Stack
from harness import enrolled_page, prepare_database, run_async

AINO = 2  # the demo's first staff member (node 1, site demo)
OLGA = 2  # the outlet's first staff member (node 2, site outlet)


def bearer(stack: Stack, node: int, site: str, role: str = "duty_manager") -> str:
    """A bearer token made with the node's command line, as its operator makes one."""
    made = stack.nodes[node].cli("create-token", "--site", site, "--role", role, "--name", role)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def post(stack: Stack, path: str, token: str, body: dict) -> requests.Response:
    """A request through nginx, over TLS checked against the test certificate."""
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(
        stack.url + path, json=body, headers=headers, verify=str(stack.certificate), timeout=10
    )


@contextlib.contextmanager
def one_node_of(folder: Path, people: dict[str, int]) -> Iterator[tuple[Stack, dict]]:
    """One node of two workers behind nginx, its database the demo site with tokens for these
    people ({role: count}): (stack, {role: [token, ...]}); stopped at the end."""
    stack = Stack(folder, workers=2)
    tokens = prepare_database(stack.nodes[0].db_path, people)
    with stack:
        stack.start()
        yield stack, tokens


def socket_urls(context) -> list[str]:
    """The URL of every WebSocket that the context's pages open from now on."""
    urls: list[str] = []
    context.on("page", lambda page: page.on("websocket", lambda socket: urls.append(socket.url)))
    return urls


@pytest.fixture
def two_nodes(tmp_path):
    """Two nodes of two workers each behind one nginx: node 1 owns the demo shop, node 2 the
    outlet; their sites are created as `--demo` creates them."""
    stack = Stack(tmp_path / "run", workers=2, nodes=2)
    try:
        stack.start(demo=True)
        yield stack
    finally:
        stack.stop()


def test_phones_get_their_own_sites_alarm_through_nginx_with_tls(two_nodes, browser):
    stack = two_nodes
    phones, sockets = {}, {}
    for node, site, staff_id in ((0, "demo", AINO), (1, "outlet", OLGA)):
        # Each phone is its own browser; the test certificate is not in Chromium's store.
        context = browser.new_context(ignore_https_errors=True)
        sockets[site] = socket_urls(context)
        page = enrolled_page(context, stack.nodes[node], staff_id, site=site)
        page.wait_for_selector("#screen-home:not([hidden])")
        page.wait_for_function("() => document.getElementById('connection').className === 'ok'")
        assert page.url.startswith(stack.url)  # https, through nginx
        phones[site] = page
    assert "Aino Aaltonen" in phones["demo"].inner_text("#home-who")
    assert "Olga Olsson" in phones["outlet"].inner_text("#home-who")
    # nginx routes a socket by the site in its query, not only by the node cookie.
    assert all(
        urls and all(f"site={site}" in url for url in urls) for site, urls in sockets.items()
    )
    # The outlet's queue screen, a browser of its own (no node cookie): with status.json
    # unreachable, whatever it shows came through its socket, which must reach node 2.
    screen = browser.new_context(ignore_https_errors=True).new_page()
    screen.route("**/status/outlet.json", lambda route: route.abort())
    screen.goto(stack.url + "/screen/outlet")
    screen.wait_for_function("() => document.body.dataset.state === 'open'", timeout=5_000)

    started = post(
        stack, "/api/sites/outlet/incidents", bearer(stack, 1, "outlet"), {"kind": "fire"}
    )

    assert started.status_code == 201, started.text
    phones["outlet"].wait_for_selector("#screen-alarm:not([hidden])", timeout=5_000)
    assert phones["outlet"].inner_text("#alarm-title") == "Brandlarm"  # Olga reads Swedish
    screen.wait_for_selector("#takeover.closed:not([hidden])", timeout=5_000)
    assert phones["demo"].is_hidden("#screen-alarm")  # another site, another node
    # The outlet's notice, from node 2's snapshot folder; the demo shop stays open.
    verify = str(stack.certificate)
    outlet = requests.get(stack.url + "/status/outlet.json", verify=verify, timeout=5)
    assert outlet.json()["state"] == "closed"
    assert (stack.nodes[1].public_dir / "outlet" / "status.json").read_bytes() == outlet.content
    demo = requests.get(stack.url + "/status/demo.json", verify=verify, timeout=5)
    assert demo.json()["state"] == "open"

    demo_started = post(
        stack, "/api/sites/demo/incidents", bearer(stack, 0, "demo"), {"kind": "evacuation"}
    )
    assert demo_started.status_code == 201, demo_started.text
    phones["demo"].wait_for_selector("#screen-alarm:not([hidden])", timeout=5_000)
    assert phones["demo"].inner_text("#alarm-title") == "Evakuointi"


# --- a thousand phones over two workers, one worker killed --------------------------------------


@dataclass
class Phone:
    """A light Socket.IO client (the v5 text protocol over one aiohttp websocket, as
    harness/bench.py's) that keeps what the staff app keeps: the newest seq it has every event
    up to, a `sync` when it sees a gap, `last_seq` when it connects again."""

    token: str
    base: int | None = None  # the seq of its first state
    last: int | None = None  # it has every event from base up to this seq
    seen: set = field(default_factory=set)
    connected: bool = False
    connects: int = 0
    refused: list = field(default_factory=list)  # the app said no: never expected
    failures: int = 0  # no answer or 502 while a worker was gone: tried again
    replayed: int = 0  # events it got in a catch-up after connecting again
    catching_up: bool = False

    async def live(self, http, url: str) -> None:
        """Connect, listen, and connect again whenever the socket is lost (until cancelled)."""
        import aiohttp

        while True:
            auth = {"token": self.token}
            if self.last is not None:
                auth["last_seq"] = self.last
            try:
                ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket")
            except (TimeoutError, aiohttp.ClientError, OSError):
                self.failures += 1
                await asyncio.sleep(random.uniform(0.2, 0.6))
                continue
            try:
                await self.talk(ws, auth)
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
                self.failures += 1
            finally:
                self.connected = False
                await ws.close()
            # As Socket.IO's client waits before it reconnects (randomised, about a second).
            await asyncio.sleep(random.uniform(0.2, 1.0))

    async def talk(self, ws, auth: dict) -> None:
        import aiohttp

        opened = await ws.receive_str()
        if not opened.startswith("0"):
            raise ValueError(opened)
        await ws.send_str("40" + json.dumps(auth))
        joined = await ws.receive_str()
        if not joined.startswith("40"):
            self.refused.append(joined[:200])
            return
        self.connected, self.connects = True, self.connects + 1
        self.catching_up = self.connects > 1
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                return
            if frame.data == "2":  # Engine.IO ping
                await ws.send_str("3")
            elif frame.data.startswith("42"):
                name, data = json.loads(frame.data[2:])
                ask = self.receive(name, data)
                if ask is not None:
                    await ws.send_str("42" + json.dumps(["sync", {"last_seq": ask}]))

    def receive(self, name: str, data) -> int | None:
        """Keep what arrived; the last seq to ask from when something is missing."""
        if name == "state":
            self.catching_up = False
            if self.base is None:
                self.base = self.last = data["seq"]
            return self.last if data["seq"] > self.last else None
        if name == "head":  # the supervised path, where the server has it
            return self.last if self.last is not None and data["seq"] > self.last else None
        items = [data] if name == "event" else data if name == "events" else []
        for item in items:
            first, final = item["seq"], item.get("last_seq", item["seq"])
            if self.last is None or final <= self.last:
                continue  # before its first state (which covers it), or seen already
            if first > self.last + 1:
                return self.last  # a gap: ask for the rest, as the staff app does
            if self.catching_up:
                self.replayed += final - self.last
            self.seen.update(range(self.last + 1, final + 1))
            self.last = final
        return None


def established_to(port: int) -> int:
    """TCP connections established to a local port (nginx's to a worker), from /proc."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


PHONES = 1000
OUTAGE = 2.0  # seconds between the SIGKILL and the restart


def test_a_thousand_phones_are_back_with_every_event_after_a_worker_is_killed(tmp_path):
    """1000 phones over two workers; one worker SIGKILLed while the duty manager keeps
    changing the incident, and started again 2 s later. Every phone connects again (to the
    other worker, through nginx), none is refused, and within 5 s of the restart every phone
    has every event up to the last one: each seq, none skipped."""
    with one_node_of(tmp_path / "run", {"staff": PHONES, "duty_manager": 1}) as (stack, tokens):
        figures = run_async(asyncio.wait_for(kill_a_worker_under_a_crowd(stack, tokens), 60))
    print("\n" + "\n".join(f"{name}: {value}" for name, value in figures.items()))

    assert min(figures["sockets per worker"]) > PHONES // 4  # both workers had phones
    assert figures["refused"] == 0
    assert figures["behind, or not connected"] == 0
    assert figures["phones caught up after restart (s)"] <= 5
    assert figures["phones that got missed events on reconnecting"] > 0
    # A change sent to the worker as it died has no answer (nginx says 502 and, as the
    # request had left, does not send a POST again); none is refused.
    assert figures["changes refused"] == 0


async def kill_a_worker_under_a_crowd(stack: Stack, tokens: dict) -> dict:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, ssl=stack.ssl_context())
    jar = aiohttp.DummyCookieJar()  # each phone on its own, as separate phones are
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:
        phones = [Phone(token) for token in tokens["staff"]]
        tasks: list[asyncio.Task] = []
        try:
            return await crowd_scenario(stack, http, tokens, phones, tasks)
        finally:  # whatever happened, no phone outlives the session
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def until(predicate, seconds: float, what: str) -> None:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, f"{what} within {seconds} s"
        await asyncio.sleep(0.05)


async def crowd_scenario(stack: Stack, http, tokens: dict, phones: list, tasks: list) -> dict:
    import aiohttp

    figures = {}
    manager = {"Authorization": f"Bearer {tokens['duty_manager'][0]}"}
    workers = stack.nodes[0].workers

    async def command(path: str, body: dict) -> int:
        async with http.post(stack.url + path, json=body, headers=manager) as answer:
            return answer.status

    assert await command("/api/sites/demo/incidents", {"kind": "fire"}) == 201
    url = stack.url.replace("https", "wss", 1)
    cpu, began = time.process_time(), time.monotonic()
    for phone in phones:  # about 500 a second, as a crowd arriving
        tasks.append(asyncio.create_task(phone.live(http, url)))
        await asyncio.sleep(0.002)
    await until(lambda: all(p.base is not None for p in phones), 30, "every phone connected")
    figures["phones connected through TLS (s)"] = round(time.monotonic() - began, 2)
    figures["sockets per worker"] = [established_to(w.port) for w in workers]

    answers: collections.Counter = collections.Counter()

    async def change_the_incident() -> None:
        for n in itertools.count(1):
            body = {"message": f"Update {n}"}
            try:
                answers[await command("/api/sites/demo/incidents/current/update", body)] += 1
            except aiohttp.ClientError:
                answers["no answer"] += 1
            await asyncio.sleep(0.05)

    changes = asyncio.create_task(change_the_incident())
    tasks.append(changes)
    await asyncio.sleep(1)
    killed = time.monotonic()
    stack.kill_worker(0)
    await until(lambda: not all(p.connected for p in phones), 5, "the kill noticed")
    await until(lambda: all(p.connected for p in phones), 20, "phones back")
    figures["phones back after the kill (s)"] = round(time.monotonic() - killed, 2)
    await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - killed)))
    restarting = time.monotonic()
    await asyncio.to_thread(stack.restart_worker, 0)
    restarted = time.monotonic()
    figures["worker restart until /readyz (s)"] = round(restarted - restarting, 2)
    await asyncio.sleep(1)  # changes go on after the restart too
    changes.cancel()
    last_change = time.monotonic()
    path = "/api/sites/demo/events?after=0&limit=1"
    async with http.get(stack.url + path, headers=manager) as answer:
        head = (await answer.json())["seq"]

    def caught_up(phone: Phone) -> bool:
        return (
            phone.connected
            and phone.last == head
            and phone.seen >= set(range(phone.base + 1, head + 1))
        )

    with contextlib.suppress(AssertionError):
        await until(lambda: all(caught_up(p) for p in phones), 10, "phones caught up")
    figures["phones caught up after restart (s)"] = round(time.monotonic() - restarted, 2)
    figures["... after the last change (s)"] = round(time.monotonic() - last_change, 2)
    figures["changes made (incident.updated)"] = answers[200]
    figures["changes answered 502 by nginx (sent to the killed worker)"] = answers[502]
    figures["changes refused"] = sum(n for k, n in answers.items() if k not in (200, 502))
    figures["behind, or not connected"] = sum(not caught_up(p) for p in phones)
    figures["refused"] = sum(len(p.refused) for p in phones)
    figures["connections"] = sum(p.connects for p in phones)
    figures["failed connection attempts"] = sum(p.failures for p in phones)
    figures["phones that got missed events on reconnecting"] = sum(p.replayed > 0 for p in phones)
    figures["sockets per worker at the end"] = [established_to(w.port) for w in workers]
    figures["clients' CPU (s)"] = round(time.process_time() - cpu, 2)
    return figures


# --- Redis stopped and started while changes are made ------------------------------------------


def test_events_made_while_redis_is_down_reach_every_client_of_every_worker(
    tmp_path, connect, monkeypatch
):
    """Clients on both workers, through nginx with TLS; Redis stopped (its process, by its id)
    while the duty manager makes changes: the workers go on taking commands, each says it is
    not ready (/readyz 503), and within 10 s of Redis returning every client of every worker
    has every event, none skipped."""
    people = {"staff": 20, "duty_manager": 1}
    with one_node_of(tmp_path / "run", people) as (stack, tokens):
        # What python-socketio's websocket-client trusts for wss://: the test certificate.
        monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(stack.certificate))
        workers = stack.nodes[0].workers
        staff, clients = iter(tokens["staff"]), []
        # nginx sends each new socket to a worker by a hash of its own: connect until each
        # worker has two.
        while min(established_to(worker.port) for worker in workers) < 2:
            clients.append(connect(stack.url, next(staff)))
        assert all(client.wait_until(lambda c: c.states) for client in clients)
        assert [readiness(worker)[0] for worker in workers] == [200, 200]
        manager = tokens["duty_manager"][0]

        stack.stop_redis()
        started = post(stack, "/api/sites/demo/incidents", manager, {"kind": "fire"})
        assert started.status_code == 201, started.text  # the log is in SQLite: commands go on
        for worker in workers:
            assert wait_for(lambda w=worker: readiness(w)[0] == 503), "/readyz stayed 200"
            assert readiness(worker)[1]["checks"]["message_queue"] is False
        for n in range(3):
            body = {"message": f"Use exit {'ABC'[n]}"}
            updated = post(stack, "/api/sites/demo/incidents/current/update", manager, body)
            assert updated.status_code == 200, updated.text
        head = last_seq(stack, manager)
        stack.start_redis()
        returned = time.monotonic()

        deadline = returned + SUPERVISED_SECONDS
        for client in clients:
            assert client.wait_until(
                lambda c: c.last_seq() == head, max(0.0, deadline - time.monotonic())
            ), f"a client has {client.seqs()[-3:]}, the log {head}"
        print(f"\nevery client caught up {time.monotonic() - returned:.2f} s after Redis returned")
        for client in clients:  # every event after the state it connected with, none skipped
            assert client.seqs() == list(range(client.states[0]["seq"] + 1, head + 1))
        for worker in workers:
            assert wait_for(lambda w=worker: readiness(w)[0] == 200), "/readyz stayed 503"


def last_seq(stack: Stack, token: str) -> int:
    """The demo site's newest seq, from the API through nginx."""
    answer = requests.get(
        stack.url + "/api/sites/demo/events?after=0&limit=1",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(stack.certificate),
        timeout=10,
    )
    assert answer.ok, answer.text
    return answer.json()["seq"]


@pytest.fixture(scope="module")
def one_node(tmp_path_factory):
    """One node of two workers behind nginx, with a staff member and a duty manager."""
    folder = tmp_path_factory.mktemp("production") / "run"
    with one_node_of(folder, {"staff": 1, "duty_manager": 1}) as (stack, tokens):
        yield stack, tokens


def test_long_polling_stays_on_the_worker_that_opened_its_session(one_node):
    """A phone whose network allows no WebSocket polls: every request of its session must
    reach the worker that knows the session, which nginx's sticky cookie sees to (without
    it, such a client fails to connect through two workers at all)."""
    stack, tokens = one_node
    manager = tokens["duty_manager"][0]
    http = requests.Session()
    http.trust_env = False  # else REQUESTS_CA_BUNDLE would win over verify
    http.verify = str(stack.certificate)
    client = socketio.Client(reconnection=False, http_session=http)
    got = threading.Event()
    client.on("event", lambda _event: got.set())
    client.on("events", lambda _batch: got.set())
    client.connect(stack.url, auth={"token": tokens["staff"][0]}, transports=["polling"])
    try:
        assert "exitnow_worker" in http.cookies  # nginx's, for the socket's path only
        for _ in range(3):  # rounds of polling requests, each of which must stick
            got.clear()
            assert post(stack, "/api/sites/demo/incidents", manager, {"kind": "fire"}).ok
            assert got.wait(10)
            answer = client.call("action", {"command": "acknowledge", "params": {}}, timeout=10)
            assert answer["ok"] is True, answer
            body = {"reason": "false_alarm"}
            ended = post(stack, "/api/sites/demo/incidents/current/all-clear", manager, body)
            assert ended.ok, ended.text
        assert client.transport() == "polling"
    finally:
        client.disconnect()


def test_a_client_cannot_choose_its_address_through_nginx(one_node):
    """The workers trust one proxy (EXITNOW_TRUSTED_PROXIES=1) and nginx appends the address
    it saw to X-Forwarded-For: a guesser who sends a new address of its own with every try
    still meets the guessing limit of the address it comes from."""
    stack, _ = one_node
    statuses = [
        requests.get(
            stack.url + "/api/me",
            headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"203.0.113.{i}"},
            verify=str(stack.certificate),
            timeout=10,
        ).status_code
        for i in range(40)  # each of the two workers allows 10 at once
    ]
    assert set(statuses) == {401, 429}
