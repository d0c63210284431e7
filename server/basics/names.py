"""The ids people choose for sites and zones, the closed sets of words every part shares
(languages, incident kinds, all-clear reasons), and the values any JSON input may hold: one
rule each, for the API, the socket, site files, the file names built from them and the app
(served to it at GET /api/vocabulary)."""

from __future__ import annotations

import re

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
SLUG_RULE = "a-z, 0-9, '-' and '_', starting with a letter or digit, at most 40"

# Here, in the lowest module (it imports nothing of ours), because commands, site files, the
# public notices, push and the API all check against them. Each language has its sentences in
# server/texts/<lang>.json (with its name in itself, "language_name") and pwa/texts/<lang>.json;
# a new site gets them all, in this order.
LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"  # a person's, when none is given
KINDS = ("fire", "evacuation", "threat", "power_outage", "shelter")  # of incident
END_REASONS = ("resolved", "false_alarm", "drill_over")  # of an all-clear


def end_reasons_for(drill: bool) -> tuple[str, ...]:
    """A drill ends only as "drill over", and a real alarm never does: the report and every
    public channel say which it was."""
    return ("drill_over",) if drill else ("resolved", "false_alarm")


STAY_INSIDE = frozenset({"shelter"})  # kinds that keep people in: nobody is sent out
# Kinds during which nothing public, no SMS and no sign names the exits or where people
# gather: whoever threatens the site must not learn where to find them.
GATHERING_UNSAID = frozenset({"threat", "shelter"})

LARGEST_INTEGER = 2**63 - 1  # what SQLite stores
DEEPEST_NESTING = 32
# Tab, line feed and carriage return may stand in text (a script's lines); no other control
# character, and no lone surrogate (half of a UTF-16 pair, which no UTF-8 text can hold).
# CONTROL_CHARACTERS is also the OpenAPI document's pattern for text (as a character class).
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
FORBIDDEN_CHARACTERS = re.compile(rf"[{CONTROL_CHARACTERS}\ud800-\udfff]")


def is_slug(value) -> bool:
    return isinstance(value, str) and SLUG.fullmatch(value) is not None


def problem_in(value, depth: int = 0) -> str | None:
    """What makes a decoded JSON value unfit to store, or None: numbers SQLite cannot hold,
    nesting deeper than any command needs, control characters or lone surrogates in text."""
    if depth > DEEPEST_NESTING:
        return f"The JSON is nested more than {DEEPEST_NESTING} levels deep."
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if abs(value) > LARGEST_INTEGER:
            return f"A number is larger than {LARGEST_INTEGER}."
        return None
    if isinstance(value, float):
        return None if value == value and abs(value) != float("inf") else "A number is not finite."
    if isinstance(value, str):
        if FORBIDDEN_CHARACTERS.search(value):
            return "Text holds a control character or half of a UTF-16 surrogate pair."
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        problem = problem_in(key, depth + 1) if isinstance(key, str) else None
        problem = problem or problem_in(item, depth + 1)
        if problem:
            return problem
    return None
