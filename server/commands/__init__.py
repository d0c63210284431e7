"""Every state change goes through `execute`: authorise and validate, decide, and record
events; recording an event applies its projector (server/store/projectors/) in the same
transaction, so commands never write the state tables themselves. The process's writer
commits commands that arrive together in one transaction (server/store/writer.py), and the events
are published after the commit.

HTTP, Socket.IO, enrollment, the CLI and the policies (server/policies.py) all call `execute`;
nothing else records an event. (Working rows that are not the log: a phone's presence, a
webhook's delivery, a checkpoint, go to the same writer as work of their own.)

May import: server.basics, server.rules, server.store, server.evidence, server.operations,
server.channels. `services` is the app's parts (server/services.py), passed in and named
without an import, which would run up to the top floor."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from ..basics import sealed
from ..basics.clock import STEP_MS, follow_system_clock, now_ms, system_ms
from ..basics.errors import Conflict, Forbidden, IdempotencyMismatch, Invalid, NotFound, Rejected
from ..basics.settings import secret_key_for
from ..rules.auth import Identity
from ..store import log, personal, projectors
from ..store.events import EVENT_TYPES, SNAPSHOT_EVENTS
from ..store.sql import write_later
from .fields import Field, check


@dataclass(frozen=True)
class Route:
    """How the HTTP API reaches a command: `POST /api<rule>`. The URL's fields (`<zone>`) are
    command fields; a rule without `<site>` acts on the caller's own site (`/me/language`)."""

    rule: str
    summary: str
    status: int = 200


@dataclass(frozen=True)
class Command:
    name: str
    roles: frozenset
    schema: dict[str, Field]
    apply: Callable
    site_must_be: str = "existing"  # or "new" (create_site), or "either" (import_site)
    route: Route | None = None  # None: the command line, the server itself or a page runs it
    socket: bool = False  # a connected client may send it as an `action` message
    reserve: bool = False  # written with the disk reserve when the disk is full (disk.py)
    one_of: tuple[str, ...] = ()  # exactly one of these fields (a staff_id or a visitor_id)


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    roles: frozenset,
    /,
    *,
    route: Route | None = None,
    socket: bool = False,
    site_must_be: str = "existing",
    reserve: bool = False,
    one_of: tuple[str, ...] = (),
    **schema: Field,
):
    """Register a function `apply(tx, params) -> result` as the command `name`, once for every
    way in: who may run it (`roles`), its HTTP `route`, whether the socket may send it,
    whether it may use the disk reserve (only what an alarm cannot do without), and its
    input fields (the keyword arguments), of which `one_of` names a set to give exactly one. The API's routes, the socket's actions and the
    OpenAPI document are made from this declaration."""

    def register(apply: Callable) -> Callable:
        COMMANDS[name] = Command(
            name, roles, schema, apply, site_must_be, route, socket, reserve, one_of
        )
        return apply

    return register


def routed() -> list[Command]:
    """The commands the HTTP API runs, in the order they were declared."""
    return [command_ for command_ in COMMANDS.values() if command_.route]


def using_reserve() -> list[str]:
    """The commands still written when the disk is full (docs/operations.md's fault table lists them)."""
    return [name for name, command_ in COMMANDS.items() if command_.reserve]


def socket_actions() -> frozenset[str]:
    """The commands a connected client may send as an `action` message."""
    return frozenset(name for name, command_ in COMMANDS.items() if command_.socket)


def socket_routes() -> dict[str, str]:
    """Each socket action's HTTP route (`/api/sites/<site>/...`): a phone sends an action
    queued for that route over its socket instead while it has one (pwa/js/server.js)."""
    return {name: f"/api{COMMANDS[name].route.rule}" for name in sorted(socket_actions())}


