"""The notice's sentences in one language, from texts/<lang>.json and the site's own wording.

Whole sentences only, with {placeholders}: code never glues translated fragments together.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..names import LANGUAGES
from . import PublicNotice

logger = logging.getLogger(__name__)

TEXTS_DIR = Path(__file__).resolve().parent.parent / "texts"


@cache
def default_texts(lang: str) -> dict:
    return json.loads((TEXTS_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def merged(base: dict, override: dict) -> dict:
    """Deep-merge a site's overrides into the defaults."""
    result = dict(base)
    for key, value in override.items():
        is_nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        result[key] = merged(base[key], value) if is_nested else value
    return result


def local_time(notice: PublicNotice, ms: int | None) -> str:
    """HH:MM in the site's time zone (the time people in the building see on the wall)."""
    if ms is None:
        return ""
    try:
        zone = ZoneInfo(notice.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.fromtimestamp(ms / 1000, tz=zone).strftime("%H:%M")


def notice_texts(notice: PublicNotice, lang: str) -> dict:
    """The notice's sentences in `lang`: headline, body, and for a closure since/eta/apology.

    `lines` is every sentence after the headline, in reading order.
    """
    try:
        return _rendered(notice, lang, notice.settings.texts.get(lang, {}))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        # A site's own wording is checked when it is imported; should one still fail, the
        # notice goes out in the default wording rather than not at all.
        logger.exception(
            "the own wording of site %s (%s) failed; using the default", notice.site, lang
        )
        return _rendered(notice, lang, {})


def _rendered(notice: PublicNotice, lang: str, own_wording: dict) -> dict:
    texts = merged(default_texts(lang), own_wording)
    values = {
        "site": notice.site_name,
        "time": local_time(notice, notice.since),
        "eta": local_time(notice, notice.eta),
    }
    if notice.state == "closed":
        wording = texts["closed"].get(notice.kind) or texts["closed"]["evacuation"]
        extra = [texts["since"], texts["eta"] if notice.eta else texts["no_eta"], texts["apology"]]
    else:
        wording, extra = texts[notice.state], []
    headline = wording["headline"].format(**values)
    lines = [wording["body"].format(**values)] + [line.format(**values) for line in extra]
    return {
        "lang": lang,
        "locale": texts["locale"],
        "language_name": texts["language_name"],
        "headline": headline,
        "lines": lines,
        "text": " ".join(lines),
        "page_title": texts["page_title"].format(**values),
        "updated": texts["updated"].format(time=local_time(notice, notice.updated)),
        "other_languages": texts["other_languages"],
        "phone_leave_message": texts["phone_leave_message"],
        "phone_goodbye": texts["phone_goodbye"],
        "screen_now_serving": texts["screen_now_serving"],
        "screen_welcome": texts["screen_welcome"],
    }


def site_languages(notice: PublicNotice) -> list[str]:
    """The site's languages that we have texts for, in the site's order."""
    return [lang for lang in notice.languages if lang in LANGUAGES] or list(LANGUAGES)
