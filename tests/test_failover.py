"""Losing a machine in the middle of an alarm: PostgreSQL with a synchronous standby, two app
nodes serving every site from it, 200 phones and a steady stream of receipts with idempotency
keys. The primary's postmaster is killed (the standby promoted, as deploy/README.md's manual
step or Patroni does), then one app node: nothing acknowledged is lost or doubled, the log
verifies on the survivor, every phone has every event, and the notices are right. With the
standby down first, nothing is acknowledged until it is back."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import socketio

from harness import (
    InOrderClient,
    LiveServer,
    ReplicatedPostgres,
    each_answered_once,
    log_rows,
    prepare_database,
    send_until_answered,
    started_in_tmp,
    wait_for,
)

PHONES = 200
SITE = "/api/sites/demo"
RECEIPTS = ("delivered", "acknowledge")
TYPES = {"delivered": "alarm.delivered", "acknowledge": "alarm.acknowledged"}


@pytest.fixture
def cluster():
    with started_in_tmp(ReplicatedPostgres, "exitnow-failover-") as pair:
        yield pair


@pytest.fixture
def nodes(cluster, tmp_path):
    """Two app nodes on the cluster, each with its own public folder; the keys beside
    EXITNOW_DB are the deployment's, the same on both (as the recipe copies them)."""
    db_path = tmp_path / "keys" / "exitnow.db"
    people = {"staff": PHONES, "duty_manager": 1}
    tokens = prepare_database(db_path, people, database_url=cluster.url())
    started = []
    for name in ("a", "b"):
        env = {
            "EXITNOW_DATABASE_URL": cluster.url(),
            "EXITNOW_PUBLIC_DIR": str(tmp_path / f"public-{name}"),
        }
        started.append(LiveServer(db_path, env=env).start())
    yield started, tokens
    for node in started:
        node.stop()


class Phone:
    """A staff phone that keeps its seq and, when its node goes, connects to the other one
    with its last seq, as the app does behind the recipe's two addresses."""

    def __init__(self, urls: list[str], token: str):
        self.urls, self.token = urls, token
        self.last_seq: int | None = None
        self.reconnects = 0
        self.sio = InOrderClient(reconnection=False)
        self.sio.on("state", self._state)
        self.sio.on("event", lambda item: self._items([item]))
        self.sio.on("events", self._items)
        self.sio.on("head", self._head)
        self.sio.on("disconnect", self._lost)
        self.closing = False
        self._connect()

    def _connect(self) -> None:
        auth = {"token": self.token}
        if self.last_seq is not None:
            auth["last_seq"] = self.last_seq
        self.sio.connect(self.urls[0], auth=auth, transports=["websocket"], wait_timeout=20)

    def _state(self, state: dict) -> None:
        self.last_seq = max(self.last_seq or 0, state["seq"])

    def _items(self, items: list[dict]) -> None:
        for item in items:
            if self.last_seq is not None and item["seq"] > self.last_seq + 1:
                self.sio.emit("sync", {"last_seq": self.last_seq})
                return
            self.last_seq = max(self.last_seq or 0, item.get("last_seq", item["seq"]))

    def _head(self, head: dict) -> None:
        if self.last_seq is not None and head["seq"] > self.last_seq:
            self.sio.emit("sync", {"last_seq": self.last_seq})

    def _lost(self, *_reason) -> None:
        if not self.closing:
            threading.Thread(target=self._to_the_other_node, daemon=True).start()

    def _to_the_other_node(self) -> None:
        self.urls = self.urls[1:] + self.urls[:1]
        for _ in range(50):
            try:
                self._connect()
                self.reconnects += 1
                return
            except socketio.exceptions.ConnectionError:
                time.sleep(0.2)

    def close(self) -> None:
        self.closing = True
        self.sio.disconnect()


def notice_state(node: LiveServer) -> str:
    status = Path(node.env["EXITNOW_PUBLIC_DIR"]) / "demo" / "status.json"
    return json.loads(status.read_text())["state"]


