"""GET /readyz: whether this worker can do its job now, for a load balancer or an operator.

/healthz says the process answers; /readyz says it can write the log, hear the other
workers (the message queue's listener), write the public notices, and that the disk has
room (EXITNOW_MIN_FREE_MB free beside the database and the public folder, and the disk
reserve in place: server/store/disk.py). A worker that is not
ready answers 503 and names what is wrong, for an orchestrator (systemd, Kubernetes) or an
operator to act on; open-source nginx has no active health checks and cannot (deploy/README.md).
The worker reconnects to the message queue (or PostgreSQL's, server/live/follow.py) by itself.
"""

from __future__ import annotations

import tempfile

from ..operations.message_queue import SupervisedRedisManager

PROBE_SECONDS = 3


def readiness(services) -> dict[str, bool | None]:
    """Each check by name: True, False, or None when it does not apply here."""
    return {
        "database": _database_writable(services),
        "message_queue": _message_queue_alive(services),
        "snapshots": _folder_writable(services.snapshots.root),
        "disk_space": _disk_has_room(services),
    }


def _disk_has_room(services) -> bool:
    state = services.disk.read()
    return not state.is_low and state.reserve_held


def _database_writable(services) -> bool:
    """The writer takes the write lock and commits an empty transaction (no fsync), within
    PROBE_SECONDS: its loop runs and no other process holds the file."""
    if not services.store.writable():
        return False
    try:
        services.writer.submit(lambda db: (None, []), timeout=PROBE_SECONDS)
    except Exception:
        return False
    return True


def _message_queue_alive(services) -> bool | None:
    """Whether this worker hears the others: Redis's listener, or PostgreSQL's (the log is
    the queue there: server/live/follow.py)."""
    if services.publisher.hears_log is not None:
        return services.publisher.hears_log
    manager = services.socketio.server.manager
    if not isinstance(manager, SupervisedRedisManager):
        return None  # one process: nothing to hear
    return manager.is_listening and manager.ping()


def _folder_writable(folder) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A dot file: nginx never serves those (the snapshots' lock files are the same).
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-"):
            return True
    except OSError:
        return False
