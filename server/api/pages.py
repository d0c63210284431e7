"""The app's own pages and probes: the staff app's shell and service worker, the admin and
set-up pages, /healthz, /readyz and /metrics, and the security headers every answer gets."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from posixpath import dirname, join, normpath

from flask import Flask, jsonify, request, send_from_directory

from ..basics.errors import Forbidden
from ..operations.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from ..operations.metrics import is_allowed
from .probes import readiness

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
APP_PAGES |= {"check_in_page", "visit_page"}
PUBLIC_STATUS_PAGE = "public.status_page"  # carries its own policy, and may be framed

# The Progressive Web App's files (plain HTML, CSS and ES modules, no build step).
PWA_DIR = Path(__file__).resolve().parents[2] / "pwa"


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


def register_pages(app: Flask) -> None:

    @app.get("/")
    def index():
        return app_shell(), 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/sw.js")
    def service_worker():
        # At the root, so that its scope is the whole app; never cached for long.
        body = (PWA_DIR / "sw.js").read_text().replace(SHELL_VERSION_MARK, shell_version(PWA_DIR))
        return body, 200, {"Content-Type": "text/javascript", "Cache-Control": "no-cache"}

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

    @app.get("/checkin/<site>/<point>")
    def check_in_page(site: str, point: str):
        # An assembly point sign's QR code: the staff app, which says "I am safe here".
        return send_from_directory(PWA_DIR, "index.html")

    @app.get("/visit/<site>")
    def visit_page(site: str):
        # Visitors sign themselves in and out here; their personal link is in the fragment.
        return send_from_directory(PWA_DIR, "visit.html")

    @app.get("/pwa/<path:name>")
    def pwa_file(name: str):
        return send_from_directory(PWA_DIR, name)

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for it on pages that name no icon (a report, an API answer opened).
        return send_from_directory(PWA_DIR / "icons", "icon-192.png", mimetype="image/png")

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
        services = app.extensions["exitnow"]
        checks = readiness(services)
        is_ready = all(check is not False for check in checks.values())
        answer = {"ready": is_ready, "checks": checks, "disk": services.disk.state.summary()}
        answer["store"] = services.store.describe()
        return jsonify(answer), 200 if is_ready else 503


SHELL_VERSION_MARK = "@SHELL_VERSION@"


IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*["']([^"']+\.js)["']""")
PRELOADS_MARK = "<!-- modulepreload -->"


def modules_of(url: str, seen: set[str] | None = None) -> set[str]:
    """`url` (under /pwa/) and every module it imports, directly or not."""
    seen = set() if seen is None else seen
    if url in seen:
        return seen
    seen.add(url)
    source = (PWA_DIR / url.removeprefix("/pwa/")).read_text()
    for imported in IMPORT.findall(source):
        modules_of(
            imported if imported.startswith("/") else normpath(join(dirname(url), imported)), seen
        )
    return seen


@functools.cache
def app_shell() -> str:
    """index.html with a modulepreload for every module the app imports: fetched at once,
    not one round trip per level of imports (the alarm screen shows that much sooner on a
    slow mobile network)."""
    links = "\n".join(
        f'<link rel="modulepreload" href="{url}">' for url in sorted(modules_of("/pwa/js/app.js"))
    )
    return (PWA_DIR / "index.html").read_text().replace(PRELOADS_MARK, links)


@functools.cache
def shell_version(folder) -> str:
    """A digest of every file of the app, stamped into the service worker's cache name: any
    change to the app makes phones fetch a new shell, and nobody bumps a number by hand."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
