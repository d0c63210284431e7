"""The PostgreSQL store (EXITNOW_DATABASE_URL), on Debian's PostgreSQL started by the test on
127.0.0.1: the real server process serves an alarm from it, two processes write one log
without a gap or a fork, the log is append-only in PostgreSQL too, and what only the SQLite
file can do says so. (EXITNOW_TEST_ENGINE=postgresql runs the other test files on it too.)"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import psycopg
import pytest
import requests
import socketio

from harness import (
    LiveServer,
    create_app,
    flask_cli,
    prepare_database,
    store_url_for,
    tests_postgres,
    unit_settings,
    wait_for,
)
from server.basics.settings import load_settings
from server.commands import execute
from server.rules.auth import command_line
from server.store import log
from server.store.postgresql import HUNG_SAID, STUCK_SECONDS, placeholders


@pytest.fixture
def on_postgresql(monkeypatch):
    """The harness's stores are PostgreSQL databases for this test (one server for the run)."""
    monkeypatch.setenv("EXITNOW_TEST_ENGINE", "postgresql")


@pytest.fixture
def site(tmp_path, on_postgresql):
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 20, "duty_manager": 2})
    return db_path, tokens


def live(db_path, started: list, env: dict | None = None) -> LiveServer:
    server = LiveServer(db_path, env=env)
    started.append(server)
    return server.start()


@pytest.fixture
def servers():
    started: list[LiveServer] = []
    yield started
    for server in started:
        server.stop()


def test_the_server_on_postgresql_alarms_a_phone_and_its_log_verifies(site, servers, connect):
    db_path, tokens = site
    server = live(db_path, servers)
    phone = connect(server.url, tokens["staff"][0])

    started = server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert started.status_code == 201, started.text
    alarm = phone.wait_for_event("incident.started")
    assert alarm is not None and alarm["seq"] == started.json()["seq"]
    assert server.post("/api/sites/demo/incidents/current/acknowledge", tokens["staff"][0]).ok
    with psycopg.connect(store_url_for(db_path)) as db:
        row = db.execute("SELECT type FROM events WHERE seq = %s", [alarm["seq"]]).fetchone()
        assert row == ("incident.started",)
    verified = server.cli("verify-log")
    assert verified.returncode == 0, verified.stderr
    assert "entries verified" in verified.stdout
    ready = requests.get(server.url + "/readyz", timeout=10).json()
    assert ready["store"] == {"engine": "postgresql", "role": "primary", "replication_lag_ms": None}
    metrics = requests.get(server.url + "/metrics", timeout=10).text
    assert 'exitnow_store_info{engine="postgresql",role="primary"} 1.0' in metrics


def test_two_processes_write_one_log_without_a_gap_or_a_fork(site, servers):
    db_path, tokens = site
    first, second = live(db_path, servers), live(db_path, servers)
    answers = []

    def press(go: threading.Barrier, server: LiveServer, token: str, path: str, body=None):
        go.wait(timeout=30)
        answers.append(server.post(path, token, body))

    go = threading.Barrier(2)

    managers = [
        threading.Thread(
            target=press, args=(go, s, t, "/api/sites/demo/incidents", {"kind": "fire"})
        )
        for s, t in zip((first, second), tokens["duty_manager"], strict=True)
    ]
    for thread in managers:
        thread.start()
    for thread in managers:
        thread.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [201, 409]
    go = threading.Barrier(len(tokens["staff"]))
    receipts = [
        threading.Thread(
            target=press,
            args=(go, (first, second)[i % 2], t, "/api/sites/demo/incidents/current/acknowledge"),
        )
        for i, t in enumerate(tokens["staff"])
    ]
    for thread in receipts:
        thread.start()
    for thread in receipts:
        thread.join(timeout=30)

    assert all(a.ok for a in answers[2:]), [a.text for a in answers[2:] if not a.ok]
    with psycopg.connect(store_url_for(db_path)) as db:
        seqs = [s for (s,) in db.execute("SELECT seq FROM events WHERE site = 'demo' ORDER BY id")]
    assert seqs == list(range(1, len(seqs) + 1))
    verified = first.cli("verify-log")
    assert verified.returncode == 0, verified.stderr


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET type = 'incident.ended'", "DELETE FROM events", "TRUNCATE events"],
)
def test_the_log_is_append_only_in_postgresql_too(site, statement):
    db_path, _tokens = site
    with psycopg.connect(store_url_for(db_path), autocommit=True) as db:
        before = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        with pytest.raises(psycopg.errors.RaiseException, match="the log is append-only"):
            db.execute(statement)
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before > 0


