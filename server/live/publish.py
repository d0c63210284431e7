"""After commit: fan the same events out to everyone who must hear of them.

Staff and managers first (their Socket.IO rooms, then Web Push for locked phones, sent in the
background), then the public channels: the snapshot files and the live screens.
A failure here never undoes a command: the event is already in the log, a client that
missed it sees the gap in `seq` and replays it, and snapshots are rewritten on the next
change and at every start.

Each audience gets one message per batch: while a site is busy, its events wait and leave
together at most once every BATCH_SECONDS (an `events` message), and at once when it is
idle (one event alone is today's `event` message), so the first alarm frame never waits.
A batch a staff phone could read nothing of (colleagues' receipts, as numbers) waits up to
NUMBERS_ONLY_SECONDS, and leaves sooner with the next event it may read. A thousand
receipts are then a handful of frames per phone, not a thousand.

On PostgreSQL without a message queue, what other processes commit comes from the log
(`from_log`, told by server/live/follow.py) and leaves the same way; each event leaves a
process once, whichever way it heard of it first (`_not_yet_sent`).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from itertools import groupby
from typing import TYPE_CHECKING

from ..channels.snapshots import Snapshots
from ..channels.status import status_document
from ..rules.auth import Identity
from ..store import log, personal
from ..store.events import SNAPSHOT_EVENTS
from ..store.state import batch_for, event_message_for, may_read, site_ids

if TYPE_CHECKING:
    from ..operations.metrics import Metrics
    from .push import PushSender

logger = logging.getLogger(__name__)
BATCH_SECONDS = 0.05
NUMBERS_ONLY_SECONDS = 1.0
FROM_LOG_BATCH = 1000  # events read at a time from the log (`Publisher.from_log`)

# Each connection joins exactly one room of its site: the one of its audience.
AUDIENCES = {"responders": True, "staff": False}  # audience -> may read backup requests
PUBLIC_NAMESPACE = "/public"


def room_of(identity: Identity) -> str:
    return room(identity.site, "responders" if identity.is_responder else "staff")


def room(site: str, audience: str) -> str:
    return f"site:{site}:{audience}"


def public_room(site: str) -> str:
    return f"public:{site}"


class Publisher:
    def __init__(self, socketio, snapshots: Snapshots, push: PushSender, metrics: Metrics):
        self.socketio = socketio
        self.snapshots = snapshots
        self.push = push
        self.metrics = metrics
        self._alarm_committed: dict[str, float] = {}  # site -> when its alarm was committed
        # Per (site, audience): the events not sent to it yet, when its last batch left, and
        # when its next one is planned.
        self._waiting: dict[tuple[str, str], list[dict]] = {}
        self._last_sent: dict[tuple[str, str], float] = {}
        self._planned: dict[tuple[str, str], float] = {}
        self._sent_up_to: dict[str, int] = {}  # site -> the highest seq queued to its rooms
        self._lock = threading.Lock()  # guards the four above
        self._sending = threading.Lock()  # one batch leaves at a time, so seqs stay in order
        # Set by server/live/follow.py when the other processes' commits come from the log:
        # the store, and whether its listener hears them now (for /readyz).
        self.log_store = None
        self.hears_log: bool | None = None

    def after_commit(self, events: list[dict]) -> None:
        """Called by the writer after each commit, with the batch's events in log order."""
        for site, of_site in groupby(events, key=lambda event: event["site"]):
            of_site = list(of_site)
            sent = self._sent_up_to.get(site)
            if self.log_store is not None and sent is not None and of_site[0]["seq"] > sent + 1:
                self.from_log(self.log_store, [site])  # another process's commit came first
            fresh = self._not_yet_sent(site, of_site)
            for audience in AUDIENCES:
                self._queue((site, audience), fresh)
            for event in of_site:  # then locked phones, in the background
                if event["type"] == "incident.started":
                    self._alarm_committed[site] = time.monotonic()
                    # Out of the garbage collector's walks for the alarm's time: every object
                    # there is now, the phones' connections included (see timers.py).
                    gc.freeze()
            self.push.follow(site, of_site)  # the alarm, all-clear, backup, test, escalation

    def start_at_head(self, store) -> None:
        """What this process sends from the log starts after what every site's log holds
        now (`from_log`), when it starts listening to the log."""
        with store.reading() as db:
            heads = {site: log.latest_seq(db, site) for site in site_ids(db)}
        with self._lock:
            for site, seq in heads.items():
                self._sent_up_to.setdefault(site, seq)

    def from_log(self, store, sites: list[str] | None) -> None:
        """Send what other processes committed to `sites`' logs (None: every site's) that this
        process has not sent yet, then rewrite their public snapshots when a notice changed.
        A site made after `start_at_head` is new to everyone: its whole log is sent."""
        with store.reading() as db:
            for site in site_ids(db) if sites is None else sites:
                events = self._read_after(db, site, self._sent_up_to.get(site, 0))
                fresh = self._not_yet_sent(site, events)
                if not fresh:
                    continue
                if any(event["type"] == "incident.started" for event in fresh):
                    self._alarm_committed[site] = time.monotonic()  # when this process heard
                for audience in AUDIENCES:
                    self._queue((site, audience), fresh)
                if any(event["type"] in SNAPSHOT_EVENTS for event in fresh):
                    self.socketio.start_background_task(self.refresh_public, site)

    @staticmethod
    def _read_after(db, site: str, seq: int) -> list[dict]:
        """The site's events after `seq` as they are read (sealed fields opened), all of them:
        a process hears of every commit, so this is one batch's worth, or a failover's."""
        events, batch = [], FROM_LOG_BATCH
        while batch == FROM_LOG_BATCH:
            read = log.events_after(db, site, seq, FROM_LOG_BATCH)
            batch = len(read)
            if read:
                events += personal.Reader(db).entries(read)
                seq = read[-1]["seq"]
        return events

    def _not_yet_sent(self, site: str, events: list[dict]) -> list[dict]:
        """Those of the site's `events` (in log order) not queued to its rooms yet."""
        with self._lock:
            sent = self._sent_up_to.get(site, 0)
            fresh = [event for event in events if event["seq"] > sent]
            if fresh:
                self._sent_up_to[site] = fresh[-1]["seq"]
            return fresh

    def _queue(self, to: tuple[str, str], events: list[dict]) -> None:
        if not events:
            return
        with self._lock:
            waiting = self._waiting.setdefault(to, [])
            waiting.extend(events)
            due = self._due(to, waiting)
            planned = self._planned.get(to)
            if planned is not None and planned <= due:  # they leave with the planned batch
                return
            wait = due - time.monotonic()
            if wait > 0:
                self._planned[to] = due
                self.socketio.start_background_task(self._send_later, to, wait)
                return
        self._send(to)

    def _due(self, to: tuple[str, str], waiting: list[dict]) -> float:
        """When the next batch to this audience may leave: BATCH_SECONDS after the last one,
        or NUMBERS_ONLY_SECONDS when it would carry nothing the audience may read (a staff
        phone needs the numbers of colleagues' receipts only to see that it missed none)."""
        is_responder = AUDIENCES[to[1]]
        readable = any(may_read(is_responder, event) for event in waiting)
        spacing = BATCH_SECONDS if readable else NUMBERS_ONLY_SECONDS
        return self._last_sent.get(to, float("-inf")) + spacing

    def _send_later(self, to: tuple[str, str], wait: float) -> None:
        self.socketio.sleep(wait)
        with self._lock:
            if self._planned.get(to, 0.0) > time.monotonic():  # planned again, later
                return
            self._planned.pop(to, None)
        self._send(to)

    def _send(self, to: tuple[str, str]) -> None:
        site, audience = to
        with self._sending:
            with self._lock:
                events = self._waiting.pop(to, [])
                if not events:
                    return
                self._last_sent[to] = time.monotonic()
            is_responder = AUDIENCES[audience]
            if len(events) == 1:
                self._emit("event", event_message_for(is_responder, events[0]), room(*to))
            else:
                self._emit("events", batch_for(is_responder, events), room(*to))
            if any(event["type"] == "incident.started" for event in events):
                committed = self._alarm_committed.get(site, time.monotonic())
                self.metrics.alarm_fanout.labels(audience).observe(time.monotonic() - committed)

    def refresh_public(self, site: str) -> None:
        """Rewrite the site's snapshot files, then tell the live public screens."""
        try:
            notice = self.snapshots.refresh(site)
        except Exception:  # the files stay as they were; the next change or start retries
            logger.exception("could not write the public snapshots of site %s", site)
            return
        self._emit("notice", status_document(notice), public_room(site), PUBLIC_NAMESPACE)

    def _emit(self, name: str, message, to: str, namespace: str = "/") -> None:
        try:
            self.socketio.emit(name, message, to=to, namespace=namespace)
        except Exception:  # a broken message queue must not turn a commit into a 500
            logger.exception("could not publish %s to %s", name, to)
