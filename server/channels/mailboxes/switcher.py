"""The email channel: each customer-service mailbox of a site (notices.email) follows the
site's public notice in the background, never on the alarm's path and never inside a
transaction.

Every second each worker looks for a mailbox behind its site's notice (`done_version` below
the notice's version). It takes it with a lease (so two workers never switch one at once),
reads the newest notice (a mailbox that fell behind catches up to it, rather than replaying
each change) and asks the provider:

- closed: the first time, the mailbox's own automatic reply is read and kept, sealed, in
  `mailbox_replies` (working memory: not in the log, so no report or bundle carries the
  customer's text); then ours is set, and read back, to know it again later;
- restored or open: the earlier reply is put back exactly, unless the mailbox no longer holds
  ours (someone changed it during the incident): then theirs stays (`notice.reply_kept`).

Each outcome is an event: `notice.switched` (channel email) when the mailbox took it,
`notice.switch_failed` for each failed attempt, which is tried again after
EXITNOW_EMAIL_RETRY_SECONDS, doubling up to EXITNOW_EMAIL_RETRY_MAX_SECONDS, or when a 429
says (Retry-After). A 401 is tried at once with a fresh token (the providers do that).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import uuid

from ...basics import sealed
from ...basics.clock import now_ms
from ...basics.settings import secret_key_for
from ...basics.tasks import kept_alive, run_together
from ...store.log import canonical_json
from .. import load_notice
from ..email import auto_reply
from . import ProviderError, providers_for
from .checks import check_due
from .sieve import with_password

logger = logging.getLogger(__name__)
POLL_SECONDS = 1.0
LEASE_MS = 120_000  # longer than one attempt may take (a token, a read, a write, a read)


class MailboxSwitcher:
    def __init__(self, settings, record_switch=None, providers: dict | None = None):
        """`record_switch(site, outcome)` logs each attempt's outcome (server/policies.py)."""
        self.record_switch = record_switch
        self.worker = uuid.uuid4().hex[:16]
        self.providers = providers or providers_for(settings)

    def run_forever(self, services) -> None:
        """The worker's loop (started by server/timers.py in every server process)."""
        while True:
            with kept_alive(services.store, "switching the mailboxes' automatic replies"):
                while self.switch_due(services):
                    pass
                check_due(services, self.providers)  # readiness, before any alarm
            services.socketio.sleep(POLL_SECONDS)

    def switch_due(self, services) -> int:
        """Claim every mailbox due now and switch them side by side; how many were tried."""
        with services.store.reading() as db:
            due = mailboxes_due(db, now_ms())
        if not due:
            return 0
        claimed = services.writer.submit(lambda db: (self._claim(db, due), []))
        attempts = [functools.partial(self._attempt, services, claim) for claim in claimed]
        run_together(services.socketio.start_background_task, attempts)
        return len(claimed)

    def _claim(self, db, due: list[dict]) -> list[dict]:
        """Lease each due mailbox that still needs the provider; one that only has to mark a
        notice seen (nothing of ours to set or take back) is marked here."""
        now, claimed = now_ms(), []
        for mailbox in due:
            key = [mailbox["site"], mailbox["mailbox"]]
            db.execute(
                "INSERT INTO mailbox_replies (site, mailbox, provider) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [*key, mailbox["provider"]],
            )
            row = next(
                db.query("SELECT * FROM mailbox_replies WHERE site = ? AND mailbox = ?", key)
            )
            if row["next_at"] > now or (row["lease_until"] or 0) >= now:
                continue
            if mailbox["state"] != "closed" and row["earlier_sealed"] is None:
                db.execute(
                    "UPDATE mailbox_replies SET done_version = ?, attempts = 0 "
                    "WHERE site = ? AND mailbox = ?",
                    [mailbox["version"], *key],
                )
                continue
            db.execute(
                "UPDATE mailbox_replies SET leased_by = ?, lease_until = ?, provider = ? "
                "WHERE site = ? AND mailbox = ?",
                [self.worker, now + LEASE_MS, mailbox["provider"], *key],
            )
            claimed.append({**mailbox, "row": row})
        return claimed

    def _attempt(self, services, claim: dict) -> None:
        site, row = claim["site"], claim["row"]
        with services.store.reading() as db:
            notice = load_notice(db, site, services.settings.base_url)
            mailbox = with_password(db, services.settings, site, claim["entry"])
        provider = self.providers[claim["provider"]]
        outcome = {
            "mailbox": claim["mailbox"],
            "provider": claim["provider"],
            "state": notice.state,
            "version": notice.version,
            "incident_id": notice.incident_id,
        }
        secret = secret_key_for(services.settings)
        keep = _sealing(secret, site, claim["mailbox"])
        try:
            if notice.state == "closed":
                if row["earlier_sealed"] is None:  # read before our first change, and kept
                    earlier = keep(provider.read(mailbox))
                    self._update(services, site, claim["mailbox"], earlier_sealed=earlier)
                status = provider.write(mailbox, auto_reply(notice))
                ours = digest(provider.read(mailbox))
                self._record(
                    services,
                    site,
                    {**outcome, "outcome": "switched", "status": status, "reply": "ours"},
                )
                self._update(
                    services,
                    site,
                    claim["mailbox"],
                    done_version=notice.version,
                    ours_digest=ours,
                    attempts=0,
                    next_at=0,
                )
                return
            earlier = sealed.unseal(
                secret, _seal_key(site, claim["mailbox"]), row["earlier_sealed"]
            )
            current = provider.read(mailbox)
            if row["ours_digest"] is not None and digest(current) != row["ours_digest"]:
                self._record(services, site, {**outcome, "outcome": "kept_theirs"})
            elif digest(current) == digest(earlier):
                self._record(
                    services,
                    site,
                    {
                        **outcome,
                        "outcome": "switched",
                        "status": None,
                        "reply": _earlier_kind(earlier),
                    },
                )
            else:
                status = provider.put_back(mailbox, earlier)
                self._record(
                    services,
                    site,
                    {
                        **outcome,
                        "outcome": "switched",
                        "status": status,
                        "reply": _earlier_kind(earlier),
                    },
                )
            self._update(
                services,
                site,
                claim["mailbox"],
                done_version=notice.version,
                earlier_sealed=None,
                ours_digest=None,
                attempts=0,
                next_at=0,
            )
        except ProviderError as failure:
            self._failed(services, claim, outcome, failure)

    def _failed(self, services, claim: dict, outcome: dict, failure: ProviderError):
        settings = services.settings
        attempt = claim["row"]["attempts"] + 1
        wait = failure.retry_after
        if wait is None:
            wait = min(
                settings.email_retry_seconds * 2 ** (attempt - 1), settings.email_retry_max_seconds
            )
        retry_at = now_ms() + int(wait * 1000)
        logger.warning("mailbox %s of site %s: %s", claim["mailbox"], claim["site"], failure.error)
        self._record(
            services,
            claim["site"],
            {
                **outcome,
                "outcome": "failed",
                "status": failure.status,
                "error": failure.error,
                "attempt": attempt,
                "retry_at": retry_at,
            },
        )
        self._update(services, claim["site"], claim["mailbox"], attempts=attempt, next_at=retry_at)

    def _record(self, services, site: str, outcome: dict) -> None:
        self.record_switch(site, outcome)

    def _update(self, services, site: str, mailbox: str, **values) -> None:
        """Change the mailbox's working row (columns named by this module only) and let go
        of the lease."""
        columns = ", ".join(f"{name} = ?" for name in values)

        def write(db):
            db.execute(
                f"UPDATE mailbox_replies SET {columns}, leased_by = NULL, lease_until = NULL "
                "WHERE site = ? AND mailbox = ?",
                [*values.values(), site, mailbox],
            )
            return None, []

        services.writer.submit(write)