def test_backup_on_postgresql_is_a_checked_dump_that_restores_to_the_same_verified_log(
    site, tmp_path
):
    db_path, _tokens = site
    copy = tmp_path / "exitnow.dump"
    with psycopg.connect(store_url_for(db_path)) as db:
        head = db.execute("SELECT MAX(seq) FROM events WHERE site = 'demo'").fetchone()[0]

    made = flask_cli(db_path, "backup", str(copy))
    again = flask_cli(db_path, "backup", str(copy))
    restored = tests_postgres().create_database("restored_" + db_path.parent.name[-20:].lower())
    loaded = subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={restored}", str(copy)], capture_output=True
    )
    verified = flask_cli(db_path, "verify-log", EXITNOW_DATABASE_URL=restored)

    assert made.returncode == 0, made.stderr
    assert "pg_dump of one snapshot, read back by pg_restore, hash chain intact" in made.stdout
    assert f"last seq per site: demo {head}" in made.stdout
    assert again.returncode == 1 and "exists already" in again.stderr
    assert loaded.returncode == 0, loaded.stderr
    assert verified.returncode == 0 and f"{head} entries verified" in verified.stdout, verified


def test_a_backup_of_a_changed_log_on_postgresql_is_refused_and_no_file_is_left(site, tmp_path):
    db_path, _tokens = site
    change_an_entry_behind_the_servers_back(db_path)

    made = flask_cli(db_path, "backup", str(tmp_path / "exitnow.dump"))

    assert made.returncode == 1
    assert "log verification of the copy FAILED" in made.stderr
    assert list(tmp_path.glob("*.dump*")) == [] and list(tmp_path.glob(".exitnow*")) == []


def test_check_database_on_postgresql_checks_the_chains_and_with_amcheck_the_pages(site):
    db_path, _tokens = site

    without = flask_cli(db_path, "check-database")
    with psycopg.connect(store_url_for(db_path), autocommit=True) as db:
        db.execute("CREATE EXTENSION amcheck")
    checked = flask_cli(db_path, "check-database")

    assert without.returncode == 0, without.stderr
    assert "every log chain intact from its last checkpoint" in without.stdout
    assert "amcheck is not usable here" in without.stdout
    assert checked.returncode == 0, checked.stderr
    assert "amcheck: every table's pages and B-tree indexes whole" in checked.stdout


def test_a_damaged_index_page_is_named_by_check_database_with_the_way_back(site):
    """Bytes of an index's page overwritten on disk, as a bad sector would: amcheck names it."""
    db_path, _tokens = site
    postgres = tests_postgres()
    with psycopg.connect(store_url_for(db_path), autocommit=True) as db:
        db.execute("CREATE EXTENSION amcheck")
        index_file = db.execute("SELECT pg_relation_filepath('events_pkey')").fetchone()[0]
        db.execute("CHECKPOINT")  # the index on disk, not only in WAL
    postgres.stop()
    damaged = bytearray((postgres.folder / index_file).read_bytes())
    damaged[8192 + 200 : 8192 + 600] = b"Z" * 400  # inside its first page of entries
    (postgres.folder / index_file).write_bytes(bytes(damaged))
    postgres.start()

    checked = flask_cli(db_path, "check-database")

    assert checked.returncode == 1, checked.stdout
    assert "is damaged" in checked.stderr and "amcheck: the index events_pkey" in checked.stderr
    assert "fail over to it" in checked.stderr


