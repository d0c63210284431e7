"""Time as the log stores it (integer UTC milliseconds) and as the API shows it (ISO 8601)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int | None) -> str | None:
    """UTC ISO 8601 with milliseconds and a Z, or None."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> int:
    """ISO 8601 with a time zone -> UTC milliseconds; ValueError when unreadable or naive."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time zone missing")
    return int(moment.timestamp() * 1000)