@dataclass
class Tx:
    """One command's open transaction: the database, who acts, and the events it appended."""

    db: object
    site: str
    identity: Identity
    ts: int
    settings: object = None
    events: list = field(default_factory=list)
    keys: personal.Keys | None = None
    head: log.Head | None = None  # the site's last entry: read once, moved on by `record`

    def record(self, type_: str, payload: dict) -> dict:
        """Append an event to the site's log, its personal fields sealed (server/store/personal.py),
        and apply it to the state tables; it is published, as read, once the transaction
        commits."""
        assert type_ in EVENT_TYPES, f"undocumented event type {type_}"
        actor = self.identity.actor()
        if self.keys is None:
            self.keys = personal.Keys(self.db)
        if self.head is None:
            self.head = log.head(self.db, self.site)
        stored = personal.seal(self.keys, self.site, self.ts, type_, payload, actor)
        entry = log.append(
            self.db, self.site, self.ts, personal.stored_actor(actor), type_, stored, self.head
        )
        event = {**entry, "actor": actor, "payload": payload}
        projectors.apply(self.db, event)
        self.events.append(event)
        return event

    def not_before_the_log(self) -> None:
        """Stamp nothing before the site's last entry. Another process's clock may be a
        moment ahead (stamped with the last entry's time); a clock STEP_MS or more behind
        it (the system clock stepped back before this process started: a CLI run) is
        logged first, as a `clock.stepped` the log saw."""
        self.head = log.head(self.db, self.site)
        behind = self.head.ts - self.ts
        if behind > 0:
            self.ts += behind
        if behind >= STEP_MS:
            self.record(
                "clock.stepped", {"by_ms": -behind, "system_ms": system_ms(), "seen_by": "log"}
            )

    def new_id(self, table: str) -> int:
        """The id the next row of `table` gets: chosen here so that the event carries it and
        a rebuild from the log gives every row the same id. Safe: one writer at a time."""
        return self.db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]

    def current_seq(self) -> int:
        return self.head.seq if self.head else log.latest_seq(self.db, self.site)

    def unchanged(self, **more) -> dict:
        """The answer to a repeat that changes nothing (and is not logged again)."""
        return {"changed": False, "seq": self.current_seq(), **more}

    def changed(self, event: dict, **more) -> dict:
        """The answer to a command that recorded `event` (its last)."""
        return {"changed": True, "seq": event["seq"], **more}

    def person(self, doing: str) -> int:
        """The acting staff member's id: only a staff member of this site can be `doing` it.
        A token or a chain admin from another site may run an incident here, but is not in
        this site's roll call."""
        if self.identity.staff_id is None or self.identity.site != self.site:
            raise Forbidden(f"Only a staff member of this site can {doing}.")
        return self.identity.staff_id


def execute(services, identity: Identity, site: str, name: str, body=None, idempotency_key=None):
    """Run command `name` for `identity` on `site`; return its result (a JSON-able dict)."""
    run = CommandRun(services, identity, site, name, body, idempotency_key)
    try:
        result = services.writer.submit(run.work, vital=run.command.reserve)
    except Exception as error:
        run.finish(error)
        raise
    run.finish()
    return result


def execute_then(services, identity: Identity, site: str, name: str, body, idempotency_key, answer):
    """As `execute`, but the caller does not wait: `answer(result, error)` is called once the
    command is committed (error None) or refused (result None). Called by the writer itself,
    or in a background task when the public notices must be written first (disk work)."""
    run = CommandRun(services, identity, site, name, body, idempotency_key)

    def finish_and_answer(job) -> None:
        try:
            run.finish(job.error)
        except Exception as error:  # committed, but the sender hears of the failure
            answer(None, error)
            return
        answer(job.result, job.error)

    def committed(job) -> None:
        if job.error is None and run.changes_notices():
            services.writer.start_task(finish_and_answer, job)
        else:
            finish_and_answer(job)

    services.writer.submit_then(run.work, committed, vital=run.command.reserve)


