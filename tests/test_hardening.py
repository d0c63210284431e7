"""What an attacker on the same machine or in the browser finds: files only the server's user
can read, and pages that refuse to be framed, sniffed or to leak their address."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import requests

from harness import only_on_sqlite, outside_store, store_url_for
from server.store.db import Store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_and_the_keys_are_readable_by_their_owner_only(live_server, tmp_path):
    folder = live_server.db_path.parent
    live_server.token("admin", "someone")  # a write, so the -wal file exists
    secrets = [folder / "vapid_private.pem"]  # the key files stay beside EXITNOW_DB on both engines
    if store_url_for(live_server.db_path) is None:  # the SQLite file and its WAL
        secrets.append(live_server.db_path)
        secrets += [p for p in (folder / f"{live_server.db_path.name}-wal",) if p.exists()]
    for path in secrets:
        assert mode(path) == 0o600, path


@only_on_sqlite
def test_an_older_database_readable_by_everyone_is_tightened_at_start(live_servers, tmp_path):
    db_path = tmp_path / "old.db"
    db_path.touch(mode=0o644)
    os.chmod(db_path, 0o644)
    live_servers(db_path).start()
    assert mode(db_path) == 0o600


# Another process (a CLI command) that opens the database, reads, prints and closes it.
READ_AND_CLOSE = (
    "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
    "print(db.execute('SELECT ' + sys.argv[2]).fetchall()); db.close()"
)


@only_on_sqlite
def test_another_process_closing_the_database_leaves_the_servers_wal_in_place(tmp_path):
    """Tightening the file's mode must not cost the server its locks: once it did (an open and
    close of the file dropped them), and a CLI command closing its connection deleted the
    running server's WAL, so what the server wrote afterwards no other process could see."""
    store = Store(str(tmp_path / "exitnow.db"))
    with store.transaction() as db:
        db.execute("CREATE TABLE notes (text)")
    with store.reading() as db:  # as the server reads all the time
        db.execute("SELECT * FROM notes").fetchall()
    subprocess.run(
        [sys.executable, "-c", READ_AND_CLOSE, store.path, "COUNT(*) FROM notes"], check=True
    )

    with store.transaction() as db:
        db.execute("INSERT INTO notes VALUES ('written after the other process left')")
    seen = subprocess.run(
        [sys.executable, "-c", READ_AND_CLOSE, store.path, "* FROM notes"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "written after the other process left" in seen.stdout
    store.close()


def every_row(db_path) -> dict[str, str]:
    """Each table of the test's store, its rows as one text."""
    with outside_store(db_path) as db:
        if store_url_for(db_path) is None:
            listed = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            listed = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        tables = [row[0] for row in db.execute(listed).fetchall()]
        return {table: repr(db.execute(f"SELECT * FROM {table}").fetchall()) for table in tables}


def test_pages_carry_security_headers_and_api_answers_are_not_sniffed(client, demo_links):
    for path in ("/", "/admin", "/setup", "/enroll/abc", "/screen/demo"):
        answer = client.get(path)
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"], path
        assert answer.headers["Referrer-Policy"] == "no-referrer", path
    api = client.get("/api/sites/demo/state")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_an_enrollment_code_kept_for_a_retry_is_in_no_file_or_row_and_the_retry_gets_it(
    live_server,
):
    admin = live_server.token("admin", "admin")
    path = "/api/sites/demo/staff/2/enrollment-links"
    first = live_server.post(path, admin, key="link-for-aino").json()
    again = live_server.post(path, admin, key="link-for-aino").json()
    assert again["code"] == first["code"]  # the same answer, as Idempotency-Key promises
    folder = live_server.db_path.parent
    for file in folder.glob(f"{live_server.db_path.name}*"):  # the SQLite file, its WAL
        assert first["code"].encode() not in file.read_bytes(), file.name
        assert b"link-for-aino" not in file.read_bytes(), file.name
    for table, rows in every_row(live_server.db_path).items():  # either engine's rows
        assert first["code"] not in rows, table
        assert "link-for-aino" not in rows, table
    enrolled = requests.post(
        f"{live_server.url}/api/enroll", json={"code": first["code"]}, timeout=5
    )
    assert enrolled.ok  # the code still enrolls, once
