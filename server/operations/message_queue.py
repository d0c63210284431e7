"""The Socket.IO client managers: one process's own, and the Redis message queue between
server processes, supervised.

python-socketio's RedisManager already reconnects by itself, but it waits 1, 2, 4 ... up to
60 s between tries and tells nobody: after a Redis restart a worker could stay deaf for a
minute, and its phones never learn that the events published meanwhile were lost. This
manager tries again every RETRY_SECONDS, says whether its listener is subscribed (for
/readyz), counts its reconnects (for /metrics) and, once subscribed again, calls
`on_reconnect`, which tells this worker's phones their site's head at once so that they
catch up from the log (timers.tell_heads_now).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)
RETRY_SECONDS = 0.5


class KnowsEachConnectionsRooms:
    """python-socketio finds the rooms of a leaving connection by looking into every room of
    the namespace, and each connection is a room of its own: five thousand phones dropping at
    once (a shop's Wi-Fi going down) held the event loop for 1.03 s (measured in one process),
    growing with the square of the phones. Here each connection's rooms are kept as it enters
    and leaves them, and a disconnect leaves just those: 16 ms for the five thousand."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set] = {}  # (namespace, sid) -> its rooms

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """As python-socketio's (5.18), with the connection's rooms known instead of sought."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]


class Manager(KnowsEachConnectionsRooms, socketio.Manager):
    """One process's connections (no message queue)."""


class SupervisedRedisManager(KnowsEachConnectionsRooms, socketio.RedisManager):
    def __init__(self, url: str, on_reconnect: Callable[[], None] | None = None):
        super().__init__(
            url,
            redis_options={
                # redis-py would otherwise reconnect a broken subscription itself, silently:
                # the listener must see every break to tell its phones to catch up.
                "retry": Retry(NoBackoff(), 0),
                "socket_connect_timeout": 2,
                "socket_keepalive": True,
            },
        )
        self.on_reconnect = on_reconnect
        self.is_listening = False
        self.reconnects = 0

    def ping(self) -> bool:
        """Whether Redis answers now (for /readyz)."""
        try:
            return bool(self.redis is not None and self.redis.ping())
        except Exception:
            return False

    def _redis_listen_with_retries(self):  # runs as the listener's background task
        has_listened = False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                self.is_listening = True
                if has_listened:
                    self._reconnected()
                has_listened = True
                yield from self.pubsub.listen()
            except Exception as error:
                if self.is_listening:
                    logger.error("lost the message queue (%s); reconnecting", error)
                self.is_listening = False
                time.sleep(RETRY_SECONDS)  # monkey-patched: the loop goes on meanwhile

    def _reconnected(self) -> None:
        self.reconnects += 1
        logger.warning("message queue listener subscribed again (reconnect %s)", self.reconnects)
        if self.on_reconnect is not None:
            try:
                self.on_reconnect()
            except Exception:  # the periodic head reaches the phones anyway
                logger.exception("telling the phones to catch up after a reconnect failed")


def manager_for(url: str | None, on_reconnect: Callable[[], None]) -> dict:
    """SocketIO keyword arguments for the message queue at `url` (none: one process)."""
    if not url:
        return {"client_manager": Manager()}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"client_manager": SupervisedRedisManager(url, on_reconnect)}
    return {"message_queue": url}  # another broker: Flask-SocketIO's own manager


def start_listening(socketio) -> None:
    """Subscribe now, not when the first phone connects (python-socketio's default), so that
    a worker with no phones yet is ready, and says so."""
    server = socketio.server
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()
