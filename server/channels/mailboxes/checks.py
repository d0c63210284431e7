"""Before any alarm: whether each listed mailbox's credentials work, so that a duty manager
learns it from readiness (GET /api/sites/<site>/readiness) rather than from the first
incident. Tried in the background by the switcher's loop, never on a request's path: each
mailbox every EXITNOW_EMAIL_CHECK_SECONDS (at once when newly listed), by reading its
automatic reply as a switch would (the answer is thrown away: it is the customer's text).

For Microsoft 365, when EXITNOW_MS_UNLISTED_MAILBOX names a mailbox no site lists, the same
app also tries to read that one: if it can, no Exchange application access policy limits it
to the listed mailboxes, and readiness warns (docs/public-channels.md, "The email channel").

The outcome is working memory (`mailbox_checks`), not a fact for the log: it says how things
stood at the last try, and is tried again.
"""

from __future__ import annotations

import functools
import json
import logging

from ...basics.clock import iso, now_ms
from ...basics.tasks import run_together
from . import ProviderError
from .sieve import with_password

logger = logging.getLogger(__name__)
# Why a mailbox is not ready (the PWA's mailboxes.reason.*).
REASONS = (
    "not_configured",  # this server has no credentials for the provider
    "token_refused",  # the sign-in (token endpoint) refused them
    "access_refused",  # signed in, but 401/403 on the mailbox's settings
    "login_refused",  # ManageSieve refused the login
    "not_found",  # no such mailbox
    "unreachable",  # refused connection, timeout
    "failing",  # the provider answers 429 or 5xx
)


def reason_of(failure: ProviderError) -> str:
    if failure.during == "configuration":
        return "not_configured"
    if failure.during == "login":
        return "login_refused"
    if failure.status is None:
        return "unreachable"
    if failure.during == "token":
        return "token_refused" if failure.status < 500 else "failing"
    if failure.status in (401, 403):
        return "access_refused"
    return "not_found" if failure.status == 404 else "failing"


def check_due(services, providers: dict) -> int:
    """Claim the mailboxes whose check is due and try them side by side; how many."""
    interval = int(services.settings.email_check_seconds * 1000)
    claimed = services.writer.submit(lambda db: (_claim(db, now_ms(), interval), []))
    tries = [functools.partial(_check, services, providers, claim) for claim in claimed]
    run_together(services.socketio.start_background_task, tries)
    return len(claimed)


def _claim(db, now: int, interval: int) -> list[dict]:
    """Each listed mailbox never tried with its provider, or tried `interval` ago: its next
    try is set now, so that no other worker takes it too."""
    claimed = []
    for site, entry in _listed(db):
        key = [site, entry["mailbox"]]
        row = next(
            db.query("SELECT * FROM mailbox_checks WHERE site = ? AND mailbox = ?", key), None
        )
        if row is not None and row["provider"] == entry["provider"] and row["next_at"] > now:
            continue
        db.execute(
            """INSERT INTO mailbox_checks (site, mailbox, provider, next_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (site, mailbox) DO UPDATE SET provider = excluded.provider,
               next_at = excluded.next_at""",
            [*key, entry["provider"], now + interval],
        )
        claimed.append({"site": site, "entry": entry})
    return claimed


def _listed(db):
    rows = db.execute(
        "SELECT id, settings FROM sites WHERE json_extract(settings, '$.notices.email') IS NOT NULL"
    )
    for site, settings in rows.fetchall():
        for entry in (json.loads(settings).get("notices") or {}).get("email") or []:
            yield site, entry


def _check(services, providers: dict, claim: dict) -> None:
    entry, provider = claim["entry"], providers[claim["entry"]["provider"]]
    reason = status = warning = None
    try:
        with services.store.reading() as db:
            credentials = with_password(db, services.settings, claim["site"], entry)
        provider.read(credentials)  # thrown away: the customer's own text
    except ProviderError as failure:
        reason, status = reason_of(failure), failure.status
        logger.warning("mailbox %s of %s: %s", entry["mailbox"], claim["site"], failure.error)
    unlisted = services.settings.ms_unlisted_mailbox
    if reason is None and entry["provider"] == "microsoft365" and unlisted:
        warning = "reaches_unlisted" if provider.can_read(unlisted) else None

    def write(db):
        db.execute(
            """UPDATE mailbox_checks SET checked_at = ?, reason = ?, status = ?, warning = ?
               WHERE site = ? AND mailbox = ? AND provider = ?""",
            [now_ms(), reason, status, warning, claim["site"], entry["mailbox"], entry["provider"]],
        )
        return None, []

    services.writer.submit(write)


def mailbox_readiness(db, site: str, settings) -> list[dict]:
    """Each mailbox the site lists: `ready` (None until first tried), why not, and a warning
    when the app reaches more than it should."""
    row = next(db.query("SELECT settings FROM sites WHERE id = ?", [site]), None)
    listed = (json.loads(row["settings"] or "{}").get("notices") or {}).get("email") or []
    checks = {
        (r["mailbox"], r["provider"]): r
        for r in db.query("SELECT * FROM mailbox_checks WHERE site = ?", [site])
    }
    views = []
    for entry in listed:
        check = checks.get((entry["mailbox"], entry["provider"])) or {}
        tried = check.get("checked_at") is not None
        views.append(
            {
                "mailbox": entry["mailbox"],
                "provider": entry["provider"],
                "ready": (check["reason"] is None) if tried else None,
                "reason": check.get("reason"),
                "status": check.get("status"),
                "checked_at": iso(check.get("checked_at")),
                "warning": {"reason": check["warning"], "mailbox": settings.ms_unlisted_mailbox}
                if check.get("warning")
                else None,
            }
        )
    return views
