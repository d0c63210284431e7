"""The status page (/status/<site>, one HTML file per language) and status.json."""

from __future__ import annotations

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
    }


def _public_text(notice: PublicNotice, lang: str) -> dict:
    texts = notice_texts(notice, lang)
    return {"headline": texts["headline"], "lines": texts["lines"], "text": texts["text"]}


def status_json(notice: PublicNotice) -> bytes:
    return json_bytes(status_document(notice))


def status_html(notice: PublicNotice, lang: str) -> bytes:
    others = [notice_texts(notice, other) for other in site_languages(notice) if other != lang]
    return render(
        "status.html",
        notice=notice,
        texts=notice_texts(notice, lang),
        others=others,
        refresh_seconds=REFRESH_SECONDS,
    )
