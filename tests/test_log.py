"""The hash-chained log: every accepted command is in it, and an edited row is caught."""

from __future__ import annotations

import sqlite3
import subprocess
import threading

import pytest
from attacker import edit_log

from harness import flask_cli, only_on_sqlite, wait_for
from server.basics.clock import now_ms
from server.basics.errors import Invalid
from server.commands import Tx
from server.rules.auth import command_line
from server.store import log
from server.store.sql import write_later


def verify_log_cli(db_path: str) -> subprocess.CompletedProcess:
    return flask_cli(db_path, "verify-log")


def test_every_entry_chains_to_the_one_before(services, demo_links):
    with services.store.reading() as db:
        rows = list(db.query("SELECT * FROM events WHERE site = 'demo' ORDER BY seq"))
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    previous = log.GENESIS_HASH
    for row in rows:
        assert row["hash"] == log.entry_hash(previous, log.row_to_entry(row))
        previous = row["hash"]


def test_hash_covers_a_type_prefix_and_canonical_json():
    entry = {
        "site": "s",
        "seq": 1,
        "ts": 5,
        "actor": {"b": 1, "a": "ä"},
        "type": "t",
        "payload": {},
    }
    same_entry_other_key_order = {**entry, "actor": {"a": "ä", "b": 1}}
    assert log.entry_hash(log.GENESIS_HASH, entry) == log.entry_hash(
        log.GENESIS_HASH, same_entry_other_key_order
    )
    assert log.entry_hash(log.GENESIS_HASH, entry) != log.entry_hash("1" * 64, entry)


def test_verify_log_prints_the_count_when_intact(settings, services, api_as):
    manager = api_as("duty_manager")
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "false_alarm"})
    with services.store.reading() as db:
        total = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    result = verify_log_cli(settings.db_path)

    assert result.returncode == 0, result.stderr
    assert f"{total} entries verified" in result.stdout


def test_verify_log_names_the_first_edited_row(settings, services, api_as):
    manager = api_as("duty_manager")
    started = manager.post("/api/sites/demo/incidents", {"kind": "fire", "drill": True}).get_json()
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "drill_over"})
    services.store.close()
    # Someone rewrites history (dropping the append-only triggers first): the drill becomes a
    # real fire.
    edit_log(
        settings.db_path,
        "UPDATE events SET payload = replace(payload, '\"drill\":true', '\"drill\":false') "
        "WHERE site = 'demo' AND seq = ?",
        [started["seq"]],
    )

    result = verify_log_cli(settings.db_path)

    assert result.returncode != 0
    assert f"seq {started['seq']}" in result.stderr
    assert "expected hash" in result.stderr


def test_verify_log_notices_a_deleted_row(settings, services, demo_links):
    services.store.close()
    edit_log(settings.db_path, "DELETE FROM events WHERE site = 'demo' AND seq = 3")

    result = verify_log_cli(settings.db_path)

    assert result.returncode != 0
    assert "expected seq 3" in result.stderr


def test_rejected_command_writes_nothing_to_the_log(api_as, event_count):
    staff = api_as("staff")
    before = event_count()
    answer = staff.post("/api/sites/demo/incidents", {"kind": "fire"})
    assert answer.status_code == 403
    assert event_count() == before


def appended_then_failed(db, services):
    tx = Tx(db, "demo", command_line("demo"), now_ms(), services.settings)
    tx.not_before_the_log()
    tx.record("clock.stepped", {"by_ms": 1, "system_ms": 1, "seen_by": "log"})
    raise Invalid("failed after appending")


def appended_what_the_database_refuses(db, services):
    """An append and then a write the database refuses (an entry at a seq the log has): on
    PostgreSQL both wait to go with the command's end, and fail there, in this command."""
    tx = Tx(db, "demo", command_line("demo"), now_ms(), services.settings)
    tx.not_before_the_log()
    tx.record("clock.stepped", {"by_ms": 1, "system_ms": 1, "seen_by": "log"})
    write_later(
        db,
        "INSERT INTO events (site, seq, ts, actor, type, payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ["demo", 1, 0, "{}", "clock.stepped", "{}", "0" * 64],
    )
    return {}, tx.events


@pytest.mark.parametrize("failing", [appended_then_failed, appended_what_the_database_refuses])
def test_a_command_rolled_back_in_a_batch_leaves_the_next_one_its_seq(
    services, demo_links, failing
):
    """One batch: a command that appended an entry and then failed, then one that succeeds.
    The first's entry is gone with its savepoint; the second's takes its seq, no gap (the
    batch's remembered head forgets the rolled-back entry), and the batch is committed."""
    site, line = "demo", command_line("demo")
    with services.store.reading() as db:
        head = log.latest_seq(db, site)

    answers = {}

    def submit(name, work):
        try:
            answers[name] = services.writer.submit(work)
        except Exception as error:
            answers[name] = error

    writer = services.writer
    commands = writer.commands
    with services.store.writing():  # the writer waits here with a batch of its own...
        first = threading.Thread(target=submit, args=("first", lambda db: (None, [])))
        first.start()
        assert wait_for(lambda: writer.commands == commands + 1 and not writer._waiting)
        transactions = writer.transactions
        threads = []
        for name, work in [  # ...while these two gather, in order, into the next batch
            ("failed", lambda db: failing(db, services)),
            ("ok", lambda db: execute_in(db, services, line, site)),
        ]:
            threads.append(threading.Thread(target=submit, args=(name, work)))
            threads[-1].start()
            assert wait_for(lambda: len(writer._waiting) == len(threads))
    for thread in [first, *threads]:
        thread.join(10)

    assert writer.transactions == transactions + 1  # the two, in one batch
    assert isinstance(answers["failed"], Exception), answers["failed"]
    assert answers["ok"]["seq"] == head + 1
    with services.store.reading() as db:
        assert log.verify(db, site).ok
        assert log.latest_seq(db, site) == head + 1


def execute_in(db, services, identity, site):
    """A command's work as the writer runs it: one entry recorded."""
    tx = Tx(db, site, identity, now_ms(), services.settings)
    tx.not_before_the_log()
    entry = tx.record("clock.stepped", {"by_ms": 2, "system_ms": 2, "seen_by": "log"})
    return {"seq": entry["seq"]}, tx.events


@only_on_sqlite
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET payload = '{}' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 2",
        "INSERT OR REPLACE INTO events (site, seq, ts, actor, type, payload, hash) "
        "SELECT site, seq, ts, actor, type, '{}', hash FROM events WHERE seq = 2",
    ],
    ids=["update", "delete", "replace"],
)
def test_the_database_refuses_to_change_or_remove_an_event(settings, services, demo_links, sql):
    services.store.close()
    with sqlite3.connect(settings.db_path) as raw:
        before = raw.execute("SELECT * FROM events ORDER BY id").fetchall()
        with pytest.raises(sqlite3.IntegrityError, match="the log is append-only"):
            raw.execute(sql)
        assert raw.execute("SELECT * FROM events ORDER BY id").fetchall() == before
    raw.close()
