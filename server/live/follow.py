"""Fan-out between processes and machines on PostgreSQL: the log is the message queue.

Every commit that adds to a site's log makes PostgreSQL tell each listening process the site
(a trigger's NOTIFY, sent with the commit and only if it commits: server/store/postgresql.py).
Each process reads what it has not sent yet from the log and sends it to its own phones as
its own commits (server/live/publish.py: `Publisher.from_log`), and rewrites its own public
snapshots. No machine stands between the processes but the database, which the standby
already replaces: after a failover the listener connects again (to the new primary: the URL's
target_session_attrs=read-write) and sends every site's events it missed meanwhile; the
`head` every few seconds (server/timers.py) catches what even that misses.

Used when the store is PostgreSQL and no message queue is set (EXITNOW_MESSAGE_QUEUE, Redis,
carries the same events between the workers of the SQLite recipe)."""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)
RETRY_SECONDS = 0.5


def follows_the_log(settings, store) -> bool:
    """Whether this process hears of the other processes' commits from the store's log."""
    return store.engine == "postgresql" and not settings.message_queue


def follow_other_processes(services, tell_heads_now: Callable[[], None]) -> None:
    """Runs as a background task for the process's life: listen, send, listen again.
    `tell_heads_now` reaches the phones of a site too far behind to send."""
    publisher = services.publisher
    while True:
        try:
            for site in services.store.listen():
                if site is None:  # listening (again): what came meanwhile is in the log
                    publisher.hearing_log(True)
                    too_far = publisher.from_log()
                else:
                    too_far = publisher.from_log([site])
                if too_far:
                    tell_heads_now()
        except Exception as error:  # lost (a failover, a restart): listen again soon
            if publisher.hears_log:
                logger.error("stopped hearing of the log's commits (%s); listening again", error)
            publisher.hearing_log(False)
        services.socketio.sleep(RETRY_SECONDS)
