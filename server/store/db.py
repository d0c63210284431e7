"""The SQLite database: connection pragmas, schema, and the two connections of a process (one
for the writer, server/store/writer.py, which is the one way to write; one for every read)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

# Every table is created here. The state tables are projections of the log (server/store/projectors/),
# written in the transaction that appends the event; idempotency_keys is a cache of answers;
# checkpoints are signed statements about the log.
SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    languages TEXT NOT NULL DEFAULT '["fi","sv","en"]',
    settings TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS zones (
    site TEXT NOT NULL REFERENCES sites(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    exits TEXT NOT NULL DEFAULT '[]',
    assembly_point TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, id)
);
CREATE TABLE IF NOT EXISTS staff (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('staff', 'guard', 'duty_manager', 'admin')),
    home_zone TEXT,
    language TEXT NOT NULL DEFAULT 'fi',
    created_at INTEGER NOT NULL
);
-- A chain's admins: admins of their own site who may also act as admin on every other site.
CREATE TABLE IF NOT EXISTS chain_admins (
    staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
    granted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('device', 'api')),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS enrollment_links (
    code_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (site, seq)
);
-- The log is append-only inside SQLite too, a second line behind the hash chain: an UPDATE,
-- a DELETE or an INSERT OR REPLACE of an event fails (REPLACE deletes without firing a
-- DELETE trigger). Whoever holds the file can drop these; what holds then is the chain
-- against the signed checkpoints (server/evidence/checkpoints.py) and their witnesses.
CREATE TRIGGER IF NOT EXISTS events_are_never_changed BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the log is append-only: an event is never changed'); END;
CREATE TRIGGER IF NOT EXISTS events_are_never_deleted BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the log is append-only: an event is never deleted'); END;
CREATE TRIGGER IF NOT EXISTS events_are_never_replaced BEFORE INSERT ON events
WHEN EXISTS (SELECT 1 FROM events WHERE id = NEW.id OR (site = NEW.site AND seq = NEW.seq))
BEGIN SELECT RAISE(ABORT, 'the log is append-only: an event is never replaced'); END;
CREATE TABLE IF NOT EXISTS incidents (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL,
    drill INTEGER NOT NULL,
    message TEXT,
    eta INTEGER,
    started_at INTEGER NOT NULL,
    started_by INTEGER REFERENCES staff(id),
    start_seq INTEGER,
    ended_at INTEGER,
    ended_by INTEGER REFERENCES staff(id),
    end_reason TEXT,
    end_seq INTEGER
);
-- One active incident per site, enforced by the database itself.
CREATE UNIQUE INDEX IF NOT EXISTS one_active_incident_per_site
    ON incidents(site) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS roll_call (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    delivered_at INTEGER,
    acknowledged_at INTEGER,
    safe_at INTEGER,
    PRIMARY KEY (incident_id, staff_id)
);
CREATE TABLE IF NOT EXISTS sweeps (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    zone TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('unchecked', 'claimed', 'clear', 'blocked')),
    staff_id INTEGER REFERENCES staff(id),
    note TEXT,
    updated_at INTEGER,
    PRIMARY KEY (incident_id, zone)
);
CREATE TABLE IF NOT EXISTS help_requests (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    raised_by INTEGER NOT NULL REFERENCES staff(id),
    location TEXT NOT NULL,
    note TEXT,
    raised_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by INTEGER REFERENCES staff(id)
);
CREATE TABLE IF NOT EXISTS backup_requests (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    raised_by INTEGER NOT NULL REFERENCES staff(id),
    location TEXT NOT NULL,
    note TEXT,
    raised_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by INTEGER REFERENCES staff(id),
    outcome TEXT
);
-- A guard or duty manager who cannot come to a backup request (it stays open for the others).
CREATE TABLE IF NOT EXISTS backup_declines (
    backup_id INTEGER NOT NULL REFERENCES backup_requests(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    at INTEGER NOT NULL,
    PRIMARY KEY (backup_id, staff_id)
);
-- What the public channels say about a site now (the last notice.issued event).
CREATE TABLE IF NOT EXISTS public_notices (
    site TEXT PRIMARY KEY REFERENCES sites(id),
    state TEXT NOT NULL CHECK (state IN ('open', 'closed', 'restored')),
    since INTEGER,
    eta INTEGER,
    kind TEXT,
    drill INTEGER NOT NULL DEFAULT 0,
    incident_id INTEGER REFERENCES incidents(id),
    restored_until INTEGER,
    version INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
-- Web Push subscriptions of enrolled devices (one per browser endpoint).
CREATE TABLE IF NOT EXISTS push_subscriptions (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    credential_id INTEGER NOT NULL REFERENCES credentials(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    site TEXT NOT NULL REFERENCES sites(id),
    created_at INTEGER NOT NULL
);
-- Mustering (server/commands/mustering.py, visitors.py): the site's assembly points, the
-- visitors and contractors signed in at the door, who is accounted for in each incident (by
-- their phone, the sign's QR code, a marshal, or by signing out) and who was reported inside.
CREATE TABLE IF NOT EXISTS assembly_points (
    site TEXT NOT NULL REFERENCES sites(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    place TEXT,  -- the site file's `where`: "Car park, lamp post A"
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, id)
);
CREATE TABLE IF NOT EXISTS visitors (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    name TEXT,  -- NULL once erased
    company TEXT,
    phone TEXT,
    host_staff_id INTEGER REFERENCES staff(id),
    language TEXT NOT NULL,
    self_signed INTEGER NOT NULL,  -- at the entrance, without an account
    link_nonce TEXT NOT NULL,  -- with the server's secret, makes the visitor's personal link
    signed_in_at INTEGER NOT NULL,
    left_at INTEGER,
    left_how TEXT CHECK (left_how IN ('desk', 'self', 'closing'))
);
CREATE INDEX IF NOT EXISTS visitors_of_site ON visitors(site, left_at);
-- Who was on site during an incident (mustering.VISITORS_ON_ROLL: 4611686018427387904 is its
-- NEVER, 2**62, for a visitor still in): a range, however long the register grows.
CREATE INDEX IF NOT EXISTS visitors_on_site_until
    ON visitors(site, COALESCE(left_at, 4611686018427387904));
CREATE TABLE IF NOT EXISTS accounted (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    person TEXT NOT NULL CHECK (person IN ('staff', 'visitor')),
    person_id INTEGER NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('phone', 'qr', 'marshal', 'left')),
    assembly_point TEXT,
    by_staff_id INTEGER REFERENCES staff(id),
    at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, person, person_id)
);
CREATE TABLE IF NOT EXISTS reported_inside (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    person TEXT NOT NULL CHECK (person IN ('staff', 'visitor')),
    person_id INTEGER NOT NULL,
    location TEXT NOT NULL,
    by_staff_id INTEGER REFERENCES staff(id),
    at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, person, person_id)
);
-- What a crowd of phones reads at once: a person's credentials and roll-call row, a site's
-- people, subscriptions and help requests.
CREATE INDEX IF NOT EXISTS credentials_of_staff ON credentials(staff_id);
CREATE INDEX IF NOT EXISTS staff_of_site ON staff(site);
CREATE INDEX IF NOT EXISTS push_subscriptions_of_site ON push_subscriptions(site);
-- Whether a person can be pushed: the escalation timer asks it of everyone, each second.
CREATE INDEX IF NOT EXISTS push_subscriptions_of_staff ON push_subscriptions(staff_id);
CREATE INDEX IF NOT EXISTS help_requests_of_incident ON help_requests(incident_id);
-- The fire-alarm panel (server/rules/alarm_panel.py): its sealed webhook secrets, every signal it
-- sent (by the sender's event id), its pre-alarm countdowns and whether its link is up.
CREATE TABLE IF NOT EXISTS alarm_panel_secrets (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
CREATE TABLE IF NOT EXISTS alarm_panel_signals (
    site TEXT NOT NULL REFERENCES sites(id),
    event_id TEXT NOT NULL,
    signal TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT,
    seq INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    incident_id INTEGER,
    pre_alarm_id INTEGER,
    PRIMARY KEY (site, event_id)
);
CREATE INDEX IF NOT EXISTS alarm_panel_signals_in_order ON alarm_panel_signals(site, seq);
-- The public notices in the log, for the CAP feed's history (server/channels/atom.py): only
-- these entries are indexed, so the crowd's receipts cost nothing more.
CREATE INDEX IF NOT EXISTS notices_in_the_log ON events(site, seq) WHERE type = 'notice.issued';
CREATE TABLE IF NOT EXISTS pre_alarms (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    event_id TEXT NOT NULL,
    detail TEXT,
    started_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT CHECK (outcome IN ('confirmed', 'dismissed', 'expired')),
    ended_by INTEGER REFERENCES staff(id),
    incident_id INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_pre_alarm_per_site
    ON pre_alarms(site) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS alarm_panel_links (
    site TEXT PRIMARY KEY REFERENCES sites(id),
    state TEXT NOT NULL CHECK (state IN ('up', 'down')),
    since INTEGER NOT NULL,
    interval_seconds INTEGER NOT NULL
);
-- Not state but working memory, like idempotency_keys: when each site's panel was last heard
-- (a heartbeat is not an event: only the link going up or down is), and what each delivery
-- of the last minutes signed (a digest of its timestamp and body), so that a replay is refused.
CREATE TABLE IF NOT EXISTS alarm_panel_heartbeats (
    site TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    interval_seconds INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_panel_deliveries (
    signed TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
-- Phone readiness (server/live/phone_readiness.py): the push service's last answer for each
-- subscription (kept after it expired), test alarms and each person's answer to them.
CREATE TABLE IF NOT EXISTS push_outcomes (
    subscription_id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    credential_id INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'failed', 'expired')),
    status INTEGER,
    purpose TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_outcomes_of_staff ON push_outcomes(staff_id);
CREATE TABLE IF NOT EXISTS test_alarms (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    staff_id INTEGER REFERENCES staff(id),  -- NULL: everyone on the site
    sent_at INTEGER NOT NULL,
    sent_by INTEGER REFERENCES staff(id)
);
CREATE TABLE IF NOT EXISTS test_alarm_phones (
    test_id INTEGER NOT NULL REFERENCES test_alarms(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    pushed_at INTEGER,
    outcome TEXT,  -- the push service's best answer over the person's subscriptions
    answered_at INTEGER,
    PRIMARY KEY (test_id, staff_id)
);
-- Escalation during an incident (server/rules/escalation.py): each attempt to reach a person whose
-- phone has not confirmed the alarm, and the answer of the push or SMS service.
CREATE TABLE IF NOT EXISTS escalations (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    step INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('push', 'sms')),
    at INTEGER NOT NULL,
    outcome TEXT,
    status INTEGER,
    PRIMARY KEY (incident_id, staff_id, step)
);
-- Outbound webhooks (server/integrations/webhooks.py): the subscriptions, their URL and secret sealed.
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL REFERENCES sites(id),
    url_sealed TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    origin TEXT NOT NULL,  -- scheme://host:port only: a URL's path can be a capability
    events TEXT NOT NULL,
    format TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,
    removed_at INTEGER
);
-- Not state but working memory, like idempotency_keys (never rebuilt from the log): which
-- phones each worker has connected (written in batches, server/live/presence.py), when each worker
-- last wrote, and the webhook deliveries still to make and made (with every attempt).
CREATE TABLE IF NOT EXISTS device_presence (
    credential_id INTEGER NOT NULL,
    site TEXT NOT NULL,
    staff_id INTEGER NOT NULL,
    worker TEXT NOT NULL,
    connections INTEGER NOT NULL,
    connected_at INTEGER,
    last_seen_at INTEGER NOT NULL,
    app_version TEXT,
    notifications TEXT,
    PRIMARY KEY (credential_id, worker)
);
CREATE INDEX IF NOT EXISTS device_presence_of_site ON device_presence(site);
CREATE TABLE IF NOT EXISTS presence_workers (
    worker TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL,
    site TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'gave_up')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    leased_by TEXT,
    lease_until INTEGER,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (webhook_id, seq)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries(state, next_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    milliseconds INTEGER,
    PRIMARY KEY (delivery_id, attempt)
);
-- Signed checkpoints of each site's log (server/evidence/checkpoints.py), with the time-stamping
-- authority's token when there is one. Statements about the log, not state derived from it:
-- rebuild-state neither makes nor compares them.
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    size INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    made_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    timestamp_token BLOB,
    UNIQUE (site, size)
);
-- Each customer-service mailbox's automatic reply as the log says it is (projected from
-- notice.switched with channel email, notice.switch_failed and notice.reply_kept).
CREATE TABLE IF NOT EXISTS mailbox_states (
    site TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    provider TEXT NOT NULL,
    state TEXT,
    reply TEXT,
    since INTEGER,
    version INTEGER,
    failing_since INTEGER,
    failing_status INTEGER,
    failing_error TEXT,
    retry_at INTEGER,
    PRIMARY KEY (site, mailbox)
);
-- A self-hosted mailbox's own ManageSieve password (mailbox.password_set), sealed as the
-- webhooks' secrets are; the mailbox in lower case.
CREATE TABLE IF NOT EXISTS mailbox_passwords (
    site TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    password_sealed TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (site, mailbox)
);
-- Working memory of the mailbox switcher (server/channels/mailboxes/switcher.py), not state: the
-- notice version each mailbox caught up to, its retries and lease, and the mailbox's own
-- earlier automatic reply, sealed (never in the log: it is the customer's own text).
CREATE TABLE IF NOT EXISTS mailbox_replies (
    site TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    provider TEXT NOT NULL,
    done_version INTEGER NOT NULL DEFAULT 0,
    earlier_sealed TEXT,
    ours_digest TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    leased_by TEXT,
    lease_until INTEGER,
    PRIMARY KEY (site, mailbox)
);
-- Working memory of the mailbox checks (server/channels/mailboxes/checks.py), not state: whether each
-- listed mailbox's credentials worked at the last try, for readiness, and the next try.
CREATE TABLE IF NOT EXISTS mailbox_checks (
    site TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    provider TEXT NOT NULL,
    next_at INTEGER NOT NULL DEFAULT 0,
    checked_at INTEGER,
    reason TEXT,
    status INTEGER,
    warning TEXT,
    PRIMARY KEY (site, mailbox)
);
-- The keys personal fields are sealed under in the log (server/store/personal.py): not state but
-- beside the log, never rebuilt from it, copied by every backup. Deleting a row erases what
-- was sealed under it; the log and its hashes stay as they were.
CREATE TABLE IF NOT EXISTS person_keys (
    subject TEXT PRIMARY KEY,  -- "staff:12", "staff:12/incident:5", "visitor:3"
    site TEXT NOT NULL,
    person TEXT NOT NULL CHECK (person IN ('staff', 'visitor')),
    person_id INTEGER NOT NULL,
    scope TEXT,  -- NULL: the person's own; else "incident:5", "backup:2", "device:7"
    key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS person_keys_of_person ON person_keys(person, person_id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    credential_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (credential_id, key)
);
"""