def change_an_entry_behind_the_servers_back(db_path) -> int:
    """A superuser's change past the append-only trigger (as a damaged page read back, or a
    restore from a wrong copy, would show): returns the seq changed."""
    with psycopg.connect(store_url_for(db_path), autocommit=True) as db:
        db.execute("SET session_replication_role = replica")  # triggers off, for this session
        seq = db.execute("SELECT MAX(seq) FROM events WHERE site = 'demo'").fetchone()[0]
        db.execute(
            "UPDATE events SET actor = 'someone else' WHERE site = 'demo' AND seq = %s", [seq]
        )
    return seq


def test_a_changed_log_entry_on_postgresql_stops_the_start_and_fails_the_check(site, servers):
    db_path, _tokens = site
    seq = change_an_entry_behind_the_servers_back(db_path)

    checked = flask_cli(db_path, "check-database")
    server = LiveServer(db_path)
    servers.append(server)
    with pytest.raises(RuntimeError, match="server exited"):
        server.start()
    said = server.output.read_text()

    assert checked.returncode == 1
    assert "Exit Now will not start" in said
    for text in (checked.stderr, said):
        assert "is damaged" in text and f"the log of site 'demo' at seq {seq}" in text, text
        assert "fail over to it" in text and "check-database" in text, text


def test_a_database_url_that_is_not_postgresql_is_refused_by_name():
    with pytest.raises(SystemExit, match="EXITNOW_DATABASE_URL must be a PostgreSQL URL"):
        load_settings({"EXITNOW_DATABASE_URL": "mysql://localhost/exitnow"})


def test_a_stuck_limit_that_would_cut_every_statement_is_refused_by_name():
    for never in ("0", "0.5", "-1", "nan"):
        with pytest.raises(SystemExit, match="EXITNOW_DATABASE_STUCK_SECONDS must be 1 or more"):
            load_settings({"EXITNOW_DATABASE_STUCK_SECONDS": never})


def test_a_lost_signing_key_is_not_made_anew_while_postgresql_holds_checkpoints(site, servers):
    db_path, tokens = site
    server = live(db_path, servers)
    assert server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"}).ok
    server.stop()  # the start's checkpoint is signed and in PostgreSQL
    key = db_path.parent / "log_signing_key.pem"
    key.unlink()

    refused = flask_cli(db_path, "verify-log")

    assert refused.returncode != 0
    assert "log_signing_key.pem is missing" in refused.stderr, refused.stderr
    assert not key.exists()


def test_readyz_and_metrics_name_the_sqlite_file_as_a_single_store(client):
    assert client.get("/readyz").get_json()["store"] == {
        "engine": "sqlite",
        "role": "single",
        "replication_lag_ms": None,
    }
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'exitnow_store_info{engine="sqlite",role="single"} 1.0' in metrics
    assert "exitnow_store_replication_lag_seconds" not in metrics


def test_a_restart_of_postgresql_costs_one_retry_and_the_alarm_is_applied_once(site, servers):
    db_path, tokens = site
    server = live(db_path, servers)
    manager = tokens["duty_manager"][0]
    assert server.get("/api/sites/demo/state", manager).ok  # both connections in use
    postgres = tests_postgres()
    postgres.stop()  # a restart, as an upgrade or a failover does it
    postgres.start()

    first = server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}, key="alarm-1")
    again = server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}, key="alarm-1")

    assert first.status_code in (201, 503), first.text
    if first.status_code == 503:
        assert first.json()["type"].endswith("/database-unreachable")
        assert "try again" in first.json()["detail"]
    assert again.status_code == 201, again.text
    with psycopg.connect(store_url_for(db_path)) as db:
        started = db.execute("SELECT COUNT(*) FROM events WHERE type = 'incident.started'")
        assert started.fetchone() == (1,)


SITE_INCIDENTS = "/api/sites/demo/incidents"


