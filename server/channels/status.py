"""The status page (/status/<site>, one HTML file per language) and status.json."""

from __future__ import annotations

import base64
import hashlib

from markupsafe import Markup

from ..basics.clock import iso, local_day
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
        # The queue screens: what shows while open, and each zone's way out (a screen at
        # /screen/<site>?zone=<zone> names the exits and the assembly point of its zone).
        "screen": {
            "normal_url": notice.settings.screen_normal_url or None,
            "zones": list(notice.zones),
        },
        # The day (in the site's zone) the words were written for: a time on another day is
        # said with its date, so the words are written anew after midnight (server/timers.py).
        "words_day": local_day(notice.now, notice.timezone),
        # A witness of the log (server/evidence/checkpoints.py): whoever kept a copy can show later
        # what was signed then. Only a size and a hash: it reveals nothing of the events.
        "checkpoint": notice.checkpoint,
    }


def _public_text(notice: PublicNotice, lang: str) -> dict:
    texts = notice_texts(notice, lang)
    return {
        "headline": texts["headline"],
        "lines": texts["lines"],
        "text": texts["text"],
        "updated": texts["updated"],
        "inside": texts["inside"],
    }


def status_json(notice: PublicNotice) -> bytes:
    return json_bytes(status_document(notice))


# Where scripts run, the page reloads as soon as status.json has a newer version.
RELOAD_SCRIPT = """
  (function () {
    var version = Number(document.body.dataset.version);
    var day = document.body.dataset.day;
    var url = location.pathname.replace(/\\/?$/, "") + ".json";
    setInterval(function () {
      fetch(url, { cache: "no-cache" }).then(function (r) { return r.json(); }).then(function (s) {
        if (s.version !== version || s.words_day !== day) location.reload();
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
        day=local_day(notice.now, notice.timezone),
        texts=notice_texts(notice, lang),
        others=others,
        refresh_seconds=REFRESH_SECONDS,
        script=Markup(RELOAD_SCRIPT),
        content_security_policy=CONTENT_SECURITY_POLICY,
    )
