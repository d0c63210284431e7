"""Which phones are connected now, since when, with which app version and whether it may show
notifications: part of phone readiness (server/live/phone_readiness.py).

A connect or a disconnect changes only this worker's memory (a dict entry each: a thousand
phones connecting at once are a thousand dict writes, no write to the database). Every
FLUSH_SECONDS the devices that changed go to `device_presence` in one transaction, with this
worker's heartbeat in `presence_workers`; a worker with no phones writes nothing. With several
workers each writes its own rows (one per device and worker): a device is connected while one
of its rows counts a connection and that worker's heartbeat is fresh, so the phones of a
killed worker turn into "last connected" within STALE_AFTER_MS. The worker that answers a
readiness request adds what it knows and has not written yet.
"""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ..basics.clock import now_ms
from ..basics.tasks import kept_alive
from ..store.sql import replace_into

if TYPE_CHECKING:
    from ..rules.auth import Identity

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 5
STALE_AFTER_MS = 3 * FLUSH_SECONDS * 1000
# Notification.permission, or "home_screen": an iPhone outside the app on its Home Screen.
NOTIFICATION_STATES = ("granted", "denied", "default", "unsupported", "home_screen")
LONGEST_VERSION = 64
WORKER_SEEN = replace_into("presence_workers", ("worker", "seen_at"), key=["worker"])
DEVICE_SEEN = replace_into(
    "device_presence",
    ("credential_id", "site", "staff_id", "worker", "connections", "connected_at")
    + ("last_seen_at", "app_version", "notifications"),
    key=["credential_id", "worker"],
)


@dataclass
class Seen:
    site: str
    staff_id: int
    connections: int
    connected_at: int | None
    last_seen_at: int
    app_version: str | None
    notifications: str | None


class Presence:
    def __init__(self):
        self.worker = uuid.uuid4().hex[:16]
        self._credential_of: dict[str, int] = {}  # Socket.IO sid -> credential id
        self._devices: dict[int, Seen] = {}  # credential id -> what this worker saw
        self._changed: set[int] = set()
        self._lock = threading.Lock()

    def connected(self, sid: str, identity: Identity, report) -> None:
        """A client connected with `report` (its auth data: app_version, notifications)."""
        if identity.credential_id is None or identity.staff_id is None:
            return
        report = report if isinstance(report, dict) else {}
        version = report.get("app_version")
        version = version[:LONGEST_VERSION] if isinstance(version, str) and version else None
        notifications = report.get("notifications")
        notifications = notifications if notifications in NOTIFICATION_STATES else None
        now = now_ms()
        with self._lock:
            self._credential_of[sid] = identity.credential_id
            seen = self._devices.get(identity.credential_id)
            if seen is None or seen.connections <= 0:
                seen = Seen(identity.site, identity.staff_id, 0, now, now, None, None)
                self._devices[identity.credential_id] = seen
            seen.connections += 1
            seen.last_seen_at = now
            seen.app_version = version or seen.app_version
            seen.notifications = notifications or seen.notifications
            self._changed.add(identity.credential_id)

    def disconnected(self, sid: str) -> None:
        with self._lock:
            credential_id = self._credential_of.pop(sid, None)
            seen = self._devices.get(credential_id)
            if seen is None:
                return
            seen.connections -= 1
            seen.last_seen_at = now_ms()
            self._changed.add(credential_id)

    def live(self, site: str) -> dict[int, dict]:
        """This worker's own devices of a site, as rows of `device_presence` (fresher)."""
        with self._lock:
            return {
                credential_id: {**asdict(seen), "credential_id": credential_id}
                for credential_id, seen in self._devices.items()
                if seen.site == site
            }

    def flush(self, services) -> int:
        """Write the devices that changed, and the heartbeat; return how many were written."""
        with self._lock:
            # A copy of each (its fields are plain values); asdict() walked every field
            # recursively, in a crowd's connects as much CPU as their catch-ups' queries.
            changed = [(c, copy.copy(self._devices[c])) for c in self._changed]
            self._changed.clear()
            connected = any(seen.connections > 0 for seen in self._devices.values())
            # Forget the phones that left once their last word is on its way to the table.
            for credential_id, seen in changed:
                if seen.connections <= 0:
                    self._devices.pop(credential_id, None)
        if not changed and not connected:
            return 0
        now = now_ms()

        def work(db):
            db.execute(
                WORKER_SEEN,
                [self.worker, now],
            )
            db.conn.executemany(
                DEVICE_SEEN,
                [
                    (c, s.site, s.staff_id, self.worker, max(s.connections, 0), s.connected_at)
                    + (s.last_seen_at, s.app_version, s.notifications)
                    for c, s in changed
                ],
            )
            # Rows of other workers that these devices have left (or whose worker is gone) are
            # old news: one statement, not one per device (a thousand took 60 ms that way).
            db.execute(
                "DELETE FROM device_presence WHERE worker != :me AND (connections = 0 OR worker "
                "NOT IN (SELECT worker FROM presence_workers WHERE seen_at > :fresh)) AND "
                "credential_id IN (SELECT credential_id FROM device_presence WHERE worker = :me)",
                {"me": self.worker, "fresh": now - STALE_AFTER_MS},
            )
            return len(changed), []

        try:
            return services.writer.submit(work)
        except Exception:
            with self._lock:  # written next time
                self._changed.update(c for c, _seen in changed)
                for credential_id, seen in changed:
                    self._devices.setdefault(credential_id, seen)
            raise

    def flush_forever(self, services) -> None:
        """The worker's timer (server/timers.py)."""
        while True:
            services.socketio.sleep(FLUSH_SECONDS)
            with kept_alive(services.store, "writing which phones are connected"):
                self.flush(services)