BUSY_TIMEOUT_MS = 5000  # how long a write waits for another process's before it fails


def connect(path: str) -> sqlite3.Connection:
    """A connection with the pragmas every one of ours has; the schema is created if missing."""
    _owner_only(path)
    # isolation_level=None: no implicit transactions; we say BEGIN and COMMIT ourselves.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.executescript(SCHEMA)
    _add_columns(connection)
    _seal_personal_fields(connection)
    # Answers kept before they were sealed (server/basics/sealed.py) are plain JSON and may hold an
    # enrollment code: they go (their only use, a retry with the same key, is long past).
    connection.execute(
        "DELETE FROM idempotency_keys WHERE substr(result, 1, 1) IN ('{', '[', '\"')"
    )
    return connection


# Columns added to a table after databases with it were in use: (table, column, declaration).
ADDED_COLUMNS = (
    ("staff", "phone", "TEXT"),  # for an SMS when the phone stays silent
    # A sweep asked of someone who has not answered yet, and the last one who declined it.
    ("sweeps", "asked", "INTEGER REFERENCES staff(id)"),
    ("sweeps", "declined", "INTEGER REFERENCES staff(id)"),
    ("staff", "marshal", "INTEGER NOT NULL DEFAULT 0"),  # may account for others
    # 0: an account, not a person on the floor (an integration's token, the chain's admin)
    ("staff", "on_roll", "INTEGER NOT NULL DEFAULT 1"),
    # 1: the subscription's events name people (server/store/personal.py); 0: roles and counts only
    ("webhooks", "include_names", "INTEGER NOT NULL DEFAULT 0"),
)