class CommandRun:
    """One command as the writer runs it (`work`), and what follows its commit (`finish`)."""

    def __init__(self, services, identity: Identity, site: str, name: str, body, idempotency_key):
        self.services, self.identity, self.site, self.name = services, identity, site, name
        self.body, self.idempotency_key = body, idempotency_key
        self.command = COMMANDS[name]
        self.secret = secret_key_for(services.settings)
        self.recorded: list[dict] = []
        self.repeated = False

    def work(self, db):
        authorise(db, self.identity, self.site, self.command)
        params = check(self.command.schema, self.body, self.command.one_of)
        fingerprint = _fingerprint(self.site, self.name, params)
        earlier = _remembered(db, self.secret, self.identity, self.idempotency_key, fingerprint)
        if earlier is not None:
            self.repeated = True
            return earlier, []
        tx = Tx(db, self.site, self.identity, now_ms(), self.services.settings)
        tx.not_before_the_log()
        result = self.command.apply(tx, params)
        _remember(db, self.secret, self.identity, self.idempotency_key, fingerprint, result, tx.ts)
        self.recorded[:] = tx.events
        return result, tx.events

    def changes_notices(self) -> bool:
        return any(event["type"] in SNAPSHOT_EVENTS for event in self.recorded)

    def finish(self, error: BaseException | None = None) -> None:
        """Count it; once committed, follow a clock step the log saw and write the public
        notices it changed (after the frames left, before it answers)."""
        self.services.metrics.commands.labels(self.name, self._outcome(error)).inc()
        if error is not None:
            return
        # A step the log saw: from now on this process's clock is past it.
        for event in self.recorded:
            if event["type"] == "clock.stepped" and event["payload"]["seen_by"] == "log":
                follow_system_clock(at_least_ms=event["ts"])
        if self.changes_notices():
            self.services.publisher.refresh_public(self.site)

    def _outcome(self, error: BaseException | None) -> str:
        if error is None:
            return "repeated" if self.repeated else "accepted"
        return "rejected" if isinstance(error, Rejected) else "failed"


def authorise(db, identity: Identity, site: str, command_: Command) -> None:
    exists = site_exists(db, site)
    if command_.site_must_be == "new" and exists:
        raise Conflict(f"The site '{site}' already exists.")
    if command_.site_must_be == "existing" and not exists:
        raise NotFound(f"There is no site '{site}'.")
    identity.check_rights(site, command_.roles, "do this")


def site_exists(db, site: str) -> bool:
    """Asked once per batch of the writer (its `memo`): a site, once made, stays."""
    memo = getattr(db, "memo", None)
    if memo is not None and site in memo.sites:
        return True
    exists = db.execute("SELECT 1 FROM sites WHERE id = ?", [site]).fetchone() is not None
    if exists and memo is not None:
        memo.sites.add(site)
    return exists


def checked_idempotency_key(key, named: str) -> str | None:
    """The client's key for a retry (the header or the socket's field `named`), or a 400."""
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 200):
        raise Invalid(f"{named} must be a string of 1 to 200 characters.")
    return key


def _fingerprint(site: str, name: str, params: dict) -> str:
    text = log.canonical_json({"site": site, "command": name, "params": params})
    return hashlib.sha256(text.encode()).hexdigest()


def _remembered(db, secret: str, identity: Identity, key: str | None, fingerprint: str):
    """The stored answer to an earlier request with this Idempotency-Key, if any."""
    if not key or identity.credential_id is None:
        return None
    row = db.execute(
        "SELECT fingerprint, result FROM idempotency_keys WHERE credential_id = ? AND key = ?",
        [identity.credential_id, sealed.key_digest(key)],
    ).fetchone()
    if row is None:
        return None
    if row[0] != fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was already used for a different request.")
    return sealed.unseal(secret, key, row[1])


def _remember(db, secret: str, identity: Identity, key: str | None, fingerprint: str, result, ts):
    if key and identity.credential_id is not None:
        write_later(
            db,
            "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
            [
                identity.credential_id,
                sealed.key_digest(key),
                fingerprint,
                sealed.seal(secret, key, result),
                ts,
            ],
        )


# Importing the command modules registers their commands.
from . import (  # noqa: E402,F401
    alarm_panel,
    backup_requests,
    clock,
    devices,
    escalation,
    help_requests,
    incidents,
    mustering,
    notices,
    privacy,
    readiness,
    roll_call,
    sites,
    staff,
    visitors,
    webhooks,
    zones,
)