def test_a_hung_postgresql_holds_the_node_for_a_while_not_for_ever(site, servers):
    """PostgreSQL stopped with its sockets open (as a stall on its disk): no TCP timeout
    notices, and a statement's wait holds the whole event loop. The node cuts the connection
    after EXITNOW_DATABASE_STUCK_SECONDS (here 3, not the default 15): the command answers 503
    (nothing done, try again), the node answers its probes again (503: no database), and the
    command sent again with its key, once PostgreSQL is back, is applied once."""
    db_path, tokens = site
    server = live(db_path, servers, {"EXITNOW_DATABASE_STUCK_SECONDS": "3"})
    manager = tokens["duty_manager"][0]
    assert server.get("/api/sites/demo/state", manager).ok  # both connections open
    postgres = tests_postgres()
    paused = postgres.pause()
    try:
        asked = time.monotonic()
        hung = server.post(SITE_INCIDENTS, manager, {"kind": "fire"}, key="alarm-1", timeout=60)
        waited = time.monotonic() - asked
        alive = requests.get(server.url + "/healthz", timeout=20)
    finally:
        postgres.resume(paused)

    assert waited < STUCK_SECONDS, waited  # the setting's limit, not the default's
    assert hung.status_code == 503, hung.text
    assert hung.json()["type"].endswith("/database-unreachable")
    assert alive.status_code == 503, alive.text
    assert HUNG_SAID in server.output.read_text()
    answers = []  # as the app's outbox sends it again, until answered

    def started_again() -> bool:
        answers.append(server.post(SITE_INCIDENTS, manager, {"kind": "fire"}, key="alarm-1"))
        return answers[-1].status_code != 503

    assert wait_for(started_again, 30), answers[-1].text
    assert answers[-1].status_code == 201, answers[-1].text
    with psycopg.connect(store_url_for(db_path)) as db:
        started = db.execute("SELECT COUNT(*) FROM events WHERE type = 'incident.started'")
        assert started.fetchone() == (1,)


def test_background_work_that_meets_a_restart_of_postgresql_warns_and_goes_on(site, servers):
    """The timers (the panels' watch each second, the clock's, the heads') meet the lost
    connection: each says so as a warning and tries again, not as a bug's traceback, and
    works again once PostgreSQL is back."""
    db_path, tokens = site
    server = live(db_path, servers)
    postgres = tests_postgres()
    postgres.stop()
    warned = "watching the alarm panels: the database was unreachable"
    assert wait_for(lambda: warned in server.output.read_text(), 20)  # it runs every second
    postgres.start()

    assert wait_for(lambda: requests.get(server.url + "/readyz", timeout=10).ok), "not ready again"
    started = server.post(
        "/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"}, key="alarm-1"
    )
    assert started.status_code in (201, 503), started.text
    again = server.post(
        "/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"}, key="alarm-1"
    )
    assert again.status_code == 201, again.text
    said = server.output.read_text()
    assert "Traceback" not in said, said[-3000:]


def test_a_phone_that_connects_while_postgresql_is_down_is_told_to_try_again(site, servers):
    """As an HTTP request is answered 503: the phone's (or queue screen's) connection is
    refused with the same problem (no traceback, no silence until its timeout), and it connects once PostgreSQL is
    back."""
    db_path, tokens = site
    server = live(db_path, servers)
    postgres = tests_postgres()
    postgres.stop()
    refusals = []
    # A phone twice (the first meets the lost connection, the next a connect refused), then
    # a queue screen on the public namespace.
    tries = [("/", {"token": tokens["staff"][0]})] * 2 + [("/public", {"site": "demo"})]
    try:
        for namespace, auth in tries:
            client = socketio.Client(reconnection=False)
            client.on("connect_error", refusals.append, namespace=namespace)
            with pytest.raises(socketio.exceptions.ConnectionError):
                client.connect(
                    server.url,
                    auth=auth,
                    namespaces=[namespace],
                    transports=["websocket"],
                    wait_timeout=10,
                )
    finally:
        postgres.start()

    problems = [refused["data"] for refused in refusals]
    assert [problem["status"] for problem in problems] == [503, 503, 503], refusals
    assert all(problem["type"].endswith("/database-unreachable") for problem in problems)
    assert all("try again" in refused["message"] for refused in refusals), refusals
    phone = socketio.Client(reconnection=False)
    connected = wait_for(lambda: _connects(phone, server.url, tokens["staff"][0]), 30)
    assert connected, "no connection once PostgreSQL was back"
    phone.disconnect()
    assert "Traceback" not in server.output.read_text()


def _connects(phone, url: str, token: str) -> bool:
    try:
        phone.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return False
    return True