def _add_columns(connection: sqlite3.Connection) -> None:
    for table, column, declaration in ADDED_COLUMNS:
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            try:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            except sqlite3.OperationalError as error:  # another process added it just now
                if "duplicate column" not in str(error):
                    raise


# PRAGMA user_version: 1 once the log's personal fields are sealed (server/store/personal.py).
SEALED_LOG_VERSION = 1


def _seal_personal_fields(connection: sqlite3.Connection) -> None:
    """A log written before personal fields were sealed is sealed once, in one transaction
    (server/store/migration.py); a new or already sealed database costs one pragma."""
    if connection.execute("PRAGMA user_version").fetchone()[0] >= SEALED_LOG_VERSION:
        return
    from .migration import (  # only ever needed once per database
        seal_log,
    )

    seal_log(connection, SEALED_LOG_VERSION)


def _owner_only(path: str) -> None:
    """The database holds every digest, push key and name: readable by its owner only (mode
    0600, which SQLite gives its -wal and -shm files too). An older file is tightened."""
    if path == ":memory:" or path.startswith("file:"):
        return
    if not os.path.exists(path):
        # Created here, before this process has a connection to it. Never open and close an
        # existing database file beside SQLite: closing any descriptor of a file drops every
        # POSIX lock this process holds on it, and another process closing its connection
        # then takes this one's WAL for its own and deletes it while it is still in use.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError):
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)


