"""Assembling the app: settings, database, Socket.IO, publisher, blueprints, error handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, jsonify, request
from flask.sessions import SessionInterface
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .api.pages import register_pages, security_headers
from .basics.errors import INTERNAL_ERROR, Rejected, StoreBusy, StoreUnreachable, Unauthenticated
from .basics.names import LARGEST_INTEGER
from .basics.settings import Settings, load_settings, secret_key_for
from .channels.mailboxes.switcher import MailboxSwitcher
from .channels.snapshots import Snapshots
from .evidence.checkpoints import Checkpoints
from .evidence.log_key import log_key_for
from .integrations.sms import SmsSender, TwilioSms, VisitorTexts
from .integrations.webhooks import WebhookDeliveries
from .live import realtime
from .live.follow import follows_the_log
from .live.pings import PING_INTERVAL_SECONDS, PING_TIMEOUT_SECONDS
from .live.presence import Presence
from .live.publish import Publisher
from .live.push import PushSender
from .operations.message_queue import manager_for
from .operations.metrics import Metrics
from .policies import Policies
from .services import Services
from .store.disk import Disk
from .store.engines import open_store
from .store.state import SiteStates
from .store.writer import Writer, run_here
from .timers import tell_heads_now

logger = logging.getLogger(__name__)


MAX_BODY_BYTES = 2 * 1024 * 1024  # a site's whole set-up with thousands of people fits


class StoredInteger(IntegerConverter):
    """`<int:...>` in a route, up to what SQLite stores: a larger number is a 404, not a bug."""

    def __init__(self, url_map, **options):
        super().__init__(url_map, **{"max": LARGEST_INTEGER, **options})


class ExitNow(Flask):
    """Flask-SocketIO runs each Socket.IO message (a connect, an action, a sync, a disconnect)
    in a request context made of the socket's handshake request, and Flask matched that path
    against every route each time: 55 of the 65 µs the context cost, on every one of a
    thousand phones connecting. No route serves Socket.IO's path, so there is nothing to find."""

    def create_url_adapter(self, request):
        if request is not None and request.path.startswith(SOCKETIO_PATH):
            return None
        return super().create_url_adapter(request)


SOCKETIO_PATH = "/socket.io/"  # Flask-SocketIO's default, which the app and nginx use


class NoFlaskSession(SessionInterface):
    """Exit Now keeps no Flask session: a phone's cookie is its device credential
    (server/rules/auth.py). Flask's default still built a signing serializer on every request,
    a tenth of a receipt's cost under a crowd."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        pass


# What runs after each commit, in this order, each a part of the services with an
# `after_commit(events)`: the frames to the phones first (the publisher also rewrites the
# public snapshots and sends the pushes), then the signed checkpoints, then the two SMS senders.
AFTER_COMMIT = ("publisher", "checkpoints", "sms", "visitor_texts")


def build_services(settings: Settings, socketio: SocketIO, run_native: Callable) -> Services:
    """Each part once, wired in the order they need one another."""
    store = open_store(settings)
    disk = Disk(
        settings.db_path, settings.public_dir, settings.disk_reserve_mb, settings.min_free_mb
    )
    disk.reserve.make()
    metrics = Metrics()
    metrics.watch_socketio(socketio)
    metrics.watch_disk(disk)
    metrics.watch_store(store)
    policies = Policies()
    snapshots = Snapshots(settings.public_dir, store, run_native, settings.base_url)
    push = PushSender(settings, store, socketio, metrics, policies.record_push_outcomes)
    twilio = TwilioSms(settings)
    writer = Writer(
        store,
        socketio.start_background_task,
        run_native,
        on_batch=metrics.batch_commands.observe,
        reserve=disk.reserve,
    )
    services = Services(
        settings,
        store,
        writer,
        socketio,
        publisher=Publisher(
            socketio, snapshots, push, metrics, store if follows_the_log(settings, store) else None
        ),
        snapshots=snapshots,
        push=push,
        states=SiteStates(),
        metrics=metrics,
        checkpoints=Checkpoints(
            settings,
            log_key_for(settings),
            store,
            writer.submit,
            socketio.start_background_task,
            snapshots.refresh,
        ),
        presence=Presence(),
        webhooks=WebhookDeliveries(),
        sms=SmsSender(settings, store, socketio, twilio, policies.record_sms_outcome),
        disk=disk,
        mailboxes=MailboxSwitcher(settings, policies.record_mailbox_switch),
        visitor_texts=VisitorTexts(settings, store, socketio, twilio, policies.record_visitor_sms),
        policies=policies,
        run_native=run_native,
    )
    policies.serve(services)
    writer.subscribers.extend(getattr(services, name).after_commit for name in AFTER_COMMIT)
    return services


def build_app(settings: Settings | None = None, run_native: Callable = run_here) -> Flask:
    """`run_native(function, *args)` runs blocking disk work off the event loop (the entry
    point passes eventlet's or gevent's thread pool; in threading mode it simply calls)."""
    settings = settings or load_settings()
    app = ExitNow(__name__, static_folder=None)
    app.config["SECRET_KEY"] = secret_key_for(settings)
    app.config["TESTING"] = settings.testing
    app.session_interface = NoFlaskSession()
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.converters["int"] = StoredInteger
    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        ping_interval=PING_INTERVAL_SECONDS,
        ping_timeout=PING_TIMEOUT_SECONDS,
        **manager_for(settings.message_queue, lambda: tell_heads_now(app.extensions["exitnow"])),
    )
    # Outside Socket.IO's middleware, so the socket sees it too; the origin check reads
    # X-Forwarded-Proto itself. The client's address counts failed sign-ins (rate_limits.py).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0)
    services = build_services(settings, socketio, run_native)
    app.extensions["exitnow"] = services
    realtime.register(socketio, services)

    from .api import api
    from .api.hooks import hooks
    from .api.mustering import signs
    from .api.public import public
    from .cli import register_cli

    app.register_blueprint(api)
    app.register_blueprint(signs)
    app.register_blueprint(public)
    app.register_blueprint(hooks)
    register_cli(app)
    register_pages(app)

    _register_error_handlers(app)
    app.after_request(security_headers)
    return app


def _register_error_handlers(app: Flask) -> None:
    def problem(body: dict, status: int):
        response = jsonify(body)
        response.status_code = status
        response.content_type = "application/problem+json"
        return response

    @app.errorhandler(Rejected)
    def rejected(error: Rejected):
        response = problem(error.problem(), error.status)
        if isinstance(error, Unauthenticated):
            # RFC 9110 15.5.2: a 401 names the scheme that would be accepted (RFC 6750).
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        body = {
            "type": "about:blank",
            "title": error.name,
            "status": error.code,
            "detail": error.description,
        }
        response = problem(body, error.code or 500)
        # What the status needs besides the body (a 405's Allow, RFC 9110 15.5.6); not
        # werkzeug's Content-Type for its HTML page.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def bug(error: Exception):
        store = app.extensions["exitnow"].store
        if store.forget_if_lost(error):  # a read met PostgreSQL's restart or failover
            logger.warning("the store's connection was lost on %s %s", request.method, request.path)
            return rejected(StoreUnreachable())
        if store.busy(error):
            return rejected(StoreBusy())
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return problem(INTERNAL_ERROR, 500)
