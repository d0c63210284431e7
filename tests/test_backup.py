"""`flask --app server backup FILE` against the real server while commands are being made: the
copy opens, its log verifies, it holds every command acknowledged before it started, it is
readable by its owner only, and it never replaces a file."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time

from attacker import edit_log

from harness import flask_cli, prepare_database

SITE = "/api/sites/demo"


class CommandStream:
    """Staff phones asking for backup and cancelling it over HTTP, each in its own thread, as
    fast as the server answers: every answer's `seq` is kept with the moment it arrived."""

    def __init__(self, server, tokens: list[str]):
        self.server = server
        self.acknowledged: list[tuple[float, int, str]] = []  # (monotonic time, seq, type)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(t,)) for t in tokens]

    def __enter__(self) -> CommandStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _run(self, token: str) -> None:
        while not self._stop.is_set():
            try:
                asked = self._post(token, f"{SITE}/backup-requests", {"location": "Till 3"})
                backup_id = asked["backup_request"]["id"]
                self._post(token, f"{SITE}/backup-requests/{backup_id}/cancel", {})
            except Exception as error:  # any failure is the finding
                with self._lock:
                    self.failures.append(repr(error))
                return

    def _post(self, token: str, path: str, body: dict) -> dict:
        response = self.server.post(path, token, body)
        assert response.status_code < 300, response.text
        answer = response.json()
        kind = "backup.requested" if path.endswith("requests") else "backup.cancelled"
        with self._lock:
            self.acknowledged.append((time.monotonic(), answer["seq"], kind))
        return answer

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count and not self.failures and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.count() >= count, self.failures

    def before(self, moment: float) -> dict[int, str]:
        with self._lock:
            return {seq: kind for at, seq, kind in self.acknowledged if at < moment}


def started_server(live_servers, tmp_path, staff: int = 1, padding_mib: int = 0):
    """The real server on the demo site, with `staff` tokens; `padding_mib` of filler makes the
    file big enough that a copy one page per step takes a while."""
    db_path = tmp_path / "live.db"
    tokens = prepare_database(db_path, {"staff": staff})["staff"]
    if padding_mib:
        with sqlite3.connect(db_path) as db:
            db.execute("CREATE TABLE padding (filler BLOB)")
            db.executemany(
                "INSERT INTO padding VALUES (randomblob(4000))", [()] * (256 * padding_mib)
            )
    return live_servers(db_path).start(), tokens


def log_of(path) -> dict[int, str]:
    """The demo site's log in a backup, opened read-only: {seq: event type}."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return dict(db.execute("SELECT seq, type FROM events WHERE site = 'demo'").fetchall())
    finally:
        db.close()


def test_a_backup_taken_while_commands_are_made_holds_every_acknowledged_one(
    live_servers, tmp_path
):
    server, tokens = started_server(live_servers, tmp_path, staff=3, padding_mib=8)
    target = tmp_path / "backups" / "exitnow.db"
    target.parent.mkdir()
    with CommandStream(server, tokens) as stream:
        stream.wait_for(30)
        started = time.monotonic()
        # One page per step: thousands of steps, with the server committing between them.
        result = server.cli("backup", str(target), "--pages", "1")
        finished = time.monotonic()
        stream.wait_for(stream.count() + 10)
    assert result.returncode == 0, result.stderr
    assert stream.failures == []
    during = [seq for at, seq, _ in stream.acknowledged if started < at < finished]
    assert len(during) > 10, "the server kept answering while the backup ran"

    assert os.listdir(target.parent) == ["exitnow.db"], "no temporary file is left beside it"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    entries = log_of(target)
    acknowledged = stream.before(started)
    missing = {seq: kind for seq, kind in acknowledged.items() if entries.get(seq) != kind}
    assert missing == {}
    last_seq = max(entries)
    assert f"{len(entries)} log entries" in result.stdout
    assert f"last seq per site: demo {last_seq}" in result.stdout

    verified = flask_cli(target, "verify-log", EXITNOW_SECRET_KEY="live-test-secret")
    assert verified.returncode == 0, verified.stderr
    assert f"log intact: {len(entries)} entries verified" in verified.stdout


def test_a_second_backup_to_the_same_file_is_refused_and_changes_nothing(live_servers, tmp_path):
    server, (token,) = started_server(live_servers, tmp_path)
    target = tmp_path / "exitnow-backup.db"
    asked = server.post(f"{SITE}/backup-requests", token, {"location": "Till 1"}).json()
    first = server.cli("backup", str(target))
    assert first.returncode == 0, first.stderr
    kept, kept_stat = target.read_bytes(), os.stat(target)
    cancel = f"{SITE}/backup-requests/{asked['backup_request']['id']}/cancel"
    assert server.post(cancel, token).ok  # the live file moves on

    second = server.cli("backup", str(target))
    assert second.returncode == 1
    assert f"{target} exists already" in second.stderr
    assert target.read_bytes() == kept
    assert os.stat(target).st_mtime_ns == kept_stat.st_mtime_ns
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]


def test_a_copy_whose_log_does_not_verify_is_not_kept(live_servers, tmp_path):
    server, _ = started_server(live_servers, tmp_path)
    # Someone edits the evidence, dropping the append-only triggers first.
    edit_log(server.db_path, "UPDATE events SET actor = '{}' WHERE site = 'demo' AND seq = 2")
    target = tmp_path / "exitnow-backup.db"
    result = server.cli("backup", str(target))
    assert result.returncode == 1
    assert "log verification of the copy FAILED" in result.stderr
    assert "seq 2" in result.stderr
    assert not target.exists()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]
