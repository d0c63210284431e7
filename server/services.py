"""The parts one app is made of, each a named member, built once by the app factory
(server/app.py) and handed to commands, handlers and timers.

It names every part, so it stands on the top floor beside the app factory: the modules of the
top floor (app, timers, demo) name the type; the packages below take `services` as it comes,
without importing the type, which would run up a floor. The parts are imported for type
checking only; nothing here imports them at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask_socketio import SocketIO

    from .basics.settings import Settings
    from .channels.mailboxes.switcher import MailboxSwitcher
    from .channels.snapshots import Snapshots
    from .evidence.checkpoints import Checkpoints
    from .integrations.sms import SmsSender, VisitorTexts
    from .integrations.webhooks import WebhookDeliveries
    from .live.presence import Presence
    from .live.publish import Publisher
    from .live.push import PushSender
    from .operations.metrics import Metrics
    from .policies import Policies
    from .store.db import Store
    from .store.disk import Disk
    from .store.state import SiteStates
    from .store.writer import Writer


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store  # the SQLite file or PostgreSQL: reading connections and the writer's
    writer: Writer  # group commit: every command's one way into the log
    socketio: SocketIO
    publisher: Publisher  # after commit: batches to the Socket.IO rooms, then the rest
    snapshots: Snapshots  # the public notice files
    push: PushSender  # Web Push to locked phones
    states: SiteStates  # the site state sent on connect, shared per seq
    metrics: Metrics
    checkpoints: Checkpoints  # signed checkpoints of the logs, and their witnesses
    presence: Presence  # which phones this worker has connected (phone readiness)
    webhooks: WebhookDeliveries  # outbound webhooks, delivered in the log's order
    sms: SmsSender  # escalation SMS through Twilio
    disk: Disk  # free space, and the reserve the alarm's commands may use on a full disk
    mailboxes: MailboxSwitcher  # the customer-service mailboxes' automatic replies
    visitor_texts: VisitorTexts  # the alarm's SMS to visitors on site
    policies: Policies  # every reaction from an event or an answer to a new command
    # Long work off the event loop (a native thread under eventlet): a report's PDF of a
    # thousand people takes half a minute, and every site's phones would wait for it.
    run_native: Callable
