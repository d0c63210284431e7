"""The public channels at their stable URLs, served from the snapshot files, so that what the
app serves and what nginx or a CDN serves from $EXITNOW_PUBLIC_DIR are the same bytes."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, request, send_file, send_from_directory

from ..basics.errors import NotFound
from ..channels.texts import LANGUAGES
from .pages import PWA_DIR

public = Blueprint("public", __name__)

# Short enough that a switch shows within seconds; stale copies may bridge an outage.
CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30, stale-if-error=86400"
CAP_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,199}")  # as server/channels/cap.py makes them
# Bare types: Flask adds "; charset=utf-8" to text/* and +xml itself (once more if written).
PHONE_TYPES = {"twiml": "text/xml", "ssml": "application/ssml+xml", "txt": "text/plain"}


def snapshot(site: str, name: str, mimetype: str, cors: bool = False):
    """A snapshot file with ETag, Last-Modified and conditional GET (304)."""
    folder: Path = current_app.extensions["exitnow"].snapshots.folder(site)
    path = folder / name
    if not folder.is_dir():
        raise NotFound(f"There is no site '{site}'.")
    if not path.is_file():
        raise NotFound(f"Site '{site}' has no {name} now.")
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=None)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if cors:
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def site_languages(site: str) -> list[str]:
    folder = current_app.extensions["exitnow"].snapshots.folder(site)
    return [lang for lang in LANGUAGES if (folder / f"status.{lang}.html").is_file()]


@public.get("/status/<site>.json")
def status_json(site: str):
    return snapshot(site, "status.json", "application/json", cors=True)


@public.get("/status/<site>")
def status_page(site: str):
    """The status page in ?lang=, else the browser's preferred language, else the site's first."""
    languages = site_languages(site)
    lang = request.args.get("lang")
    if lang not in languages:
        lang = request.accept_languages.best_match(languages) or (languages or ["fi"])[0]
    response = snapshot(site, f"status.{lang}.html", "text/html")
    response.headers["Content-Language"] = lang
    response.vary.add("Accept-Language")
    return response


@public.get("/embed/<site>/banner.js")
def banner(site: str):
    return snapshot(site, "banner.js", "text/javascript", cors=True)


def phone(site: str, lang: str, format: str):
    """Twilio fetches TwiML with POST (its webhook); other platforms GET SSML or text."""
    if lang not in LANGUAGES:
        raise NotFound(f"There is no phone message in '{lang}'.")
    return snapshot(site, f"phone.{lang}.{format}", PHONE_TYPES[format])


for _format in PHONE_TYPES:  # one plain rule per format, exactly as integrators write the URL
    public.add_url_rule(
        f"/phone/<site>/<lang>.{_format}",
        f"phone_{_format}",
        phone,
        methods=["GET", "POST"],
        defaults={"format": _format},
    )


@public.get("/screen/<site>")
def screen(site: str):
    """The queue-ticket screen: a page that follows the notice live (see pwa/js/screen.js)."""
    if not current_app.extensions["exitnow"].snapshots.folder(site).is_dir():
        raise NotFound(f"There is no site '{site}'.")
    return send_from_directory(PWA_DIR, "screen.html")


@public.get("/cap/<site>.xml")
def cap(site: str):
    return snapshot(site, "cap.xml", "application/cap+xml")


@public.get("/cap/<site>.atom")
def cap_feed(site: str):
    """The site's CAP alerts as an Atom feed (server/channels/atom.py), for those who poll."""
    return snapshot(site, "cap.atom", "application/atom+xml")


@public.get("/cap/<site>/<identifier>.xml")
def cap_message(site: str, identifier: str):
    """One CAP message of the feed, as it was issued."""
    if not CAP_IDENTIFIER.fullmatch(identifier):
        raise NotFound(f"There is no CAP message '{identifier}'.")
    return snapshot(site, f"cap/{identifier}.xml", "application/cap+xml")
