"""The notice's sentences in one language, from texts/<lang>.json and the site's own wording.

Whole sentences only, with {placeholders}: code never glues translated fragments together.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import cache
from pathlib import Path

from babel.dates import format_datetime

from ..basics.clock import time_zone
from ..basics.names import GATHERING_UNSAID, LANGUAGES
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


def local_time(notice: PublicNotice, ms: int | None, clock: dict, locale: str) -> str:
    """The time of day in the site's time zone as the language writes it ("10.00" in Finnish,
    "10:00" in English: the CLDR pattern of texts' `clock.time`)."""
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, tz=time_zone(notice.timezone))
    return format_datetime(moment, clock["time"], locale=locale)


def local_moment(notice: PublicNotice, ms: int | None, texts: dict) -> str:
    """A moment of the notice as a sentence says it (see moment_words)."""
    if ms is None:
        return ""
    return moment_words(ms, notice.timezone, texts, notice.now)


def moment_words(ms: int, zone_name: str | None, texts: dict, now: int) -> str:
    """A moment as a sentence says it: "klo 10.00" when it is on the day of `now` in the
    site's zone, with its date on any other day ("keskiviikkona 6.5. klo 10.00"), however far
    ahead or back, and its year in another year."""
    clock, locale = texts["clock"], texts["locale"].replace("-", "_")
    zone = time_zone(zone_name)
    day = datetime.fromtimestamp(ms / 1000, tz=zone)
    today = datetime.fromtimestamp(now / 1000, tz=zone).date()
    time = format_datetime(day, clock["time"], locale=locale)
    if day.date() == today:
        return clock["today"].format(time=time)
    pattern = clock["date"] if day.year == today.year else clock["date_other_year"]
    date = format_datetime(day, pattern, locale=locale)
    return clock["other_day"].format(time=time, date=date)


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
    clock, locale = texts["clock"], texts["locale"].replace("-", "_")
    values = {
        "site": notice.site_name,
        # {when} and {eta_when} carry the date when it is not today; {time} and {eta}, the
        # bare times, are kept for a site's own wording written before them.
        "when": local_moment(notice, notice.since, texts),
        "eta_when": local_moment(notice, notice.eta, texts),
        "time": local_time(notice, notice.since, clock, locale),
        "eta": local_time(notice, notice.eta, clock, locale),
    }
    wording, extra = _wording(notice, texts)
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
        "updated": texts["updated"].format(when=local_moment(notice, notice.updated, texts)),
        "other_languages": texts["other_languages"],
        "phone_leave_message": texts["phone_leave_message"],
        "phone_goodbye": texts["phone_goodbye"],
        "email_read_more": texts["email_read_more"],
        "email_no_reply_needed": texts["email_no_reply_needed"],
        "screen_now_serving": texts["screen_now_serving"],
        "screen_welcome": texts["screen_welcome"],
        "inside": inside_texts(notice, texts, lang),
    }


def _wording(notice: PublicNotice, texts: dict) -> tuple[dict, list[str]]:
    """The notice's headline and body, and the sentences after them: a drill says so, and the
    all-clear of a false alarm says that it was one, for as long as "open again" shows."""
    if notice.state == "closed":
        if notice.drill:
            wording = texts["closed_drill"]
        else:
            wording = texts["closed"].get(notice.kind) or texts["closed"]["evacuation"]
        return wording, [
            texts["since"],
            texts["eta"] if notice.eta else texts["no_eta"],
            texts["apology"],
        ]
    if notice.state == "restored" and notice.drill:
        return texts["restored_drill"], []
    if notice.state == "restored" and notice.end_reason == "false_alarm":
        return texts["restored_false_alarm"], []
    return texts[notice.state], []


def inside_texts(notice: PublicNotice, texts: dict, lang: str) -> dict | None:
    """What the queue screens say to the people already inside while closed: leave now (or
    stay inside), the customer script of the kind, and the words for the exits and assembly
    point, which each screen fills in for its zone (pwa/js/screen.js). None when open."""
    if notice.state != "closed":
        return None
    screen = texts["screen"]
    kind = notice.kind if notice.kind in screen["headline"] else "evacuation"
    script = merged(texts["script"], notice.scripts.get(lang, {})).get(kind, {})
    return {
        "headline": screen["headline"][kind],
        "lines": list(script.get("lines", [])),
        "drill": screen["drill"] if notice.drill else None,
        # Sheltering in place: no exits to show; a threat: nothing says where people go.
        "way_out": kind not in GATHERING_UNSAID,
        "nearest_exit": screen["nearest_exit"],
        "exits": screen["exits"],
        "assembly_point": screen["assembly_point"],
    }


def site_languages(notice: PublicNotice) -> list[str]:
    """The site's languages that we have texts for, in the site's order."""
    return [lang for lang in notice.languages if lang in LANGUAGES] or list(LANGUAGES)
