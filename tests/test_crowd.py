"""A crowd of phones answering at once, against the real eventlet server: group commit, each
phone hearing what its person needs (in batches), gaps caught up, nothing lost under SIGKILL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness import InOrderClient, outside_store, prepare_database, store_url_for, wait_for
from server.store.events import ROLL_CALL_EVENTS
from server.store.postgresql import WRITE_LOCK

PHONES = 199
SITE = "/api/sites/demo"


@pytest.fixture
def crowd(tmp_path, live_servers):
    """A started server whose demo site has 199 staff with tokens, a duty manager and an admin."""
    db_path = tmp_path / "crowd.db"
    tokens = prepare_database(db_path, {"staff": PHONES, "duty_manager": 1, "admin": 1})
    return live_servers(db_path).start(), tokens, db_path


def all_at_once(calls, threads: int = 40) -> list:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda call: call(), calls))


def log_of(db_path, type_: str) -> list[tuple]:
    with outside_store(db_path) as db:
        return db.execute("SELECT seq, payload FROM events WHERE type = ?", [type_]).fetchall()


def test_receipts_that_arrive_together_share_transactions_and_a_rejected_one_leaves_no_trace(
    crowd,
):
    server, tokens, db_path = crowd
    manager, admin = tokens["duty_manager"][0], tokens["admin"][0]
    server.post(f"{SITE}/incidents", manager, {"kind": "fire", "drill": True})
    config = server.get(f"{SITE}/setup", admin).json()["config"]
    with_annex = {**config, "zones": [*config["zones"], _annex()]}
    assert server.post(f"{SITE}/setup", admin, {"config": with_annex}).status_code == 200
    # An import that removes the annex (added after the alarm: no history), then refuses to
    # remove the clothing zone (swept in this incident): rejected after recording an event.
    doomed = {
        **config,
        "zones": [z for z in config["zones"] if z["id"] != "clothing"],
        "staff": [p for p in config["staff"] if p["home_zone"] != "clothing"],
    }
    before = requests.get(server.url + "/healthz", timeout=5).json()["writer"]

    calls = [
        (lambda token=token: server.post(f"{SITE}/incidents/current/delivered", token))
        for token in tokens["staff"]
    ]
    calls.insert(PHONES // 2, lambda: server.post(f"{SITE}/setup", admin, {"config": doomed}))
    answers = all_at_once(calls)

    refused = answers.pop(PHONES // 2)
    assert refused.status_code == 409, refused.text
    assert [a.status_code for a in answers] == [200] * PHONES
    assert all(a.json()["changed"] for a in answers)
    after = requests.get(server.url + "/healthz", timeout=5).json()["writer"]
    commands = after["commands"] - before["commands"]
    transactions = after["transactions"] - before["transactions"]
    assert commands >= PHONES + 1
    assert transactions < commands / 2, f"{commands} commands in {transactions} transactions"
    assert len(log_of(db_path, "alarm.delivered")) == PHONES
    assert log_of(db_path, "zone.removed") == []  # the annex was removed, then rolled back
    zones = [z["id"] for z in server.get(f"{SITE}/state", manager).json()["zones"]]
    assert "annex" in zones and "clothing" in zones
    verified = server.cli("verify-log")  # no gap in seq where the rejected event was
    assert verified.returncode == 0, verified.stderr
    rebuilt = server.cli("rebuild-state", "--into", str(db_path.parent / "rebuilt.db"))
    assert rebuilt.returncode == 0, rebuilt.stderr


def _annex() -> dict:
    """A zone that nobody has swept and nobody calls home: it can be removed."""
    return {"id": "annex", "name": "Annex", "exits": ["Back door"], "assembly_point": "lamp-post-a"}


class Phone:
    """A socket that keeps its own seq as the staff app does and asks `sync` after a gap."""

    def __init__(self, url: str, token: str, drop_first_batch: bool = False):
        self.items: list[dict] = []
        self.numbers: list[int] = []  # every seq learnt since connecting, in order
        self.messages = 0
        self.last_seq: int | None = None
        self.drop_first_batch = drop_first_batch
        self.syncs = 0
        self.sio = InOrderClient(reconnection=False)
        self.sio.on("state", self._state)
        self.sio.on("event", lambda item: self._batch([item]))
        self.sio.on("events", lambda items: self._batch(items, batch=True))
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)

    def _state(self, state: dict) -> None:
        self.messages += 1
        self.last_seq = state["seq"]

    def _batch(self, items: list[dict], batch: bool = False) -> None:
        self.messages += 1
        if self.drop_first_batch and batch:
            self.drop_first_batch = False  # as if this message were lost on the way
            return
        for item in items:
            last = item.get("last_seq", item["seq"])
            if self.last_seq is not None and last <= self.last_seq:
                continue
            if self.last_seq is not None and item["seq"] > self.last_seq + 1:
                self.syncs += 1
                self.sio.emit("sync", {"last_seq": self.last_seq})
                return
            first = item["seq"] if self.last_seq is None else self.last_seq + 1
            self.numbers += range(first, last + 1)  # a range may overlap what came before
            self.items.append(item)
            self.last_seq = last


def test_staff_phones_get_the_roll_call_as_numbers_in_few_messages_and_catch_up_a_lost_batch(
    crowd,
):
    server, tokens, _ = crowd
    manager = tokens["duty_manager"][0]
    console = Phone(server.url, manager)
    phones = [Phone(server.url, token) for token in tokens["staff"][:20]]
    lossy = Phone(server.url, tokens["staff"][20], drop_first_batch=True)
    assert wait_for(lambda: all(p.last_seq is not None for p in [console, lossy, *phones]), 20)
    started = server.post(f"{SITE}/incidents", manager, {"kind": "fire", "drill": True}).json()

    all_at_once(
        [
            (lambda token=token, path=path: server.post(f"{SITE}/incidents/current/{path}", token))
            for path in ("delivered", "acknowledge")
            for token in tokens["staff"]
        ]
    )
    # A lost message shows as a gap at the next one: the manager's next words to everyone.
    for message in ("Use the east stairs", "Meet at the car park"):
        said = server.post(f"{SITE}/incidents/current/update", manager, {"message": message})
        seq = said.json()["seq"]
        assert wait_for(lambda seq=seq: all(p.last_seq >= seq for p in phones), 20)
    last = server.get(f"{SITE}/events?after=0&limit=1", manager).json()["seq"]

    everyone = [console, lossy, *phones]
    assert wait_for(lambda: all(p.last_seq == last for p in everyone), 20), [
        p.last_seq for p in everyone
    ]
    seen = [i for i in console.items if i["type"] in ROLL_CALL_EVENTS]
    assert len(seen) == 2 * PHONES  # the duty manager reads every receipt
    for phone in phones + [lossy]:
        assert not [i for i in phone.items if i["type"] in ROLL_CALL_EVENTS]
        assert phone.numbers == list(range(started["seq"], last + 1))  # every number, no gap
    assert max(p.messages for p in phones) < PHONES / 2  # batches, not a frame per receipt
    assert lossy.syncs >= 1
    for phone in everyone:
        phone.sio.disconnect()


def test_every_acknowledged_receipt_survives_sigkill_mid_batch_exactly_once(crowd, live_servers):
    server, tokens, db_path = crowd
    manager = tokens["duty_manager"][0]
    server.post(f"{SITE}/incidents", manager, {"kind": "fire", "drill": True})

    def receipt(token: str, index: int):
        if index == PHONES // 3:
            server.kill()  # a power cut while the crowd's receipts are being written
        try:
            answer = server.post(f"{SITE}/incidents/current/delivered", token, key=f"r-{token}")
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            return token, None  # refused, or cut off mid-answer: not acknowledged
        return token, answer.status_code

    answers = all_at_once(
        [(lambda t=t, i=i: receipt(t, i)) for i, t in enumerate(tokens["staff"])], threads=20
    )
    acknowledged = {token for token, status in answers if status == 200}
    assert acknowledged, "no receipt was answered before the kill"

    restarted = live_servers(db_path).start()
    people = restarted.get(f"{SITE}/state", manager).json()["roll_call"]["staff"]
    delivered = {p["staff_id"] for p in people if p["delivered_at"]}
    for token in acknowledged:  # answered before the kill: committed, and once only
        again = restarted.post(f"{SITE}/incidents/current/delivered", token, key=f"r-{token}")
        assert again.status_code == 200 and again.json()["changed"] is True
    staff_ids = [json.loads(row[1])["staff_id"] for row in log_of(db_path, "alarm.delivered")]
    assert len(staff_ids) == len(set(staff_ids)) >= len(acknowledged)
    assert len(delivered) == len(staff_ids)
    assert restarted.cli("verify-log").returncode == 0


def test_a_command_kept_waiting_past_the_busy_timeout_is_refused_with_503_and_changes_nothing(
    crowd,
):
    """Another process holds the write lock (a backup, a commit waiting for the standby):
    the command says so and to try again, and its retry is applied."""
    server, tokens, db_path = crowd
    manager = tokens["duty_manager"][0]
    with outside_store(db_path) as db:
        if store_url_for(db_path) is None:
            db.execute("BEGIN IMMEDIATE")
        else:
            db.execute("SELECT pg_advisory_xact_lock(?)", [WRITE_LOCK])
        refused = server.post(f"{SITE}/incidents", manager, {"kind": "fire"}, key="start")

    assert refused.status_code == 503, refused.text
    assert refused.json()["type"].endswith("database-busy")
    assert log_of(db_path, "incident.started") == []
    again = server.post(f"{SITE}/incidents", manager, {"kind": "fire"}, key="start")
    assert again.status_code == 201 and len(log_of(db_path, "incident.started")) == 1
