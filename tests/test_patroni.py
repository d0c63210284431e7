"""The recipe's automatic failover, as deploy/README.md sets it up: three PostgreSQL machines
under Patroni and etcd with deploy/patroni.yml's rules (synchronous mode, strict), one app node
whose URL names all three, a phone on its socket and a stream of receipts with idempotency
keys. The leader's Patroni and postmaster are SIGKILLed (its machine's power going) and nobody
promotes anything by hand: Patroni promotes the synchronous standby once the leader lock has
expired, the third machine becomes the new synchronous standby, and the node writes on by
itself, every receipt in the log once and the phone with every event."""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness import (
    LiveServer,
    StaffClient,
    each_answered_once,
    log_rows,
    prepare_database,
    send_until_answered,
    started_in_tmp,
    wait_for,
)
from harness.patroni import PatroniCluster

PHONES = 30
SITE = "/api/sites/demo"
TYPES = {"delivered": "alarm.delivered", "acknowledge": "alarm.acknowledged"}
# Patroni promotes after the leader lock's ttl (20 s) and its next loop; on a loaded machine
# more: a receipt's outbox keeps sending it this long.
FAILOVER_SECONDS = 120

pytestmark = pytest.mark.skipif(
    not (shutil.which("patroni") and shutil.which("etcd")) or os.geteuid() != 0,
    reason="needs Patroni and etcd (apt-get install -y patroni etcd-server), and root to run "
    "them as the postgres system user",
)


@pytest.fixture
def cluster():
    with started_in_tmp(PatroniCluster, "exitnow-patroni-") as patroni:
        yield patroni


@pytest.fixture
def node(cluster, tmp_path):
    db_path = tmp_path / "keys" / "exitnow.db"
    people = {"staff": PHONES, "duty_manager": 1}
    tokens = prepare_database(db_path, people, database_url=cluster.url())
    server = LiveServer(db_path, env={"EXITNOW_DATABASE_URL": cluster.url()}).start()
    yield server, tokens
    server.stop()


def test_patroni_promotes_the_synchronous_standby_and_the_node_writes_on_by_itself(cluster, node):
    server, tokens = node
    manager = tokens["duty_manager"][0]
    phone = StaffClient(server.url, tokens["staff"][0])
    started = server.post(f"{SITE}/incidents", manager, {"kind": "fire"}, key="start")
    assert started.status_code == 201, started.text
    leader, standby = cluster.leader(), cluster.synchronous_standby()
    assert leader and standby and leader != standby

    commands = [(path, i) for path in TYPES for i in range(PHONES)]
    answered: dict[tuple[str, int], dict] = {}

    before_the_cut: list[int] = []

    def power_cut() -> None:
        wait_for(lambda: len(answered) >= len(commands) // 4, 60)
        before_the_cut.append(len(answered))
        cluster.node(leader).kill()

    def send(command) -> None:
        path, i = command
        answered[command] = send_until_answered(
            [server],
            0,
            f"{SITE}/incidents/current/{path}",
            tokens["staff"][i],
            f"{path}-{i}",
            timeout=FAILOVER_SECONDS,
        )

    cut = threading.Thread(target=power_cut)
    cut.start()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, commands))
    cut.join(timeout=10)
    assert before_the_cut and before_the_cut[0] < len(commands), (
        "the leader was not lost mid-stream"
    )

    # Patroni promoted the synchronous standby (the one with every acknowledged commit) and
    # made the third machine its synchronous standby: nothing is acknowledged on one copy.
    assert cluster.leader() == standby
    assert wait_for(lambda: cluster.synchronous_standby() not in (None, leader, standby), 30)

    # Every answered receipt is in the log once, at the seq it was answered with; no fork.
    rows = each_answered_once(cluster.url(), answered, TYPES, PHONES)
    verified = server.cli("verify-log")
    assert verified.returncode == 0, verified.stderr

    # The node's log listener found the new leader: the phone has every event.
    head = rows[-1][0]
    assert phone.wait_until(lambda client: client.last_seq() == head, 30), phone.seqs()[-5:]
    phone.close()


def test_with_both_standbys_lost_nothing_is_acknowledged_until_one_is_back(cluster, node):
    """synchronous_mode_strict: the leader keeps waiting for a synchronous standby instead of
    writing on its own copy, so a command is not answered while there is none."""
    server, tokens = node
    manager = tokens["duty_manager"][0]
    leader = cluster.leader()
    standbys = [n for n in cluster.nodes if n.name != leader]
    for standby in standbys:
        standby.kill()

    # Patroni's loop (5 s) would have let a non-strict leader write alone by now.
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{server.url}{SITE}/incidents",
            json={"kind": "fire"},
            headers={"Authorization": f"Bearer {manager}", "Idempotency-Key": "start"},
            timeout=15,
        )
    assert not [row for row in log_rows(cluster.url()) if row[1] == "incident.started"]

    standbys[0].start()
    again = send_until_answered(
        [server], 0, f"{SITE}/incidents", manager, "start", {"kind": "fire"}, FAILOVER_SECONDS
    )
    rows = [row for row in log_rows(cluster.url()) if row[1] == "incident.started"]
    assert len(rows) == 1 and rows[0][0] == again["seq"]
    assert cluster.leader() == leader
