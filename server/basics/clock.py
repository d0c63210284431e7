"""Time as the log stores it (integer UTC milliseconds) and as the API shows it (ISO 8601).

The server's clock: the system clock read once when the process starts, moved on by the
monotonic clock. So a step of the system clock (NTP setting it, an operator's `date -s`) does
not make a timer fire early or never, a duration come out negative, or the log's times go
back. The step is watched and logged (`clock.stepped`, server/timers.py); the server follows
a step forward once no incident is on, and a step back never (its clock runs on from where
the log is; the system clock catches up).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A step of the system clock this big or more is logged; less is NTP's ordinary correction.
STEP_MS = 2000


class _ServerClock:
    def __init__(self):
        self.set(system_ms())

    def set(self, ms: int) -> None:
        self.anchor = (ms, time.monotonic_ns())  # one tuple: read and replaced at once

    def now_ms(self) -> int:
        ms, monotonic_ns = self.anchor
        return ms + (time.monotonic_ns() - monotonic_ns) // 1_000_000


def system_ms() -> int:
    """The system clock, which NTP or an operator may step: for what a clock elsewhere
    checks (signatures' times), never for a duration."""
    return time.time_ns() // 1_000_000


_clock = _ServerClock()


def now_ms() -> int:
    """The server's time: the log's times, deadlines, waits and durations."""
    return _clock.now_ms()


def step_ms() -> int:
    """How far the system clock stands from the server's (positive: ahead of it)."""
    return system_ms() - _clock.now_ms()


def follow_system_clock(at_least_ms: int = 0) -> None:
    """Set the server's clock to the system clock, but never before `at_least_ms` (the log's
    latest time): at the start, and after a step forward once no incident is on."""
    _clock.set(max(system_ms(), at_least_ms))


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
