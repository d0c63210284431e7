"""Signed checkpoints of each site's log, so that a rewrite of history contradicts something
the operator no longer holds. The format is the transparency logs' (C2SP tlog-checkpoint, a
C2SP signed note), which their tools and readers know:

    shop.example.com/demo                          origin: the deployment's host, the site
    42                                             size: the seq of the site's last entry
    lIHlQ3bo1/RC7FtQ3bRTIVyE4UjnaZq4c1nyp0rNUiA=   "root hash": that entry's hash, base64
    time 2025-06-01T10:00:00.000Z                  an extension line: when it was signed

    — shop.example.com/demo <base64(key ID || Ed25519 signature of the four lines)>

Our log is a hash chain, not an RFC 6962 Merkle tree: the root hash of a checkpoint is the
hash of entry number `size`, which commits to that entry and, through each entry's previous
hash, to every entry before it (size 0 would be the genesis, 32 zero bytes).

A checkpoint is made after each commit that starts or ends an incident (of the site's last
entry in that commit), at least hourly while a site's log grows (server/timers.py), and when
an evidence bundle needs one after its last entry. Each leaves the building: into the public
status document within a minute, and to a time-stamping authority when EXITNOW_TSA_URL is
set (server/evidence/timestamps.py). Outbound webhooks (issue 15) should carry them too, once they exist.

The `checkpoints` table is not state derived from the log but statements about it:
`rebuild-state` neither makes nor compares it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..basics.clock import iso, now_ms
from . import timestamps
from .log_key import LogKey

if TYPE_CHECKING:
    from ..basics.settings import Settings
    from ..store.db import Store

logger = logging.getLogger(__name__)

EVERY_MS = 59 * 60 * 1000  # checked each minute (timers.py): at least one an hour
TIMESTAMP_RETRY_MS = 24 * 3600 * 1000  # a TSA that failed is asked again for a day
MARKS = {"incident.started", "incident.ended"}  # events whose commit is signed at once


@dataclass(frozen=True)
class Checkpoint:
    site: str
    size: int
    head_hash: str
    made_at: int
    reason: str  # incident.started, incident.ended, hourly or bundle
    note: str  # the signed note, as published


def origin(settings: Settings, site: str) -> str:
    """The deployment's host and path, then the site: "shop.example.com/demo"."""
    parts = urlsplit(settings.base_url)
    return f"{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}/{site}"


def checkpoint_text(origin_: str, size: int, head_hash: str, made_at: int) -> str:
    root = base64.b64encode(bytes.fromhex(head_hash)).decode()
    return f"{origin_}\n{size}\n{root}\ntime {iso(made_at)}\n"


def latest_note(db, site: str) -> str | None:
    """The site's newest signed checkpoint, for the public status document."""
    row = db.execute(
        "SELECT note FROM checkpoints WHERE site = ? ORDER BY size DESC LIMIT 1", [site]
    ).fetchone()
    return row[0] if row else None