def overwrite_deleted(db) -> None:
    """What this transaction deletes is overwritten on disk, not only unlinked (an erasure).
    SQLite: PRAGMA secure_delete (and `Store.after_erasure` empties the WAL). PostgreSQL has no
    such switch: `after_erasure` runs VACUUM, which frees the row's space for reuse; until it
    is reused, and in the WAL archive for its retention, the deleted bytes may remain."""
    if isinstance(db, sqlite_utils.Database):
        db.execute("PRAGMA secure_delete = ON")


@contextmanager
def immediate(db) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class TwoConnections:
    """What both stores are (this file's and server/store/postgresql.py's): a connection the
    writer uses and one for every read, each behind its lock. `BEGIN_READ` starts the reads'
    snapshot; `_fresh` gives a connection back, or a new one where the old can be lost."""

    BEGIN_READ = "BEGIN"

    def __init__(self, write_db, read_db):
        self._write_db, self._read_db = write_db, read_db
        self._write_lock = threading.RLock()
        self._read_lock = threading.RLock()

    def _fresh(self, db):
        return db

    @contextmanager
    def writing(self) -> Iterator:
        """The write connection, for the writer alone (it says BEGIN and COMMIT itself)."""
        with self._write_lock:
            self._write_db = self._fresh(self._write_db)
            yield self._write_db

    def end_command(self, db, another: bool) -> None:
        """After a command of the writer's batch: its savepoint released, and the next
        command's made when `another` follows."""
        db.execute("RELEASE command")
        if another:
            db.execute("SAVEPOINT command")

    @contextmanager
    def reading(self) -> Iterator:
        """A consistent read (one snapshot) for views that query several tables."""
        with self._read_lock:
            self._read_db = self._fresh(self._read_db)
            self._read_db.execute(self.BEGIN_READ)
            try:
                yield self._read_db
            finally:
                self._read_db.execute("COMMIT")

    def commit(self, db, run_native) -> None:
        """COMMIT in a native thread: it waits for the fsync (SQLite) or for the synchronous
        standby (PostgreSQL), and the event loop goes on."""
        run_native(db.execute, "COMMIT")

    def forget_if_lost(self, error: BaseException) -> bool:
        """Whether `error` is a lost connection to the store's server (`lost`); then both
        connections are made anew at their next use."""
        if not self.lost(error):
            return False
        self.forget_connections()
        return True

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._write_db.close()
            self._read_db.close()


