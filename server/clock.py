"""Time as the log stores it (integer UTC milliseconds) and as the API shows it (ISO 8601)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int | None) -> str | None:
    """UTC ISO 8601 with milliseconds and a Z, or None."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> int:
    """ISO 8601 with a time zone -> UTC milliseconds; ValueError when unreadable, naive, or
    not a time every clock can show again (in UTC between the years 1970 and 9998)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time zone missing")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-14:00 is in the year 10000
        raise ValueError("out of range") from None
    if not 1970 <= utc.year <= 9998:  # any zone's local time of it is a valid datetime too
        raise ValueError("out of range")
    return int(moment.timestamp() * 1000)


def time_zone(name: str | None) -> ZoneInfo:
    """The site's time zone by its IANA name; UTC when the name is unknown here, so that a
    report or a notice still shows a time rather than failing."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(ms: int, zone_name: str | None) -> str:
    """The date (YYYY-MM-DD) of a moment in a site's time zone."""
    return datetime.fromtimestamp(ms / 1000, tz=time_zone(zone_name)).date().isoformat()