def test_losing_the_primary_then_an_app_node_loses_and_doubles_no_acknowledged_command(
    cluster, nodes
):
    (a, b), tokens = nodes
    manager = tokens["duty_manager"][0]
    with ThreadPoolExecutor(20) as pool:
        phones = list(
            pool.map(
                lambda i: Phone([(a, b)[i % 2].url, (b, a)[i % 2].url], tokens["staff"][i]),
                range(PHONES),
            )
        )
    started = a.post(f"{SITE}/incidents", manager, {"kind": "fire"}, key="start")
    assert started.status_code == 201, started.text
    assert wait_for(lambda: notice_state(a) == notice_state(b) == "closed", 10)

    commands = [(path, i) for path in RECEIPTS for i in range(PHONES)]
    answered: dict[tuple[str, int], dict] = {}

    before_the_faults: list[int] = []

    def faults() -> None:
        wait_for(lambda: len(answered) >= len(commands) // 4, 60)
        before_the_faults.append(len(answered))
        cluster.primary.kill()  # the database machine's power goes
        cluster.promote()  # Patroni's step, or the operator's
        wait_for(lambda: len(answered) >= len(commands) // 2, 60)
        a.kill()  # then an app machine's

    def send(command) -> None:
        path, i = command
        token = tokens["staff"][i]
        answered[command] = send_until_answered(
            [a, b], i % 2, f"{SITE}/incidents/current/{path}", token, f"{path}-{i}"
        )

    killer = threading.Thread(target=faults)
    killer.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, commands))
    killer.join(timeout=120)
    assert a.process.poll() is not None, "the faults did not happen during the stream"
    assert before_the_faults and before_the_faults[0] < len(commands)

    # Every acknowledged command is in the log once, at the seq it was answered with.
    rows = each_answered_once(cluster.url(), answered, TYPES, PHONES)
    verified = b.cli("verify-log")
    assert verified.returncode == 0, verified.stderr

    # Every phone, those of the lost node too, has every event; the notices are right. (Until
    # 4e7511d a phone of the lost node that reached the survivor while it was making its
    # database connection anew got no answer at all, and waited for its own 20 s timeout.)
    head = rows[-1][0]
    assert wait_for(lambda: all(p.last_seq == head for p in phones), 10), sorted(
        {p.last_seq for p in phones}
    )
    assert sum(1 for p in phones if p.reconnects) == PHONES // 2
    assert notice_state(a) == "closed"  # written before its node was lost
    ended = b.post(
        f"{SITE}/incidents/current/all-clear", manager, {"reason": "resolved"}, key="end"
    )
    assert ended.status_code == 200, ended.text
    assert wait_for(lambda: notice_state(b) == "restored", 10)
    for phone in phones:
        phone.close()


def test_with_the_standby_down_nothing_is_acknowledged_until_it_is_back(cluster, nodes):
    (a, b), tokens = nodes
    manager = tokens["duty_manager"][0]
    cluster.standby.kill()

    with pytest.raises(requests.Timeout):  # the commit waits for a standby
        requests.post(
            f"{a.url}{SITE}/incidents",
            json={"kind": "fire"},
            headers={"Authorization": f"Bearer {manager}", "Idempotency-Key": "start"},
            timeout=5,
        )
    # The other node's writer waits for the lock that commit holds, then says so.
    busy = b.post(f"{SITE}/incidents", manager, {"kind": "fire"}, key="start")
    assert busy.status_code == 503 and busy.json()["type"].endswith("/database-busy")
    ready = requests.get(a.url + "/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
    assert not [row for row in log_rows(cluster.url()) if row[1] == "incident.started"]

    cluster.standby.start()
    again = send_until_answered([a, b], 0, f"{SITE}/incidents", manager, "start", {"kind": "fire"})
    rows = [row for row in log_rows(cluster.url()) if row[1] == "incident.started"]
    assert len(rows) == 1 and rows[0][0] == again["seq"]
