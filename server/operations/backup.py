"""Database backups: a consistent copy of the live SQLite file, taken while the server runs and
writes, and checked before it gets its name. (Not the backup requests of staff under threat:
those are server/commands/backup_requests.py.)

The copy goes through SQLite's online backup API, `PAGES_PER_STEP` pages per step, all steps
inside one read transaction on the live file. That snapshot matters: without it, every write
the server commits between two steps restarts the copy from page one, and under a steady
stream of commands it never finishes. In WAL mode a reader never holds the writer back, so the
server keeps committing throughout; what an open snapshot does hold back is the checkpoint,
and the WAL catches up once the copy is done.

On PostgreSQL the copy is pg_dump's (custom format), of a snapshot this process exports and
checks first: the log's chain verified and its heads read in the very snapshot pg_dump copies.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from ..store import log
from ..store.db import BUSY_TIMEOUT_MS

PAGES_PER_STEP = 1024  # 4 MiB of the default 4 KiB pages per call into SQLite


class BackupFailed(Exception):
    """The copy was made but failed its check; nothing was written under the file's name."""


@dataclass
class Backup:
    """What a checked copy holds."""

    path: str
    entries: int
    last_seq: dict[str, int] = field(default_factory=dict)
    checked: str = "integrity ok"

    def describe(self) -> str:
        sites = ", ".join(f"{site} {seq}" for site, seq in self.last_seq.items()) or "none"
        return (
            f"backup {self.path}: {self.checked}, hash chain intact, {self.entries} log "
            f"entries; last seq per site: {sites}"
        )


def back_up(live_path: str, target: str, pages: int = PAGES_PER_STEP) -> Backup:
    """Copy the live database into `target`, which must not exist yet: written under a
    temporary name beside it (mode 0600), checked, and only then linked to its name."""

    def copy_and_check(partial: str) -> Backup:
        copy(live_path, partial, pages)
        return check(partial)

    return _into_new_file(target, copy_and_check)


def back_up_postgres(database_url: str, target: str) -> Backup:
    """pg_dump of the PostgreSQL store into `target` (a new file, as `back_up`), of one
    snapshot in which the log's chain was verified; then read back by pg_restore."""
    import psycopg  # only with the PostgreSQL store

    from ..store.postgresql import connect

    def dump_and_check(partial: str) -> Backup:
        try:
            db = connect(database_url)
            try:
                db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snapshot = db.execute("SELECT pg_export_snapshot()").fetchone()[0]
                backup = _verified(db, partial)
                _pg_dump(database_url, snapshot, partial)  # while the snapshot is open
                db.execute("COMMIT")
            finally:
                db.close()
        except psycopg.Error as error:
            raise BackupFailed(f"PostgreSQL: {error}") from None
        _check_dump(partial)
        backup.checked = "pg_dump of one snapshot, read back by pg_restore"
        return backup

    return _into_new_file(target, dump_and_check)


def _into_new_file(target: str, make) -> Backup:
    """`make(partial)` writes and checks the copy under a temporary name beside `target`
    (mode 0600); only then is it linked to its name, which must not exist yet."""
    if os.path.lexists(target):
        raise FileExistsError(
            f"{target} exists already and was left as it is; back up into a new file"
        )
    folder, name = Path(target).resolve().parent, Path(target).name
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".partial")
    os.close(handle)
    try:
        backup = make(partial)
        os.link(partial, target)  # unlike a rename, never replaces a file made meanwhile
        _sync_folder(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    backup.path = target
    return backup


def _pg_dump(database_url: str, snapshot: str, into: str) -> None:
    """pg_dump's custom format of `snapshot`; the password, if the URL has one, goes in
    its environment, never on a command line others can read."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parts = conninfo_to_dict(database_url)
    password = parts.pop("password", None)
    environment = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    command = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password"]
    command += [f"--file={into}", f"--dbname={make_conninfo(**parts)}"]
    try:
        done = subprocess.run(command, env=environment, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupFailed(
            "pg_dump is not installed here (Debian: apt-get install postgresql-client)"
        ) from None
    if done.returncode != 0:
        raise BackupFailed(f"pg_dump: {done.stderr.strip()[-500:]}")


def _check_dump(path: str) -> None:
    """pg_restore reads the dump's table of contents, and the log's rows are in it."""
    try:
        listed = subprocess.run(["pg_restore", "--list", path], capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupFailed("pg_restore is not installed here (postgresql-client)") from None
    if (
        listed.returncode != 0
        or " TABLE DATA " not in listed.stdout
        or " events " not in listed.stdout
    ):
        raise BackupFailed(f"pg_restore cannot read the dump: {listed.stderr.strip()[-500:]}")


def copy(live_path: str, into: str, pages: int = PAGES_PER_STEP) -> None:
    """The online backup of one read snapshot of `live_path` into the file `into`."""
    source = sqlite3.connect(live_path, isolation_level=None)
    target = sqlite3.connect(into, isolation_level=None)
    try:
        source.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        source.execute("BEGIN")
        source.execute("SELECT COUNT(*) FROM sqlite_master")  # the snapshot starts here
        source.backup(target, pages=pages)
        source.execute("COMMIT")
        # One self-contained file; the server turns WAL on again when it opens a restored copy.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
        target.close()


def check(path: str) -> Backup:
    """`PRAGMA integrity_check` and the log's hash chain of a copy, opened read-only."""
    db = sqlite_utils.Database(
        sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    )
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupFailed(f"integrity_check of the copy: {'; '.join(problems[:5])}")
        return _verified(db, path)
    finally:
        db.close()


def _verified(db, path: str) -> Backup:
    """The log's hash chain of what the copy holds, and its last seq per site."""
    verification = log.verify(db)
    if not verification.ok:
        raise BackupFailed(
            f"log verification of the copy FAILED after {verification.count} good entries: "
            f"{verification.problem}"
        )
    last_seq = db.execute("SELECT site, MAX(seq) FROM events GROUP BY site ORDER BY site")
    return Backup(path, verification.count, dict(last_seq.fetchall()))


def _sync_folder(folder: Path) -> None:
    """The new name survives a power cut too."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
