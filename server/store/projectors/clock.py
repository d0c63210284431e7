"""A step of the server's clock (evidence only: no state changes)."""

from __future__ import annotations

from . import projects


@projects("clock.stepped")
def clock_stepped(db, event, p):
    """A fact for the report; the times of the state are the log's, which never go back."""
