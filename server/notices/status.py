"""The status page (/status/<site>, one HTML file per language) and status.json."""

from __future__ import annotations

import base64
import hashlib

from markupsafe import Markup

from ..clock import iso
from . import PublicNotice
from .render import json_bytes, render
from .texts import notice_texts, site_languages

# How often the page checks for news: by script where scripts run, by meta refresh where not.
REFRESH_SECONDS = 15


def status_document(notice: PublicNotice) -> dict:
    """status.json: the notice as data, with its text in every language of the site."""
    return {
        "site": notice.site,
        "name": notice.site_name,
        "state": notice.state,
        "since": iso(notice.since),
        "eta": iso(notice.eta),
        "updated": iso(notice.updated),
        "version": notice.version,
        "languages": site_languages(notice),
        "notice": {lang: _public_text(notice, lang) for lang in site_languages(notice)},
        "screen": {"normal_url": notice.settings.screen_normal_url or None},
        # A witness of the log (server/checkpoints.py): whoever kept a copy can show later
        # what was signed then. Only a size and a hash: it reveals nothing of the events.
        "checkpoint": notice.checkpoint,
    }


def _public_text(notice: PublicNotice, lang: str) -> dict:
    texts = notice_texts(notice, lang)
    return {"headline": texts["headline"], "lines": texts["lines"], "text": texts["text"]}


def status_json(notice: PublicNotice) -> bytes:
    return json_bytes(status_document(notice))


# Where scripts run, the page reloads as soon as status.json has a newer version.
RELOAD_SCRIPT = """
  (function () {
    var version = Number(document.body.dataset.version);
    var url = location.pathname.replace(/\\/?$/, "") + ".json";
    setInterval(function () {
      fetch(url, { cache: "no-cache" }).then(function (r) { return r.json(); }).then(function (s) {
        if (s.version !== version) location.reload();
      }).catch(function () {});
    }, CHECK_EVERY_MS);
  })();
""".replace("CHECK_EVERY_MS", str(REFRESH_SECONDS * 1000 // 5))
# The page carries its own Content-Security-Policy, so that it holds wherever the file is
# served from (the app, nginx, a CDN): its one script by its hash, its styles inline, nothing
# else but status.json from its own origin.
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(RELOAD_SCRIPT.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)


def status_html(notice: PublicNotice, lang: str) -> bytes:
    others = [notice_texts(notice, other) for other in site_languages(notice) if other != lang]
    return render(
        "status.html",
        notice=notice,
        texts=notice_texts(notice, lang),
        others=others,
        refresh_seconds=REFRESH_SECONDS,
        script=Markup(RELOAD_SCRIPT),
        content_security_policy=CONTENT_SECURITY_POLICY,
    )
