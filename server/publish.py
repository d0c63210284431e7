"""After commit: fan the same events out to everyone who must hear of them.

Today that is the site's Socket.IO rooms. A failure here never undoes a command: the event is
already in the log, and a client that missed it sees the gap in `seq` and replays it.
"""

from __future__ import annotations

import logging

from .auth import Identity
from .state import event_message_for

logger = logging.getLogger(__name__)

# Each connection joins exactly one room of its site: the one of its audience.
AUDIENCES = {"responders": True, "staff": False}  # audience -> may read backup requests


def room_of(identity: Identity) -> str:
    return room(identity.site, "responders" if identity.is_responder else "staff")


def room(site: str, audience: str) -> str:
    return f"site:{site}:{audience}"


class Publisher:
    def __init__(self, socketio):
        self.socketio = socketio

    def publish(self, site: str, events: list[dict]) -> None:
        for event in events:
            for audience, is_responder in AUDIENCES.items():
                message = event_message_for(is_responder, event)
                try:
                    self.socketio.emit("event", message, to=room(site, audience))
                except Exception:  # a broken message queue must not turn a commit into a 500
                    logger.exception("could not publish seq %s of site %s", event["seq"], site)
