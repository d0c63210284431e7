"""The PostgreSQL store (EXITNOW_DATABASE_URL=postgresql://...): the same tables, the same one
writer per process with a savepoint per command and one commit per batch, over psycopg 3.

The server's SQL is written once (server/store/sql.py says how): this module gives PostgreSQL
what it lacks of SQLite's spelling and nothing more:
- the schema, from server/store/db.py's SCHEMA: 64-bit integers (the times are ms), identity
  ids, BYTEA for BLOB, and the log's append-only rule as a trigger of PostgreSQL's own;
- `?` and `:name` placeholders turned into psycopg's `%s` and `%(name)s` (`Database`);
- `json_extract(text, '$.a.b')` as a SQL function returning text (callers cast numbers);
- writers serialised by an advisory lock held for the transaction, where SQLite has
  BEGIN IMMEDIATE: seqs and the commands' ids are taken as MAX + 1 inside the writer's
  transaction (the log's own row ids, checkpoints' and webhook deliveries' are identity
  columns: a rolled-back batch leaves a gap in those, never in a site's seq);
- timeouts everywhere a wait could be long: connecting, the write lock (as SQLite's busy
  timeout), a dead peer (TCP keepalives and a user timeout), a transaction left open.
- the long waits yield to the event loop: COMMIT (which waits for the synchronous standby)
  and the other processes' write lock in a native thread, connecting and the listener's wait
  green (`ListeningConnection`); a statement's round trip waits in C, as SQLite's calls do;
- every commit told to every process (`listen`): the log is the message queue between
  processes and machines (server/live/follow.py).
"""

from __future__ import annotations

import _socket  # never patched by eventlet or gevent: `cut_if_stuck` runs in a native thread
import contextlib
import logging
import os
import re
import selectors
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.waiting
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ..basics.settings import Settings
from ..basics.tasks import real_sleep
from .db import ADDED_COLUMNS, BUSY_TIMEOUT_MS, SCHEMA, TwoConnections

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock keys: one for the writers of every site, one for making the schema.
WRITE_LOCK = 0x45786974  # "Exit"
SCHEMA_LOCK = 0x4E6F7721  # "Now!"
# Told the site of each commit that added to its log (one notice per site and transaction).
LOG_CHANNEL = "exitnow_log"
LISTEN_PROBE_SECONDS = 5
# A statement on the event loop unanswered this long is cut (`watch_stuck`): the default of
# EXITNOW_DATABASE_STUCK_SECONDS, as libpq's tcp_user_timeout for a peer gone silent, and far
# above the longest read (a report's).
STUCK_SECONDS = Settings.database_stuck_seconds
# COMMIT and the writers' lock wait off the loop, for the synchronous standby or another
# process's commit; a stalled disk holds them for ever too, and with them every command. Never
# cut before a statement on the loop would be.
STUCK_OFF_THE_LOOP_SECONDS = 60
HUNG_SAID = "PostgreSQL did not answer a statement in time (hung?): its connection is cut"
# After a connect failed, the next one is tried this much later; meanwhile callers fail at once
# (a hung server takes connect_timeout to refuse each, and the reads wait in line).
RECONNECT_SECONDS = 2


def _connecting_yields() -> None:
    """psycopg took `selectors.DefaultSelector` for its connecting waits when it was imported,
    which the start's checks may do before eventlet patches it: the patched one (green: a
    connection to a dead host costs the worker nothing while it times out). Called when a
    store is made, after the server has patched."""
    psycopg.waiting.DefaultSelector = selectors.DefaultSelector


class ListeningConnection(psycopg.Connection):
    """The listener's connection (`PostgresStore.listen`): it waits for a notice most of its
    life, so its waits yield to the event loop. The commands' and reads' round trips wait in
    C (psycopg's wait_c) instead: a green wait costs more than a short trip (bench_crowd,
    1000 receipts over the socket: the manager had every one after 1.40 s, 3.04 s with every
    wait green); the long waits, COMMIT and the write lock, go to a native thread."""

    def wait(self, gen, interval=None):
        return psycopg.waiting.wait_select(gen, self.pgconn.socket, interval=interval)


