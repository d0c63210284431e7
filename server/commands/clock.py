"""The system clock stepped: logged on each site by the server's watch (server/timers.py),
so the report can say when and by how much."""

from __future__ import annotations

from ..rules.auth import ADMINS
from . import Tx, command
from .fields import Field


@command(
    "record_clock_step",
    ADMINS,
    ms=Field("int", required=True),
    back=Field("bool", required=True),
    system_ms=Field("int", required=True),
)
def record_clock_step(tx: Tx, params: dict) -> dict:
    """The server's watch saw the system clock step `ms` forward (or `back`) from the
    server's own, which runs on evenly (server/basics/clock.py)."""
    by_ms = -params["ms"] if params["back"] else params["ms"]
    payload = {"by_ms": by_ms, "system_ms": params["system_ms"], "seen_by": "watch"}
    return tx.changed(tx.record("clock.stepped", payload))
