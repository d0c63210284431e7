"""Assembling the app: settings, database, Socket.IO, publisher, blueprints, error handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, jsonify, request, send_from_directory
from flask.sessions import SessionInterface
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import PWA_DIR, realtime
from .db import Store
from .errors import INTERNAL_ERROR, Forbidden, Rejected
from .message_queue import manager_for
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import Metrics, is_allowed
from .names import LARGEST_INTEGER
from .notices.snapshots import Snapshots
from .publish import Publisher
from .push import PushSender
from .readiness import readiness
from .settings import Settings, load_settings, secret_key_for
from .state import SiteStates
from .timers import tell_heads_now
from .writer import Writer, run_here

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """What commands and handlers need, built once per app."""

    settings: Settings
    store: Store
    socketio: SocketIO
    publisher: Publisher
    writer: Writer
    states: SiteStates
    metrics: Metrics


MAX_BODY_BYTES = 2 * 1024 * 1024  # a site's whole set-up with thousands of people fits


class StoredInteger(IntegerConverter):
    """`<int:...>` in a route, up to what SQLite stores: a larger number is a 404, not a bug."""

    def __init__(self, url_map, **options):
        super().__init__(url_map, **{"max": LARGEST_INTEGER, **options})


class NoFlaskSession(SessionInterface):
    """Exit Now keeps no Flask session: a phone's cookie is its device credential
    (server/auth.py). Flask's default still built a signing serializer on every request,
    a tenth of a receipt's cost under a crowd."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        pass


def build_app(settings: Settings | None = None, run_native: Callable = run_here) -> Flask:
    """`run_native(function, *args)` runs blocking disk work off the event loop (the entry
    point passes eventlet's or gevent's thread pool; in threading mode it simply calls)."""
    settings = settings or load_settings()
    app = Flask(__name__, static_folder=None)
    app.config["SECRET_KEY"] = secret_key_for(settings)
    app.config["TESTING"] = settings.testing
    app.session_interface = NoFlaskSession()
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.converters["int"] = StoredInteger
    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        # The phones must notice a dead connection (and reconnect) within seconds.
        ping_interval=10,
        ping_timeout=10,
        **manager_for(settings.message_queue, lambda: tell_heads_now(app.extensions["exitnow"])),
    )
    # Outside Socket.IO's middleware, so the socket sees it too; the origin check reads
    # X-Forwarded-Proto itself. The client's address counts failed sign-ins (rate_limits.py).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0)
    store = Store(settings.db_path)
    metrics = Metrics()
    metrics.watch_socketio(socketio)
    publisher = Publisher(socketio, Snapshots(settings.public_dir, store, run_native), metrics)
    writer = Writer(store, socketio.start_background_task, publisher.publish, run_native)
    writer.on_batch = metrics.batch_commands.observe
    services = Services(settings, store, socketio, publisher, writer, SiteStates(), metrics)
    publisher.push = PushSender(services)

    app.extensions["exitnow"] = services
    realtime.register(socketio, services)

    from .api import api
    from .api.public import public
    from .cli import register_cli

    app.register_blueprint(api)
    app.register_blueprint(public)
    register_cli(app)
    _register_pages(app)
    app.add_template_filter(duration)

    _register_error_handlers(app)
    app.after_request(security_headers)
    return app


# The staff app's pages load only their own files; the socket and the API are same-origin.
APP_PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Documents that hold their own styles and no script (the incident report).
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
APP_PAGES = {"index", "admin_page", "setup_page", "enroll_page", "pwa_file", "public.screen"}
PUBLIC_STATUS_PAGE = "public.status_page"  # carries its own policy, and may be framed


def security_headers(response):
    """On every answer: no MIME sniffing, no Referer (an enrollment link holds its code). On
    every HTML page: a Content-Security-Policy and no framing, except the public status page,
    which brings its policy in the file (it is served by nginx or a CDN too) and which a
    shop's own site may show in a frame."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if response.mimetype != "text/html" or request.endpoint == PUBLIC_STATUS_PAGE:
        return response
    policy = APP_PAGE_POLICY if request.endpoint in APP_PAGES else DOCUMENT_POLICY
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Frame-Options"] = "DENY"
    return response


def duration(seconds: float) -> str:
    """12345.6 -> "3 h 25 min 46 s": how long, as a reader of a report wants it."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if hours or minutes else []
    return " ".join([*parts, f"{secs} s"])


def _register_pages(app: Flask) -> None:

    @app.get("/")
    def index():
        return send_from_directory(PWA_DIR, "index.html")

    @app.get("/sw.js")
    def service_worker():
        # At the root, so that its scope is the whole app; never cached for long.
        response = send_from_directory(PWA_DIR, "sw.js", mimetype="text/javascript")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/manifest.webmanifest")
    def manifest():
        return send_from_directory(
            PWA_DIR, "manifest.webmanifest", mimetype="application/manifest+json"
        )

    @app.get("/admin")
    def admin_page():
        # Duty managers and admins make enrollment codes here; the API checks the role.
        return send_from_directory(PWA_DIR, "admin.html")

    @app.get("/setup")
    def setup_page():
        # Admins edit zones, staff, notice texts and scripts here; the API checks the role.
        return send_from_directory(PWA_DIR, "setup.html")

    @app.get("/enroll/<code>")
    def enroll_page(code: str):
        # A page, not the enrollment itself: link previews and scanners must not use up the code.
        return send_from_directory(PWA_DIR, "enroll.html")

    @app.get("/pwa/<path:name>")
    def pwa_file(name: str):
        return send_from_directory(PWA_DIR, name)

    @app.get("/healthz")
    def healthz():
        services = app.extensions["exitnow"]
        with services.store.reading() as db:
            db.execute("SELECT 1").fetchone()
        # How well group commit works: commands per transaction (one fsync each).
        writer = {
            "commands": services.writer.commands,
            "transactions": services.writer.transactions,
        }
        return jsonify({"ok": True, "writer": writer})

    @app.get("/metrics")
    def metrics():
        services = app.extensions["exitnow"]
        if not is_allowed(request.remote_addr, services.settings.metrics_allow):
            raise Forbidden("Only the networks in EXITNOW_METRICS_ALLOW may read /metrics.")
        return services.metrics.exposition(), 200, {"Content-Type": METRICS_CONTENT_TYPE}

    @app.get("/readyz")
    def readyz():
        checks = readiness(app.extensions["exitnow"])
        is_ready = all(check is not False for check in checks.values())
        return jsonify({"ready": is_ready, "checks": checks}), 200 if is_ready else 503


def _register_error_handlers(app: Flask) -> None:
    def problem(body: dict, status: int):
        response = jsonify(body)
        response.status_code = status
        response.content_type = "application/problem+json"
        return response

    @app.errorhandler(Rejected)
    def rejected(error: Rejected):
        return problem(error.problem(), error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        body = {
            "type": "about:blank",
            "title": error.name,
            "status": error.code,
            "detail": error.description,
        }
        return problem(body, error.code or 500)

    @app.errorhandler(Exception)
    def bug(error: Exception):
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return problem(INTERNAL_ERROR, 500)
