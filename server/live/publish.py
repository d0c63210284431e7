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
process once, whichever way it heard of it first (`_queue_fresh`).
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
# The most events of a site `Publisher.from_log` sends at once; further behind, the phones
# are told the head and catch up themselves.
FROM_LOG_LIMIT = 1000

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
    def __init__(
        self, socketio, snapshots: Snapshots, push: PushSender, metrics: Metrics, log_store=None
    ):
        self.socketio = socketio
        self.snapshots = snapshots
        self.push = push
        self.metrics = metrics
        self._alarm_committed: dict[str, float] = {}  # site -> when its alarm was committed
        # Per (site, audience): the events not sent to it yet, whether it may read any of them,
        # when its last batch left, and when its next one is planned.
        self._waiting: dict[tuple[str, str], list[dict]] = {}
        self._readable: dict[tuple[str, str], bool] = {}
        self._last_sent: dict[tuple[str, str], float] = {}
        self._planned: dict[tuple[str, str], float] = {}
        self._sent_up_to: dict[str, int] = {}  # site -> the highest seq queued to its rooms
        self._lock = threading.Lock()  # guards the five above
        self._sending = threading.Lock()  # one batch leaves at a time, so seqs stay in order
        # The store, when the other processes' commits come from its log (server/live/follow.py),
        # and whether its listener hears them now (for /readyz; None: not following).
        self.log_store = log_store
        self.hears_log: bool | None = None if log_store is None else False
        if log_store is not None:
            self._start_at_head()

    def after_commit(self, events: list[dict]) -> None:
        """Called by the writer after each commit, with the batch's events in log order."""
        for site, of_site in groupby(events, key=lambda event: event["site"]):
            of_site = list(of_site)
            if self._behind(site, of_site[0]["seq"]):
                # Another process's commit came first: the log has both, in order. Read off
                # the writer's way (it answers its callers now); the alarm's push goes anyway.
                self.socketio.start_background_task(self.from_log, [site])
            else:
                self._queue_fresh(site, of_site)
            for event in of_site:  # then locked phones, in the background
                if event["type"] == "incident.started":
                    self._alarm_committed[site] = time.monotonic()
                    # Out of the garbage collector's walks for the alarm's time: every object
                    # there is now, the phones' connections included (see timers.py).
                    gc.freeze()
            self.push.follow(site, of_site)  # the alarm, all-clear, backup, test, escalation

    def _behind(self, site: str, seq: int) -> bool:
        """Whether this process has not sent the site's events before `seq` (only when
        following the log: with one process, or Redis between them, it sends only its own)."""
        return self.log_store is not None and seq > self._sent_up_to.get(site, 0) + 1

    def hearing_log(self, hears: bool) -> None:
        self.hears_log = hears

    def _start_at_head(self) -> None:
        """What this process sends from the log starts after what every site's log holds
        when it starts (`from_log`)."""
        with self.log_store.reading() as db:
            heads = {site: log.latest_seq(db, site) for site in site_ids(db)}
        with self._lock:
            for site, seq in heads.items():
                self._sent_up_to.setdefault(site, seq)

    def from_log(self, sites: list[str] | None = None) -> list[str]:
        """Send what other processes committed to `sites`' logs (None: every site's) that this
        process has not sent yet, then rewrite their public snapshots when a notice changed.
        A site made since this process started is new to it: its whole log is sent. Returns
        the sites more than FROM_LOG_LIMIT behind (a long outage): nothing of theirs is sent,
        their phones catch up themselves once told the head (server/timers.py)."""
        if sites is None:
            with self.log_store.reading() as db:
                sites = site_ids(db)
        too_far = []
        for site in sites:  # one at a time: one site's failure leaves the others' events
            try:
                if not self._send_from_log(site):
                    too_far.append(site)
            except Exception as error:
                if not self.log_store.forget_if_lost(error):
                    logger.exception("could not send site %s's events from the log", site)
        return too_far

    def _send_from_log(self, site: str) -> bool:
        with self.log_store.reading() as db:
            read = log.events_after(db, site, self._sent_up_to.get(site, 0), FROM_LOG_LIMIT + 1)
            if len(read) > FROM_LOG_LIMIT:
                latest = log.latest_seq(db, site)
                with self._lock:
                    self._sent_up_to[site] = max(self._sent_up_to.get(site, 0), latest)
                return False
            events = personal.Reader(db).entries(read)
        fresh = self._queue_fresh(site, events)
        if any(event["type"] == "incident.started" for event in fresh):
            self._alarm_committed[site] = time.monotonic()  # when this process heard of it
        if any(event["type"] in SNAPSHOT_EVENTS for event in fresh):
            self.socketio.start_background_task(self.refresh_public, site)
        return True

    def _queue_fresh(self, site: str, events: list[dict]) -> list[dict]:
        """Queue to the site's rooms those of its `events` (in log order) not queued yet, in
        one hold of the lock: each room's waiting list takes the seqs in order, each once,
        whichever way this process heard of them first. Returns those."""
        now = []
        with self._lock:
            fresh = [event for event in events if event["seq"] > self._sent_up_to.get(site, 0)]
            if not fresh:
                return fresh
            self._sent_up_to[site] = fresh[-1]["seq"]
            for audience in AUDIENCES:
                if self._leave_now((site, audience), fresh):
                    now.append((site, audience))
        for to in now:
            self._send(to)
        return fresh

    def _leave_now(self, to: tuple[str, str], events: list[dict]) -> bool:
        """Under the lock: `events` wait for `to`; whether they leave now, else a batch is
        (or already was) planned for them."""
        self._waiting.setdefault(to, []).extend(events)
        # Only the new events are read: a staff phone's batch gathers a thousand receipts it
        # may not read, and reading them all again at each commit grew as their square.
        is_responder = AUDIENCES[to[1]]
        if not self._readable.get(to):
            self._readable[to] = any(may_read(is_responder, event) for event in events)
        due = self._due(to)
        planned = self._planned.get(to)
        if planned is not None and planned <= due:  # they leave with the planned batch
            return False
        wait = due - time.monotonic()
        if wait > 0:
            self._planned[to] = due
            self.socketio.start_background_task(self._send_later, to, wait)
            return False
        return True

    def _due(self, to: tuple[str, str]) -> float:
        """When the next batch to this audience may leave: BATCH_SECONDS after the last one,
        or NUMBERS_ONLY_SECONDS when it would carry nothing the audience may read (a staff
        phone needs the numbers of colleagues' receipts only to see that it missed none)."""
        spacing = BATCH_SECONDS if self._readable.get(to) else NUMBERS_ONLY_SECONDS
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
                self._readable.pop(to, None)
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
