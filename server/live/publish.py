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
from ..store.state import batch_for, event_message_for, may_read

if TYPE_CHECKING:
    from ..operations.metrics import Metrics
    from .push import PushSender

logger = logging.getLogger(__name__)
BATCH_SECONDS = 0.05
NUMBERS_ONLY_SECONDS = 1.0

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
        self._lock = threading.Lock()  # guards the three above
        self._sending = threading.Lock()  # one batch leaves at a time, so seqs stay in order

    def after_commit(self, events: list[dict]) -> None:
        """Called by the writer after each commit, with the batch's events in log order."""
        for site, of_site in groupby(events, key=lambda event: event["site"]):
            of_site = list(of_site)
            for audience in AUDIENCES:
                self._queue((site, audience), of_site)
            for event in of_site:  # then locked phones, in the background
                if event["type"] == "incident.started":
                    self._alarm_committed[site] = time.monotonic()
                    # Out of the garbage collector's walks for the alarm's time: every object
                    # there is now, the phones' connections included (see timers.py).
                    gc.freeze()
            self.push.follow(site, of_site)  # the alarm, all-clear, backup, test, escalation

    def _queue(self, to: tuple[str, str], events: list[dict]) -> None:
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
