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

logger = logging.getLogger(__name__)
RETRY_SECONDS = 0.5


def follows_the_log(services) -> bool:
    return services.store.engine == "postgresql" and not services.settings.message_queue


def follow_other_processes(services) -> None:
    """Runs as a background task for the process's life: listen, send, listen again."""
    publisher, store = services.publisher, services.store
    publisher.log_store = store
    was_listening = False
    while True:
        try:
            for site in store.listen():
                if site is None:  # listening (again): what came meanwhile is in the log
                    publisher.hears_log = True
                    if was_listening:
                        logger.warning("listening to the log's commits again")
                        publisher.from_log(store, None)
                    else:
                        publisher.start_at_head(store)
                    was_listening = True
                else:
                    publisher.from_log(store, [site])
        except Exception as error:  # lost (a failover, a restart): listen again soon
            if publisher.hears_log:
                logger.error("stopped hearing of the log's commits (%s); listening again", error)
            publisher.hears_log = False
        services.socketio.sleep(RETRY_SECONDS)
