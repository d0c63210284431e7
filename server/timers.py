"""Work the server does by itself: rewrite the public snapshots at start, switch the public
channels from "restored" back to "open" when a site's restored time is over, and collect
memory garbage while no alarm is on."""

from __future__ import annotations

import gc
import logging

from . import commands
from .auth import command_line
from .clock import now_ms

logger = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 5
COLLECT_EVERY_SECONDS = 60
FULL_COLLECTION_EVERY_MINUTES = 60


def start(services) -> None:
    """Call once per server process (not from the CLI or unit tests)."""
    services.publisher.snapshots.refresh_all()
    services.socketio.start_background_task(_reopen_loop, services)
    services.socketio.start_background_task(_collect_while_quiet, services)


def reopen_due_sites(services) -> list[str]:
    """Reopen every site whose restored time is over; return their ids."""
    now = now_ms()
    with services.store.reading() as db:
        due = [
            row[0]
            for row in db.execute(
                "SELECT site FROM public_notices WHERE state = 'restored' AND restored_until <= ?",
                [now],
            )
        ]
    for site in due:  # several processes may race here: the command is a no-op for the loser
        commands.execute(services, command_line(site), site, "reopen_notices")
    return due


def _reopen_loop(services) -> None:
    while True:
        services.socketio.sleep(CHECK_EVERY_SECONDS)
        try:
            reopen_due_sites(services)
        except Exception:  # keep the timer alive; the next round tries again
            logger.exception("reopening the public channels failed")


def _collect_while_quiet(services) -> None:
    """Python's full garbage collection walks every object, and with a thousand phones
    connected it stopped the event loop for 100-160 ms (measured), alarm frames waiting.
    So the server collects by itself while no site has an incident and freezes what
    survived (gc.freeze): the automatic collections, an alarm's included, then walk only
    what is newer (an alarm freezes everything there is as it starts, too: publish.py).
    Each minute it collects what is new since the last freeze (quick); each hour it
    unfreezes and walks everything, for the rare cycle among the frozen objects."""
    minutes = 0
    while True:
        try:
            with services.store.reading() as db:
                alarm_on = db.execute("SELECT 1 FROM incidents WHERE ended_at IS NULL").fetchone()
            if alarm_on is None:
                if minutes % FULL_COLLECTION_EVERY_MINUTES == 0:
                    gc.unfreeze()
                gc.collect()
                gc.freeze()
                minutes += 1
        except Exception:  # keep the timer alive
            logger.exception("collecting garbage failed")
        services.socketio.sleep(COLLECT_EVERY_SECONDS)