@pytest.mark.parametrize(
    "sql", ["SELECT 1 -- a ?", "SELECT /* :x */ 1", "SELECT $$?$$", "SELECT E'?'"]
)
def test_sql_the_placeholder_translation_could_misread_is_refused(sql):
    with pytest.raises(ValueError, match="a statement for both engines has no"):
        placeholders(sql)


def test_placeholders_and_casts_are_translated_outside_quoted_text():
    assert placeholders("SELECT '?:x%', x::text FROM t WHERE a = ? AND b = :b AND c LIKE 'a%'") == (
        "SELECT '?:x%%', x::text FROM t WHERE a = %s AND b = %(b)s AND c LIKE 'a%%'"
    )


def test_a_database_url_with_a_password_is_never_printed(tmp_path):
    url = "postgresql://exitnow:s3cr%zzet@127.0.0.1:9/exitnow"
    result = flask_cli(tmp_path / "exitnow.db", "verify-log", EXITNOW_DATABASE_URL=url)

    assert result.returncode != 0
    assert "s3cr" not in result.stderr + result.stdout
    assert "cannot connect to PostgreSQL at" in result.stderr


def test_a_phone_on_another_process_hears_the_alarm_live_and_its_notices_switch_too(
    site, servers, connect, tmp_path
):
    """No message queue between the two: PostgreSQL tells each process of the other's commits
    (server/live/follow.py). Without it the phone learns of the alarm only from a `head`, and
    the other process's public notice stays open."""
    db_path, tokens = site
    first = live(db_path, servers)
    other_public = tmp_path / "other-public"
    second = LiveServer(db_path, env={"EXITNOW_PUBLIC_DIR": str(other_public)})
    servers.append(second.start())
    assert wait_for(lambda: listening(second)), "the second process does not hear the log"
    phone = connect(second.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)

    started = first.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert started.status_code == 201, started.text
    alarm = phone.wait_for_event("incident.started")
    assert alarm is not None and alarm["seq"] == started.json()["seq"]
    assert phone.syncs == 0, phone.messages  # live, not caught up after a `head`

    def closed() -> bool:
        status = other_public / "demo" / "status.json"
        return status.exists() and json.loads(status.read_text())["state"] == "closed"

    assert wait_for(closed)


def listening(server: LiveServer) -> bool:
    return requests.get(server.url + "/readyz", timeout=10).json()["checks"]["message_queue"]


def test_a_process_sends_another_ones_earlier_commit_before_its_own_and_each_once(
    site, monkeypatch
):
    """Two processes on one database (here two apps in this one): the second commits right
    after the first, before it heard of the first's commit. Its phones get both, in the log's
    order, once each, however late the first's notice comes."""
    db_path, _tokens = site
    other = create_app(unit_settings(db_path)).extensions["exitnow"]
    this = create_app(unit_settings(db_path)).extensions["exitnow"]
    sent: list[tuple[str, object]] = []

    def record(name, message, to=None, namespace="/", **_):
        if to == "site:demo:staff":
            sent.append((name, message))

    monkeypatch.setattr(this.socketio, "emit", record)

    with this.store.reading() as db:
        before = log.latest_seq(db, "demo")
    execute(other, command_line("demo"), "demo", "start_incident", {"kind": "fire"})
    later = execute(this, command_line("demo"), "demo", "update_incident", {"message": "East"})
    expected = list(range(before + 1, later["seq"] + 1))  # the other's events, then its own

    def seqs() -> list[int]:
        items = [m for name, m in sent for m in ([m] if name == "event" else m)]
        return [
            n for item in items for n in range(item["seq"], item.get("last_seq", item["seq"]) + 1)
        ]

    assert wait_for(lambda: seqs()[: len(expected)] == expected), f"{seqs()} {expected}"
    assert this.publisher.from_log(["demo"]) == []  # the first's notice, late: nothing again
    with this.store.reading() as db:  # and its own commit's events heard of the other way first
        this.publisher.after_commit(log.events_after(db, "demo", later["seq"] - 1, 1))
    time.sleep(1.5)  # a batch of numbers only would have left by now
    assert seqs() == list(range(before + 1, before + 1 + len(seqs())))  # in order, once each
