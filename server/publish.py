"""After commit: fan the same events out to everyone who must hear of them.

Staff and managers first (their Socket.IO rooms, and Web Push for locked phones, sent in the
background), then the public channels: the snapshot files and the live screens.
 A failure here never undoes a command: the event is already in the log,
a client that missed it sees the gap in `seq` and replays it, and snapshots are rewritten on
the next change and at every start.
"""

from __future__ import annotations

import logging

from .auth import Identity
from .events import NOTICE_EVENTS
from .notices.snapshots import Snapshots
from .notices.status import status_document
from .state import event_message_for

logger = logging.getLogger(__name__)

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
    def __init__(self, socketio, snapshots: Snapshots):
        self.socketio = socketio
        self.snapshots = snapshots
        self.push = None  # the PushSender, set once the app's services exist

    def publish(self, site: str, events: list[dict]) -> None:
        for event in events:
            for audience, is_responder in AUDIENCES.items():
                message = event_message_for(is_responder, event)
                self._emit("event", message, room(site, audience))
            if event["type"] == "incident.started" and self.push is not None:
                self.push.alarm_started(site, event)  # locked phones: in the background

        if any(event["type"] in NOTICE_EVENTS for event in events):
            self.refresh_public(site)

    def refresh_public(self, site: str) -> None:
        """Rewrite the site's snapshot files, then tell the live public screens."""
        try:
            notice = self.snapshots.refresh(site)
        except Exception:  # the files stay as they were; the next change or start retries
            logger.exception("could not write the public snapshots of site %s", site)
            return
        self._emit("notice", status_document(notice), public_room(site), PUBLIC_NAMESPACE)

    def _emit(self, name: str, message: dict, to: str, namespace: str = "/") -> None:
        try:
            self.socketio.emit(name, message, to=to, namespace=namespace)
        except Exception:  # a broken message queue must not turn a commit into a 500
            logger.exception("could not publish %s to %s", name, to)
