"""Whether the server can work on what it finds at start: the database file whole, and the
folders and key files it writes or reads usable.

A damaged database is found here, as the server starts, not mid-alarm: SQLite's own `PRAGMA
quick_check`, then each site's log chain from its last signed checkpoint to its end (what was
written since the last statement about it left the building). The server refuses to serve a
damaged file and says how to get back (`python -m server` at start; `flask --app server
check-database` and `python -m server --check` on demand). It opens the file read-only and
changes nothing. On PostgreSQL the same chains are checked at start, and on demand also every
table's pages and B-tree index with PostgreSQL's amcheck, where the database has it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from . import log

MOST_PROBLEMS = 10


def database_problems(db_path: str) -> list[str]:
    """What is wrong with the database file (empty: whole, or not made yet)."""
    path = Path(db_path)
    if db_path == ":memory:" or not path.exists():
        return []
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return [f"SQLite cannot open it: {error}"]
    try:
        found = [row[0] for row in connection.execute(f"PRAGMA quick_check({MOST_PROBLEMS})")]
        if found != ["ok"]:
            return [f"SQLite's quick_check: {problem}" for problem in found]
        db = sqlite_utils.Database(connection)
        return _chain_problems(db, set(db.table_names()))
    except sqlite3.DatabaseError as error:  # "file is not a database", "malformed", ...
        return [f"SQLite cannot read it: {error}"]
    finally:
        connection.close()


def check_on_demand(settings) -> tuple[bool, str]:
    """`flask check-database` and `python -m server --check`: whether the store is whole, and
    what to say (what was checked, or the problems and the way back)."""
    if settings.database_url:
        from .postgresql import Unreachable, where

        try:
            problems, checked = postgres_problems(settings.database_url, with_amcheck=True)
        except Unreachable as error:
            return False, f"error: {error}"
        if problems:
            return False, damage_report(settings.db_path, problems, settings.database_url)
        return True, f"{where(settings.database_url)}: {checked}"
    problems = database_problems(settings.db_path)
    if problems:
        return False, damage_report(settings.db_path, problems)
    return (
        True,
        f"{settings.db_path}: quick_check ok, every log chain intact from its last checkpoint",
    )


def postgres_problems(database_url: str, with_amcheck: bool = False) -> tuple[list[str], str]:
    """What is wrong with the PostgreSQL store, and what was checked: each site's log chain
    from its last checkpoint (as for the file); `with_amcheck` (on demand: it reads every
    table and index whole), each table's pages and B-tree indexes with amcheck, where the
    database has it. A page PostgreSQL finds damaged as it reads it (data checksums) is a
    problem too. One read-only snapshot; raises Unreachable when it cannot connect."""
    import psycopg  # only with the PostgreSQL store

    from .postgresql import connect

    db = connect(database_url)
    try:
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        tables = {name for (name,) in db.execute(OUR_TABLES)}
        problems = _chain_problems(db, tables)
        checked = "every log chain intact from its last checkpoint"
        if with_amcheck:
            usable = _amcheck_usable(db)
            problems += _amcheck_problems(db, tables) if usable else []
            checked += AMCHECK_SAID[usable]
        return problems, checked
    except (psycopg.errors.DataCorrupted, psycopg.errors.IndexCorrupted) as error:
        return [f"PostgreSQL cannot read it: {error}"], ""
    finally:
        db.close()


OUR_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
AMCHECK_SAID = {
    True: "; amcheck: every table's pages and B-tree indexes whole",
    False: "; amcheck is not usable here, so pages and indexes were not checked (a "
    "superuser adds it: CREATE EXTENSION amcheck; and may grant its functions to this role)",
}


# amcheck's statements are PostgreSQL's alone: on the psycopg connection, %s its placeholder.
AMCHECK_USABLE = (
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'amcheck') "
    "AND has_function_privilege('bt_index_check(regclass, boolean)', 'EXECUTE') "
    "AND has_function_privilege('verify_heapam(regclass, boolean, boolean, text, bigint, "
    "bigint)', 'EXECUTE')"
)
OUR_BTREE_INDEXES = (
    "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = "
    "i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' "
    "AND i.indrelid::regclass::text = ANY(%s) ORDER BY 1"
)


def _amcheck_usable(db) -> bool:
    return bool(db.connection.execute(AMCHECK_USABLE).fetchone()[0])


def _amcheck_problems(db, tables: set[str]) -> list[str]:
    """amcheck's findings on our tables' pages (verify_heapam) and B-tree indexes
    (bt_index_check, with every row's index entries looked up)."""
    import psycopg

    pg, problems = db.connection, []
    for table in sorted(tables):
        found = pg.execute("SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass)", [table])
        for block, offset, message in found:
            problems.append(f"amcheck: the table {table}, page {block} item {offset}: {message}")
    for (index,) in pg.execute(OUR_BTREE_INDEXES, [sorted(tables)]).fetchall():
        pg.execute("SAVEPOINT index_check")  # a damaged index raises; the others still count
        try:
            pg.execute("SELECT bt_index_check(%s::regclass, true)", [index])
            pg.execute("RELEASE SAVEPOINT index_check")
        except psycopg.errors.IndexCorrupted as error:
            pg.execute("ROLLBACK TO SAVEPOINT index_check")
            problems.append(f"amcheck: the index {index}: {error}")
    return problems[:MOST_PROBLEMS]


def _chain_problems(db, tables: set[str]) -> list[str]:
    """Each site's log from its last checkpoint on: the checkpointed entry is the one that
    was signed, and every later entry chains to it."""
    if "events" not in tables:
        return []
    has_checkpoints = "checkpoints" in tables
    problems = []
    for (site,) in db.execute("SELECT DISTINCT site FROM events").fetchall():
        signed = None
        if has_checkpoints:
            signed = db.execute(
                "SELECT size, head_hash FROM checkpoints WHERE site = ? ORDER BY size DESC LIMIT 1",
                [site],
            ).fetchone()
        problem = _site_chain_problem(db, site, signed)
        if problem:
            problems.append(problem)
    return problems


def _site_chain_problem(db, site: str, signed) -> str | None:
    first = signed[0] if signed else 1
    before = db.execute(
        "SELECT hash FROM events WHERE site = ? AND seq = ?", [site, first - 1]
    ).fetchone()
    previous_hash = before[0] if before else log.GENESIS_HASH
    expected_seq = first
    for row in db.query(
        "SELECT * FROM events WHERE site = ? AND seq >= ? ORDER BY seq", [site, first]
    ):
        where = f"the log of site {site!r} at seq {row['seq']}"
        if row["seq"] != expected_seq:
            return f"{where}: expected seq {expected_seq} (entries are missing)"
        try:
            expected = log.entry_hash(previous_hash, log.row_to_entry(row))
        except (ValueError, TypeError) as error:
            return f"{where}: the entry cannot be read ({error})"
        if expected != row["hash"]:
            return f"{where}: its content does not match its hash (expected {expected})"
        if signed and row["seq"] == signed[0] and row["hash"] != signed[1]:
            return f"{where}: it is not the entry the last checkpoint signed"
        previous_hash, expected_seq = row["hash"], expected_seq + 1
    if signed and expected_seq <= signed[0]:
        return f"the log of site {site!r} ends before seq {signed[0]}, which a checkpoint signed"
    return None


def way_back(db_path: str) -> str:
    """What an operator does about a damaged database (docs/operations.md, Backups)."""
    return (
        f"The way back: stop every server process using {db_path}; move it aside with its "
        f"-wal and -shm files; put the newest good copy in its place: one made by `flask --app "
        f"server backup`, or from Litestream (`litestream restore -config "
        f"deploy/litestream.yml -o {db_path}.restored {db_path}`, then rename it); check it "
        f"with `flask --app server check-database`; then start the server again. See "
        f"docs/operations.md, Backups."
    )


POSTGRES_WAY_BACK = (
    "The way back: the synchronous standby holds every commit: fail over to it (deploy/README.md, "
    "Losing a machine) and make this server a new standby of it with pg_basebackup; with no "
    "standby, restore the newest base backup and its WAL, or pg_restore the newest pg_dump; "
    "check it with `flask --app server check-database`; then start the server again."
)


def damage_report(db_path: str, problems: list[str], database_url: str | None = None) -> str:
    """The problems found, one a line, and the way back (for the SQLite file at `db_path`,
    or for the PostgreSQL database at `database_url`)."""
    if database_url:
        from .postgresql import where

        name, back = f"the PostgreSQL database {where(database_url)}", POSTGRES_WAY_BACK
    else:
        name, back = f"the database {db_path}", way_back(db_path)
    lines = [f"{name} is damaged:"]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join([*lines, back])


def unwritable_database(db_path: str) -> str | None:
    """Why the server could record nothing (a read-only database or folder), or None.
    Call before the app opens the database: it opens and closes the file itself."""
    if db_path == ":memory:":
        return None
    folder = Path(db_path).resolve().parent
    if not _can_write_in(folder):
        return f"the database's folder {folder} cannot be written (its -wal and -shm live there)"
    if Path(db_path).exists() and not _can_write_file(db_path):
        return f"the database {db_path} is read-only: nothing could be recorded"
    return None


def unwritable_public_folder(public_dir: str) -> str | None:
    """Why the public notices could not change, or None: said at start, and /readyz is red."""
    if _can_write_in(Path(public_dir)):
        return None
    return (
        f"the public folder {public_dir} cannot be written: the notices to customers will not "
        "change (EXITNOW_PUBLIC_DIR); /readyz says snapshots: false"
    )


# The key files beside the database (docs/operations.md, Backups), and what making a new one would cost.
KEY_FILES = {
    "secret_key": "answers kept for Idempotency-Keys could no longer be read",
    "log_signing_key.pem": "later checkpoints would be signed by a new key, with a new "
    "fingerprint for every reader of a report",
    "vapid_private.pem": "every phone would have to subscribe to push again",
}


def key_file_problems(db_path: str) -> list[str]:
    """Each key file beside the database that is there but cannot be read or parsed. (A
    missing one is made anew, as on a first start.)"""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    folder = Path(db_path).resolve().parent
    problems = []
    for name, cost in KEY_FILES.items():
        path = folder / name
        if not path.exists():
            continue
        try:
            content = path.read_bytes()
            if name.endswith(".pem"):
                load_pem_private_key(content, password=None)
            elif not content.strip():
                raise ValueError("it is empty")
        except (OSError, ValueError, TypeError) as error:
            problems.append(
                f"{path} cannot be read ({error}): put back your copy of it (docs/operations.md, "
                f"Backups); only when there is none, move it aside and a new one is made, "
                f"but {cost}"
            )
    return problems


def lost_signing_key(
    db_path: str, make_new: bool = False, database_url: str | None = None
) -> str | None:
    """The log signing key is missing while the log holds checkpoints signed by it: a new
    one made without a word would sign the later ones with a fingerprint no reader knows.
    None when it is there, the log has no checkpoint yet, or the operator asked for a new
    one (EXITNOW_NEW_LOG_KEY=yes). The log is the SQLite file's, or PostgreSQL's."""
    path = Path(db_path).resolve().parent / "log_signing_key.pem"
    if make_new or path.exists() or db_path == ":memory:":
        return None
    signed = _signed_checkpoints(database_url) if database_url else _signed_in_file(db_path)
    if not signed:
        return None
    return (
        f"{path} is missing, but the log has {signed} checkpoints signed by it: put back your "
        "copy of it (docs/operations.md, Backups); only when there is none, start once with "
        f"EXITNOW_NEW_LOG_KEY=yes, and then {KEY_FILES['log_signing_key.pem']}"
    )


def _signed_in_file(db_path: str) -> int:
    if not Path(db_path).exists():
        return 0
    try:
        connection = sqlite3.connect(
            f"file:{quote(str(Path(db_path).resolve()))}?mode=ro", uri=True
        )
        try:
            return connection.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:  # no checkpoints table yet (a new file), or said by the checks above
        return 0


def _signed_checkpoints(database_url: str) -> int:
    from .postgresql import connect  # only with the PostgreSQL store

    db = connect(database_url)
    try:
        if db.execute("SELECT to_regclass('checkpoints')").fetchone()[0] is None:
            return 0  # a new database: no table yet
        return db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
    finally:
        db.close()


def _can_write_in(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".writable-"):
            return True
    except OSError:
        return False


def _can_write_file(path: str) -> bool:
    """Opened for writing without changing it; root passes a mode check, not a read-only mount."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
    except OSError:
        return False
    return True