def mailboxes_due(db, now: int) -> list[dict]:
    """Every mailbox behind its site's notice: those the sites list, and those that still
    hold our reply though no longer listed (their earlier reply must go back)."""
    due = []
    rows = db.execute(
        """SELECT s.id, s.settings, COALESCE(n.version, 0), COALESCE(n.state, 'open')
           FROM sites s LEFT JOIN public_notices n ON n.site = s.id
           WHERE json_extract(s.settings, '$.notices.email') IS NOT NULL
              OR s.id IN (SELECT site FROM mailbox_replies WHERE earlier_sealed IS NOT NULL)"""
    ).fetchall()
    for site, settings, version, state in rows:
        listed = {
            entry["mailbox"]: entry
            for entry in (json.loads(settings).get("notices") or {}).get("email") or []
        }
        known = {
            row["mailbox"]: row
            for row in db.query("SELECT * FROM mailbox_replies WHERE site = ?", [site])
        }
        for address in {*listed, *(m for m, r in known.items() if r["earlier_sealed"])}:
            row = known.get(address)
            entry = listed.get(address) or {"mailbox": address, "provider": row["provider"]}
            if row is not None and (
                row["done_version"] >= version
                or row["next_at"] > now
                or (row["lease_until"] or 0) >= now
            ):
                continue
            if address not in listed and state == "closed":
                continue  # no longer listed: only its earlier reply goes back, at the end
            due.append(
                {
                    "site": site,
                    "mailbox": address,
                    "provider": entry["provider"],
                    "entry": entry,
                    "version": version,
                    "state": state,
                }
            )
    return due


def digest(reply: dict) -> str:
    """A mailbox's reply as the provider showed it, to know it again."""
    return hashlib.sha256(canonical_json(reply).encode()).hexdigest()


def _seal_key(site: str, mailbox: str) -> str:
    return f"mailbox:{site}:{mailbox.lower()}:earlier"


def _sealing(secret: str, site: str, mailbox: str):
    return lambda reply: sealed.seal(secret, _seal_key(site, mailbox), reply)


def _earlier_kind(earlier: dict) -> str:
    """What the mailbox says again: its own earlier reply, or none (off)."""
    is_on = (
        earlier.get("status") not in (None, "disabled")  # Graph
        if "status" in earlier
        else earlier.get("enableAutoReply")  # Gmail
        if "enableAutoReply" in earlier
        else earlier.get("active")  # Sieve: a script was active
    )
    return "earlier" if is_on else "off"