class Checkpoints:
    """Makes, keeps and witnesses the checkpoints of this deployment's logs."""

    def __init__(
        self,
        settings: Settings,
        key: LogKey,
        store: Store,
        submit: Callable,
        start_task: Callable,
        refresh_public: Callable[[str], None],
    ):
        self.settings = settings
        self.key = key
        self.store = store
        self.submit = submit  # the writer's: the row joins the next group commit
        self.start_task = start_task
        # Rewrites a site's public snapshots: their status document shows the newest checkpoint.
        self.refresh_public = refresh_public
        # The id of the newest checkpoint in the snapshots (a server's start writes them all).
        self._shown_up_to = self._newest_id()

    def sign(self, site: str, size: int, head_hash: str, reason: str) -> Checkpoint:
        made_at = now_ms()
        name = origin(self.settings, site)
        note = self.key.sign_note(checkpoint_text(name, size, head_hash, made_at), name)
        return Checkpoint(site, size, head_hash, made_at, reason, note)

    def after_commit(self, events: list[dict]) -> None:
        """The writer calls this after each commit: a start or an end of an incident has the
        site's last entry in that commit signed, kept and witnessed in the background."""
        heads = {event["site"]: event for event in events}  # in log order: the last wins
        marked = {event["site"]: event["type"] for event in events if event["type"] in MARKS}
        for site, reason in marked.items():
            head = heads[site]
            checkpoint = self.sign(site, head["seq"], head["hash"], reason)
            self.start_task(self._keep_and_witness, checkpoint)

    def keep(self, checkpoint: Checkpoint) -> int | None:
        """Store it (one per site and size: a second one of the same size is dropped);
        its row id, or None when one was there already."""

        c = checkpoint

        def insert(db):
            cursor = db.execute(
                """INSERT INTO checkpoints (site, size, head_hash, made_at, reason, note)
                   VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id""",
                [c.site, c.size, c.head_hash, c.made_at, c.reason, c.note],
            )
            made = cursor.fetchall()  # none when this size of the site's log was signed already
            return (made[0][0] if made else None), []

        # A start's and an end's checkpoints are the alarm's evidence: written with the disk
        # reserve too when the disk is full (server/store/disk.py); a few hundred bytes each.
        return self.submit(insert, vital=True)

    def _keep_and_witness(self, checkpoint: Checkpoint) -> None:
        try:
            kept = self.keep(checkpoint)
            if kept is not None:
                self.timestamp(kept, checkpoint.note)
        except Exception:  # the next hourly checkpoint covers these entries too
            logger.exception("could not keep the checkpoint of site %s", checkpoint.site)

    def timestamp(self, checkpoint_id: int, note: str) -> bool:
        """Ask the time-stamping authority (when there is one) for a token over the note."""
        if not self.settings.tsa_url:
            return False
        try:
            token = timestamps.request_token(self.settings.tsa_url, note.encode())
        except timestamps.TimestampFailed as failure:
            logger.warning("no timestamp for checkpoint %s: %s", checkpoint_id, failure)
            return False
        self.submit(
            lambda db: (
                db.execute(
                    "UPDATE checkpoints SET timestamp_token = ? "
                    "WHERE id = ? AND timestamp_token IS NULL",
                    [token, checkpoint_id],
                ),
                [],
            )
        )
        return True

    def sign_head(self, site: str, reason: str) -> Checkpoint | None:
        """A checkpoint of the site's log as it is now (None for a site with no log)."""
        with self.store.reading() as db:
            head = db.execute(
                "SELECT seq, hash FROM events WHERE site = ? ORDER BY seq DESC LIMIT 1", [site]
            ).fetchone()
        return self.sign(site, head[0], head[1], reason) if head else None

    def covering(self, site: str, seq: int) -> None:
        """Make sure a checkpoint at or after entry `seq` exists (an evidence bundle ends at
        one); its timestamp is asked for in the background."""
        with self.store.reading() as db:
            found = db.execute(
                "SELECT 1 FROM checkpoints WHERE site = ? AND size >= ?", [site, seq]
            ).fetchone()
        checkpoint = None if found else self.sign_head(site, "bundle")
        if checkpoint is not None:
            kept = self.keep(checkpoint)
            if kept is not None and self.settings.tsa_url:
                self.start_task(self.timestamp, kept, checkpoint.note)

    def due(self, now: int) -> list[str]:
        """Sites whose log grew since their last checkpoint, made EVERY_MS or more ago."""
        with self.store.reading() as db:
            # Each site's head by its own index lookup: a GROUP BY over the log would read
            # every entry of it each minute.
            rows = db.execute(
                """SELECT sites.id FROM sites LEFT JOIN
                     (SELECT site, MAX(size) AS size, MAX(made_at) AS made_at
                      FROM checkpoints GROUP BY site) AS signed ON signed.site = sites.id
                   WHERE (SELECT MAX(seq) FROM events WHERE site = sites.id)
                         > COALESCE(signed.size, 0)
                     AND COALESCE(signed.made_at, 0) <= ?
                   ORDER BY sites.id""",
                [now - EVERY_MS],
            ).fetchall()
        return [row[0] for row in rows]

    def tick(self) -> None:
        """Each minute (server/timers.py): the hourly checkpoints, the timestamps that failed,
        and the new checkpoints into the public status documents."""
        now = now_ms()
        for site in self.due(now):
            checkpoint = self.sign_head(site, "hourly")
            kept = self.keep(checkpoint) if checkpoint else None
            if kept is not None:
                self.timestamp(kept, checkpoint.note)
        self._retry_timestamps(now)
        self._show_new()

    def _retry_timestamps(self, now: int) -> None:
        if not self.settings.tsa_url:
            return
        with self.store.reading() as db:
            waiting = db.execute(
                "SELECT id, note FROM checkpoints WHERE timestamp_token IS NULL AND made_at > ?"
                " ORDER BY id LIMIT 20",
                [now - TIMESTAMP_RETRY_MS],
            ).fetchall()
        for checkpoint_id, note in waiting:
            if not self.timestamp(checkpoint_id, note):
                return  # the authority is down: the next minute tries again

    def _newest_id(self) -> int:
        with self.store.reading() as db:
            return db.execute("SELECT MAX(id) FROM checkpoints").fetchone()[0] or 0

    def _show_new(self) -> None:
        """Rewrite the snapshots of each site with a checkpoint kept since the last time (the
        status document carries the newest, server/channels/status.py)."""
        newest = self._newest_id()
        with self.store.reading() as db:
            sites = db.execute(
                "SELECT DISTINCT site FROM checkpoints WHERE id > ? AND id <= ?",
                [self._shown_up_to, newest],
            ).fetchall()
        for (site,) in sites:
            self.refresh_public(site)
        self._shown_up_to = newest