class Store(TwoConnections):
    """Two SQLite connections per process: one the writer uses, one for every read.

    Writes go through the process's one writer (server/store/writer.py), which takes the write
    connection (`writing`) and says BEGIN IMMEDIATE itself, so two writers never interleave, in
    this process or another; `transaction()` is for setting up and for tests. Reads
    use their own connection, so a read never waits for the writer's fsync (WAL lets a reader
    see the last commit while a write is under way). Calls block the event loop while they
    run: keep them short.
    """

    engine = "sqlite"

    def __init__(self, path: str):
        self.path = path
        Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
        super().__init__(sqlite_utils.Database(connect(path)), sqlite_utils.Database(connect(path)))

    def begin_write(self, db, run_native) -> None:
        """BEGIN IMMEDIATE at once when no other process is writing, the usual case; else wait
        for it in a native thread. (A native round trip costs a turn of the event loop, which
        under a crowd's requests is hundreds of ms, so it is paid only when there is a wait.)"""
        db.execute("PRAGMA busy_timeout=0")
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        run_native(db.execute, "BEGIN IMMEDIATE")

    def lost(self, error: BaseException) -> bool:
        """Whether `error` is a lost connection to the store's server: a file has none."""
        return False

    def busy(self, error: BaseException) -> bool:
        """Whether `error` is the busy timeout: another process held the write lock."""
        return (
            isinstance(error, sqlite3.OperationalError)
            and error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
        )

    def forget_connections(self) -> None:
        """Nothing to make anew: the file's connections do not get lost."""

    def describe(self) -> dict:
        """For /readyz: the engine and this node's part in it (one file: no replicas)."""
        return {"engine": self.engine, "role": "single", "replication_lag_ms": None}

    def after_erasure(self) -> None:
        """The erased keys' old pages overwritten in the WAL too."""
        with self.writing() as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def writable(self) -> bool:
        """Whether this process may write the file (a read-only file fails every write)."""
        return os.access(self.path, os.W_OK)

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Run the block in one BEGIN IMMEDIATE transaction; commit, or roll back on error."""
        with self.writing() as db, immediate(db):
            yield db