PRIMARY_LAG = (
    "SELECT CAST(MAX(EXTRACT(EPOCH FROM replay_lag)) * 1000 AS BIGINT) FROM pg_stat_replication"
)
STANDBY_LAG = (
    "SELECT CAST(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000 AS BIGINT)"
)

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the log is append-only: an event is never %',
        CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END;
END $$;
CREATE OR REPLACE TRIGGER events_are_never_changed BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE OR REPLACE TRIGGER events_are_never_truncated BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
CREATE OR REPLACE FUNCTION events_tell_listeners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{channel}', NEW.site);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_are_told AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_tell_listeners();
CREATE OR REPLACE FUNCTION json_extract(document text, path text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN (document::jsonb) #>> string_to_array(substr(path, 3), '.');
"""


def postgresql_schema(schema: str = SCHEMA) -> str:
    """SQLite's SCHEMA in PostgreSQL's words (the triggers are APPEND_ONLY's)."""
    schema = re.sub(r"CREATE TRIGGER .*?\bEND;\n", "", schema, flags=re.DOTALL)
    schema = re.sub(
        r"\bid INTEGER PRIMARY KEY\b",
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        schema,
    )
    schema = re.sub(r"\bINTEGER\b", "BIGINT", schema)
    return re.sub(r"\bBLOB\b", "BYTEA", schema) + APPEND_ONLY.replace("{channel}", LOG_CHANNEL)


UNTRANSLATABLE = ("--", "/*", "$$", "E'")


def placeholders(sql: str) -> str:
    """`?` -> `%s`, `:name` -> `%(name)s`, `%` -> `%%`, outside quoted text (`::` is a cast).
    Comments, dollar quotes and E'' strings are refused rather than read wrongly: the
    server's SQL has none."""
    for mark in UNTRANSLATABLE:
        if mark in sql:
            raise ValueError(f"a statement for both engines has no {mark!r}: {sql[:60]}")
    out, quote, i = [], None, 0
    while i < len(sql):
        c = sql[i]
        if quote:
            out.append("%%" if c == "%" else c)
            quote = None if c == quote else quote
        elif c in "'\"":
            out.append(c)
            quote = c
        elif c == "?":
            out.append("%s")
        elif c == "%":
            out.append("%%")
        elif c == ":" and sql[i + 1 : i + 2] == ":":
            out.append("::")
            i += 1
        elif c == ":" and (match := re.match(r"[A-Za-z_]\w*", sql[i + 1 :])):
            out.append(f"%({match.group()})s")
            i += len(match.group())
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _values(params):
    """True and False as 1 and 0: the columns are integers, as in SQLite."""
    if params is None:
        return ()
    if isinstance(params, dict):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return [int(v) if isinstance(v, bool) else v for v in params]


@dataclass
class Waiting:
    """A statement under way on a connection, and when `watch_stuck` gives up on it."""

    until: float


class Database:
    """What the server uses of sqlite_utils.Database (`execute`, `query`, `conn.executemany`,
    `conn.in_transaction`), over one psycopg connection in autocommit mode: like SQLite's
    isolation_level=None, the writer says BEGIN and COMMIT itself."""

    def __init__(self, connection: psycopg.Connection, stuck_seconds: float = STUCK_SECONDS):
        self.connection = connection
        self.stuck_seconds = stuck_seconds  # a statement's wait on the loop is cut after it
        self.conn = self  # sqlite_utils' name for the connection beneath
        self.generation = 0  # the store's, when this connection was made
        self._sql: dict[str, str] = {}
        self._later: list[tuple[str, list]] = []  # `later`'s writes, not sent yet
        self.waiting: Waiting | None = None  # the statement under way, for `watch_stuck`

    def _translated(self, sql: str) -> str:
        translated = self._sql.get(sql)
        if translated is None:
            translated = self._sql[sql] = placeholders(sql)
        return translated

    def execute(self, sql: str, params=None) -> psycopg.Cursor:
        self._before(sql)
        with self._waiting():
            return self.connection.execute(self._translated(sql), _values(params))

    def execute_off_the_loop(self, sql: str, params=None) -> psycopg.Cursor:
        """For `run_native` (COMMIT, the writers' lock): a wait there holds up the writer,
        not the event loop, and may be long (a commit waits for the synchronous standby),
        so it is cut only after STUCK_OFF_THE_LOOP_SECONDS."""
        self._before(sql)
        with self._waiting(max(STUCK_OFF_THE_LOOP_SECONDS, self.stuck_seconds)):
            return self.connection.execute(self._translated(sql), _values(params))

    def executemany(self, sql: str, rows) -> None:
        self._before(sql)
        with self._waiting(), self.connection.cursor() as cursor:
            cursor.executemany(self._translated(sql), [_values(row) for row in rows])

    def query(self, sql: str, params=None) -> Iterator[dict]:
        self._before(sql)
        with self.connection.cursor(row_factory=dict_row) as cursor:
            with self._waiting():
                cursor.execute(self._translated(sql), _values(params))
            yield from cursor

    @contextmanager
    def _waiting(self, limit: float | None = None) -> Iterator[None]:
        """Marks the statement's wait for `PostgresStore.watch_stuck`: cut after `limit`, by
        default the connection's `stuck_seconds`."""
        limit = self.stuck_seconds if limit is None else limit
        mark = self.waiting = Waiting(time.monotonic() + limit)
        try:
            yield
        finally:
            if self.waiting is mark:
                self.waiting = None

    def cut_if_stuck(self, now: float) -> bool:
        """End a wait PostgreSQL has not answered by its limit: the socket shut down under
        libpq (through a copy of its descriptor, left to libpq to close), which then reports
        the connection lost. The mark is read again just before: a statement that ended
        meanwhile, or the next one, is left alone."""
        mark = self.waiting
        if mark is None or now < mark.until:
            return False
        with contextlib.suppress(OSError, psycopg.Error):  # closed meanwhile: nothing to cut
            if self.waiting is mark:
                self.waiting = None
                copy = _socket.socket(fileno=os.dup(self.connection.pgconn.socket))
                try:
                    copy.shutdown(_socket.SHUT_RDWR)
                finally:
                    copy.close()
                return True
        return False

    def later(self, sql: str, params: list) -> None:
        """A write in the writer's transaction whose answer nobody reads (an append, a mark,
        a remembered answer): sent with the next statement, at the latest with the one that
        ends the command (`ending`), in one round trip. Its error is raised there, inside
        the command that made it."""
        self._later.append((self._translated(sql), _values(params)))

    def ending(self, sql: str) -> None:
        """`sql` (no parameters) after the writes waiting, in one round trip: the simple
        query protocol takes several statements, their values bound here by psycopg."""
        if not self._later:
            with self._waiting():
                self.connection.execute(sql)
            return
        statements = [statement for statement, _ in self._later] + [sql]
        values = [value for _, given in self._later for value in given]
        self._later.clear()
        with self._waiting(), psycopg.ClientCursor(self.connection) as cursor:
            cursor.execute("; ".join(statements), values)

    def _before(self, sql: str) -> None:
        """The writes waiting go first; a rollback makes them moot."""
        if self._later:
            if sql.startswith("ROLLBACK"):
                self._later.clear()
            else:
                self.ending("SELECT 1")

    @property
    def in_transaction(self) -> bool:
        return self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def close(self) -> None:
        self.connection.close()


# libpq settings a URL may set itself; these are the defaults when it does not.
CONNECTION_DEFAULTS = {
    "connect_timeout": "5",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "15000",  # ms: a peer gone silent ends the connection
}
SESSION = (
    f"SET lock_timeout = {BUSY_TIMEOUT_MS}; "  # the write lock, as SQLite's busy timeout
    "SET idle_in_transaction_session_timeout = 60000"  # a transaction left open by a dead loop
)


# What `connect` raises when the server cannot be reached (and a statement when it is lost).
Unreachable = psycopg.OperationalError


def connect(
    url: str,
    kind: type[psycopg.Connection] = psycopg.Connection,
    stuck_seconds: float = STUCK_SECONDS,
) -> Database:
    """A connection with the timeouts above; an error names the server, never the password
    (libpq can repeat parts of the URL in its messages)."""
    try:
        given = conninfo_to_dict(url)
        settings = {**CONNECTION_DEFAULTS, **given}
        connection = kind.connect(**settings, autocommit=True)
    except psycopg.Error as error:
        raise psycopg.OperationalError(
            f"cannot connect to PostgreSQL at {where(url)}: {type(error).__name__}"
        ) from None
    connection.execute(SESSION)
    return Database(connection, stuck_seconds)


def where(url: str) -> str:
    """host:port/database of a URL, for messages: no user, no password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "(a URL libpq cannot read)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def make_schema(db: Database) -> None:
    """The tables, once, even when several workers start at the same moment."""
    db.execute("BEGIN")
    try:
        db.execute("SELECT pg_advisory_xact_lock(?)", [SCHEMA_LOCK])
        db.connection.execute(postgresql_schema())
        for table, column, declaration in ADDED_COLUMNS:
            declaration = re.sub(r"\bINTEGER\b", "BIGINT", declaration)
            db.connection.execute(
                f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {declaration}"
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class PostgresStore(TwoConnections):
    """Two connections per process, as the SQLite store has: the writer's and the reads'
    (one REPEATABLE READ snapshot). `path` is EXITNOW_DB's, for the files kept beside it (the
    secret, the log's signing key)."""

    engine = "postgresql"
    BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def __init__(self, url: str, path: str, stuck_seconds: float = STUCK_SECONDS):
        _connecting_yields()
        self.url, self.path = url, path
        self.stuck_seconds = stuck_seconds
        Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)  # for the key files
        self._generation = 0  # moved on by `lost`: connections of an older one are made anew
        self._retry_after = 0.0  # after a failed connect: until then, fail at once
        self.cuts = self._cuts_said = 0  # connections `watch_stuck` cut
        self._listening: Database | None = None  # `listen`'s connection while it listens
        write_db = self._connect()
        make_schema(write_db)
        super().__init__(write_db, self._connect())

    def _connect(self, kind: type[psycopg.Connection] = psycopg.Connection) -> Database:
        return connect(self.url, kind, self.stuck_seconds)

    def _fresh(self, db: Database) -> Database:
        """The connection, or a new one when PostgreSQL closed it (a restart, a failover) or
        the other connection found it gone (`lost`): the command that met the break failed
        and is retried by its client with its key; the next one gets a working connection
        without a restart of the worker."""
        if db.generation == self._generation and not db.connection.closed:
            return db
        if time.monotonic() < self._retry_after:  # each waiter would pay connect_timeout
            raise Unreachable(f"cannot connect to PostgreSQL at {where(self.url)}: tried just now")
        db.close()
        try:
            fresh = self._connect()
        except Unreachable:
            self._retry_after = time.monotonic() + RECONNECT_SECONDS
            raise
        fresh.generation = self._generation
        return fresh

    def end_command(self, db: Database, another: bool) -> None:
        """The command's waiting writes, its savepoint released and the next one's made: one
        round trip."""
        db.ending("RELEASE command; SAVEPOINT command" if another else "RELEASE command")

    def begin_write(self, db: Database, run_native) -> None:
        """BEGIN and the writers' lock: at once when no other process holds it, else waited
        for in a native thread (as SQLite's BEGIN IMMEDIATE)."""
        db.execute("BEGIN")
        if not db.execute("SELECT pg_try_advisory_xact_lock(?)", [WRITE_LOCK]).fetchone()[0]:
            run_native(db.execute_off_the_loop, "SELECT pg_advisory_xact_lock(?)", [WRITE_LOCK])

    def commit(self, db: Database, run_native) -> None:
        """COMMIT in a native thread: it waits for the synchronous standby (cut only after
        STUCK_OFF_THE_LOOP_SECONDS), and the event loop goes on."""
        run_native(db.execute_off_the_loop, "COMMIT")

    def watch_stuck(self) -> None:
        """For the process's life, in a native thread (`run_native`): a statement that waits
        on the event loop longer than `stuck_seconds` (off it, STUCK_OFF_THE_LOOP_SECONDS) has
        met a server that holds its socket open and answers nothing (a hung PostgreSQL:
        stopped, or stalled on its disk), which no TCP timeout notices, while every phone and
        probe of this process (or every command) waits with it. Its connection is cut: the
        statement fails as a lost connection (503, "try again"; new connections at the next
        use, perhaps to the standby by then)."""
        while True:
            real_sleep(1)
            for db in (self._write_db, self._read_db, self._listening):
                if db is None:
                    continue
                # No logging in this thread: logging's locks are the event loop's (green)
                # under eventlet. The cut is said when the loop meets it (`forget_connections`).
                with contextlib.suppress(Exception):  # the watch stays alive
                    self.cuts += db.cut_if_stuck(time.monotonic())

    def listen(self) -> Iterator[str | None]:
        """None once listening, then the site of every commit another process makes to its
        log, as PostgreSQL tells them after the commit (this process's own writer sends its
        own). Ends with an error when the connection is lost (a failover; a silent primary
        fails the probe sent after LISTEN_PROBE_SECONDS without a notice, within libpq's
        tcp_user_timeout): the caller listens again and reads what it missed from the log."""
        db = self._listening = self._connect(ListeningConnection)  # watched too: `watch_stuck`
        try:
            db.execute(f"LISTEN {LOG_CHANNEL}")
            yield None
            while True:
                for notice in db.connection.notifies(timeout=LISTEN_PROBE_SECONDS):
                    if notice.pid != self._write_db.connection.info.backend_pid:
                        yield notice.payload
                db.execute("SELECT 1")
        finally:
            self._listening = None
            db.close()

    def lost(self, error: BaseException) -> bool:
        """Whether `error` is a lost connection: one PostgreSQL closed (a restart, a failover,
        the network: SQLSTATE class 08, 57P01-57P03) or one that could not be made; not a
        statement it refused (a lock timeout, a full disk, a cancel)."""
        if not isinstance(error, psycopg.OperationalError):
            return False
        state = error.sqlstate
        return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")

    def busy(self, error: BaseException) -> bool:
        """Whether `error` is the lock timeout: another process held the writers' lock (a
        commit waiting for the synchronous standby holds it)."""
        return isinstance(error, psycopg.errors.LockNotAvailable)

    def forget_connections(self) -> None:
        """Both connections made anew at their next use: what closed one closed the other.
        (On the event loop: said here when it was `watch_stuck` that closed it.)"""
        self._generation += 1
        if self.cuts > self._cuts_said:
            self._cuts_said = self.cuts
            logger.warning(HUNG_SAID)

    def describe(self) -> dict:
        """For /readyz: the engine, whether this node's database is the primary or a standby
        (in recovery), and the replication lag: on a primary the slowest standby's replay lag
        (None without a standby), on a standby how far its last replayed commit is behind."""
        try:
            with self.reading() as db:
                standby = db.execute("SELECT pg_is_in_recovery()").fetchone()[0]
                lag = db.execute(STANDBY_LAG if standby else PRIMARY_LAG).fetchone()[0]
        except psycopg.Error:  # said by /readyz's database check; the other figures still count
            return {"engine": self.engine, "role": "unreachable", "replication_lag_ms": None}
        role = "standby" if standby else "primary"
        return {"engine": self.engine, "role": role, "replication_lag_ms": lag}

    def after_erasure(self) -> None:
        """The erased keys' dead rows freed for reuse (server/store/db.py: overwrite_deleted)."""
        with self.writing() as db:
            db.execute("VACUUM person_keys")

    def writable(self) -> bool:
        """Said by the writer's empty transaction (/readyz): a standby refuses it."""
        return True

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        with self.writing() as db:
            self.begin_write(db, lambda function, *args: function(*args))
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
