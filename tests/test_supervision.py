"""The path to every phone is supervised: an event lost in a message-queue outage still
reaches every phone of every worker, and /readyz says when a worker cannot do its job."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import requests

from harness import outside_store, prepare_database, run_async
from harness.bench import open_socket
from server.operations.message_queue import Manager
from server.timers import HEAD_EVERY_SECONDS, HEAD_REPEATS, QUIET_HEAD_PERIODS, Heads

SUPERVISED_SECONDS = 10  # the contract: a lost message is noticed and caught up within it


def readiness(server) -> tuple[int, dict]:
    answer = requests.get(server.url + "/readyz", timeout=10)
    return answer.status_code, answer.json()


def wait_for(check, timeout: float = SUPERVISED_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_single_worker_is_ready_and_says_what_it_checked(live_server):
    # On PostgreSQL it is ready once it listens to the log, a moment after it answers.
    wait_for(lambda: readiness(live_server)[0] == 200)
    status, body = readiness(live_server)

    assert status == 200
    assert body["ready"] is True
    on_postgresql = os.environ.get("EXITNOW_TEST_ENGINE") == "postgresql"
    assert body["checks"] == {
        "database": True,
        # One worker has no other to hear, but on PostgreSQL it listens to the log for them.
        "message_queue": True if on_postgresql else None,
        "snapshots": True,
        "disk_space": True,
    }
    assert set(body["disk"]) == {
        "database_free_mb",
        "public_free_mb",
        "min_free_mb",
        "reserve_held",
    }


def test_events_made_while_redis_is_down_reach_every_phone_of_every_worker(
    tmp_path, live_servers, connect, redis_server
):
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 2, "duty_manager": 1})
    queue = {"EXITNOW_MESSAGE_QUEUE": redis_server.url}
    workers = [live_servers(db_path, env=queue).start() for _ in range(2)]
    phones = [
        connect(worker.url, token) for worker, token in zip(workers, tokens["staff"], strict=True)
    ]
    assert all(phone.wait_until(lambda c: c.states) for phone in phones)
    assert [readiness(worker)[0] for worker in workers] == [200, 200]

    redis_server.stop()

    for worker in workers:
        assert wait_for(lambda w=worker: readiness(w)[0] == 503), "readyz stayed green"
        assert readiness(worker)[1]["checks"]["message_queue"] is False
    manager = tokens["duty_manager"][0]
    started = workers[0].post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    assert started.status_code == 201  # the log is in SQLite: commands go on
    updated = workers[1].post(
        "/api/sites/demo/incidents/current/update", manager, {"message": "Use exit B"}
    )
    assert updated.status_code == 200, updated.text
    with outside_store(db_path) as db:
        last = db.execute("SELECT MAX(seq) FROM events WHERE site = 'demo'").fetchone()[0]

    redis_server.start()

    for phone in phones:
        assert phone.wait_until(lambda c: c.seqs()[-1:] == [last], timeout=SUPERVISED_SECONDS), (
            f"a phone missed events: it has {phone.seqs()[-3:]}, the log {last}"
        )
        first = phone.seqs().index(started.json()["seq"])
        assert phone.seqs()[first:] == list(range(started.json()["seq"], last + 1))
    for worker in workers:
        assert wait_for(lambda w=worker: readiness(w)[0] == 200), "readyz stayed red"
        metrics = requests.get(worker.url + "/metrics", timeout=10).text
        assert "exitnow_message_queue_reconnects_total 1.0" in metrics


def test_a_phone_back_while_redis_hangs_gets_what_it_missed_and_its_state(
    tmp_path, live_servers, connect, redis_server
):
    """A phone's catch-up goes to its own connection on its own worker, never through the
    message queue: with Redis hung (a network partition), a phone coming back still gets the
    events it missed and then its state."""
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 1, "duty_manager": 1})
    worker = live_servers(db_path, env={"EXITNOW_MESSAGE_QUEUE": redis_server.url}).start()
    with outside_store(db_path) as db:
        seen = db.execute("SELECT MAX(seq) FROM events WHERE site = 'demo'").fetchone()[0]
    started = worker.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})
    assert started.status_code == 201

    redis_server.process.send_signal(signal.SIGSTOP)  # up, but answers nothing
    try:
        phone = connect(worker.url, tokens["staff"][0], last_seq=seen)

        assert phone.wait_until(lambda c: c.states), f"no state; it got {phone.messages}"
        assert started.json()["seq"] in phone.seqs()
    finally:
        redis_server.process.send_signal(signal.SIGCONT)


def test_an_idle_phone_is_not_told_its_sites_head_every_period(live_server, connect):
    """The head is for a phone that may have missed something: while the log stands still it
    is told once a minute, not every 5 s (five thousand idle phones would cost a thousand
    frames a second)."""
    phone = connect(live_server.url, live_server.token("staff", "Pekka"))
    assert phone.wait_until(lambda c: c.messages.count("head") == HEAD_REPEATS, timeout=20)

    time.sleep(2 * HEAD_EVERY_SECONDS)  # two more periods with nothing new

    assert phone.messages.count("head") == HEAD_REPEATS, phone.messages


def test_a_sites_head_is_told_while_a_phone_may_be_behind_then_once_a_minute():
    """Five thousand idle phones told their head every 5 s would be a thousand frames a
    second for nothing: after a move it is told HEAD_REPEATS periods, then each minute."""
    heads = Heads()
    next_told = HEAD_REPEATS - 1 + QUIET_HEAD_PERIODS
    told = [heads.due({"demo": 7, "mall": 3}) for _ in range(next_told + 1)]
    assert told[:HEAD_REPEATS] == [{"demo": 7, "mall": 3}] * HEAD_REPEATS
    assert told[HEAD_REPEATS:next_told] == [{}] * (next_told - HEAD_REPEATS)
    assert told[next_told] == {"demo": 7, "mall": 3}  # supervised all the same

    moved = [heads.due({"demo": 8, "mall": 3}) for _ in range(HEAD_REPEATS + 1)]
    assert moved == [{"demo": 8}] * HEAD_REPEATS + [{}]

    assert heads.due({"mall": 3}) == {}  # demo has no phone here now: forgotten
    assert heads.due({"demo": 8, "mall": 3}) == {"demo": 8}  # back: told at once


def test_a_phone_that_stops_answering_pings_is_let_go_and_one_that_answers_is_kept(live_server):
    """Pings come from one timer for every connection (server/live/pings.py): each phone is
    pinged every 10 s and let go when it leaves a ping unanswered for 10 s, so a phone whose
    network died shows as gone; one that answers stays."""

    async def run() -> tuple[float, int, bool]:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            token = {"token": live_server.token("staff", "Pekka")}
            answering = await open_socket(http, live_server.url, token)
            silent = await open_socket(http, live_server.url, token)
            pings = []

            async def answer() -> None:
                async for frame in answering:
                    if frame.data == "2":
                        pings.append(frame.data)
                        await answering.send_str("3")

            answerer = asyncio.create_task(answer())
            opened = time.monotonic()
            async for _frame in silent:  # read, never answer: it ends when the server closes
                pass
            silent_for = time.monotonic() - opened
            await asyncio.sleep(1)
            kept = not answering.closed
            answerer.cancel()
            return silent_for, len(pings), kept

    silent_for, pings, kept = run_async(asyncio.wait_for(run(), timeout=60))

    assert 10 < silent_for < 10 + 10 + 3  # a ping after 10 s, its answer due within 10 s
    assert pings >= 1 and kept


def test_a_leaving_connection_leaves_its_rooms_and_no_one_elses():
    """Each connection's rooms are kept (a thousand phones dropping at once must not be a
    million lookups); leaving them must leave everyone else where they were."""
    manager = Manager()
    for n in range(3):
        manager.basic_enter_room(f"s{n}", "/", None, eio_sid=f"e{n}")
        manager.basic_enter_room(f"s{n}", "/", f"s{n}", eio_sid=f"e{n}")
        manager.basic_enter_room(f"s{n}", "/", "site:demo:staff")
    manager.pending_disconnect["/"] = ["s1"]

    manager.basic_disconnect("s1", "/")

    rooms = {name: sorted(members) for name, members in manager.rooms["/"].items()}
    assert rooms == {
        None: ["s0", "s2"],
        "s0": ["s0"],
        "s2": ["s2"],
        "site:demo:staff": ["s0", "s2"],
    }
    assert manager.pending_disconnect == {}
    manager.basic_disconnect("s0", "/")
    manager.basic_disconnect("s2", "/")
    assert manager.rooms == {}
