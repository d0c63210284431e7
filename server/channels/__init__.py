"""What the public sees: one notice per site (open, closed, restored), rendered to every public
channel as plain files that any static server can keep serving when the app is down.

This package holds the notice (here), its sentences in every language (texts), each channel's
rendering (status, banner, cap, atom, phone, email, render and templates/), the snapshot files
(snapshots), and the customer-service mailboxes' automatic replies (mailboxes/).

May import: server.basics, server.rules, server.store, server.evidence, server.operations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from ..basics.clock import now_ms
from ..basics.names import GATHERING_UNSAID
from ..evidence.checkpoints import latest_note

# The public channels; each switch of each one is a `notice.switched` event in the log.
CHANNELS = ("status_page", "banner", "phone_queue", "queue_screen", "alert_feed")
STATES = ("open", "closed", "restored")
EMAIL_PROVIDERS = ("microsoft365", "gmail", "sieve")  # server/channels/mailboxes/


@dataclass(frozen=True)
class NoticeSettings:
    """A site's public-channel settings (sites.settings["notices"]); defaults need no set-up."""

    public_on_drill: bool = False  # does a drill close the public channels too?
    restored_minutes: int = 30  # how long "open again at HH:MM" shows before plain "open"
    phone_when_closed: str = "hangup"  # or "voicemail": offer to leave a message
    phone_open_redirect: str = ""  # TwiML <Redirect> target for the normal call flow
    voices: dict = field(
        default_factory=lambda: {"fi": "Polly.Suvi", "sv": "Polly.Astrid", "en": "Polly.Amy"}
    )
    texts: dict = field(
        default_factory=dict
    )  # {lang: {key: sentence}} overriding texts/<lang>.json
    screen_normal_url: str = ""  # what the queue screen shows when open (an iframe), if anything
    # The customer-service mailboxes whose automatic reply says the notice:
    # [{"provider": "microsoft365" | "gmail" | "sieve", "mailbox": "service@shop.example"}]
    email: list = field(default_factory=list)

    @classmethod
    def from_json(cls, raw: dict | None) -> NoticeSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (raw or {}).items() if k in known})


@dataclass(frozen=True)
class PublicNotice:
    """One site's public notice at one version: everything a channel renders from."""

    site: str
    site_name: str
    timezone: str
    languages: list
    state: str
    since: int | None  # ms: closed since, or restored at
    eta: int | None  # ms: expected reopening, when the duty manager set one
    kind: str | None
    drill: bool
    incident_id: int | None
    incident_started: int | None  # ms: when the incident that closed us started (= closed at)
    version: int  # increases with every change: CAP identifiers and ETags follow it
    updated: int  # ms
    settings: NoticeSettings
    checkpoint: str | None = None  # the newest signed checkpoint of the site's log
    end_reason: str | None = None  # the all-clear's reason, once restored (false_alarm, ...)
    # When the words are rendered: a moment on another day than this one is said with its date.
    rendered_at: int | None = None
    zones: tuple = ()  # ({id, name, exits, assembly_point}, ...): the queue screens' way out
    scripts: dict = field(default_factory=dict)  # the site's own customer scripts {lang: {kind}}
    # The deployment's public address (EXITNOW_PUBLIC_URL): CAP's sender and the feed's links.
    public_url: str = "http://exitnow.invalid"
    # The CAP messages of this incident before this one: ((version, sent ms), ...), the
    # Alert first; what an Update or the Cancel references.
    cap_chain: tuple = ()

    @property
    def now(self) -> int:
        return self.rendered_at if self.rendered_at is not None else self.updated


def load_notice(db, site: str, public_url: str = "http://exitnow.invalid") -> PublicNotice:
    """The site's notice now (open, version 0, when nothing ever closed it)."""
    site_row = next(db.query("SELECT * FROM sites WHERE id = ?", [site]))
    row = next(db.query("SELECT * FROM public_notices WHERE site = ?", [site]), None)
    row = row or {
        "state": "open",
        "since": None,
        "eta": None,
        "kind": None,
        "drill": 0,
        "incident_id": None,
        "version": 0,
        "updated_at": site_row["created_at"],
    }
    incident = db.execute(
        "SELECT started_at, end_reason FROM incidents WHERE id = ?", [row["incident_id"]]
    ).fetchone()
    settings = json.loads(site_row["settings"])
    return PublicNotice(
        site=site,
        site_name=site_row["name"],
        timezone=site_row["timezone"],
        languages=json.loads(site_row["languages"]),
        state=row["state"],
        since=row["since"],
        eta=row["eta"],
        kind=row["kind"],
        drill=bool(row["drill"]),
        incident_id=row["incident_id"],
        incident_started=incident[0] if incident else None,
        version=row["version"],
        updated=row["updated_at"],
        settings=NoticeSettings.from_json(settings.get("notices")),
        checkpoint=latest_note(db, site),
        end_reason=incident[1] if incident else None,
        rendered_at=now_ms(),
        zones=tuple(_zones(db, site, tells_the_way_out=not _gathering_unsaid(row))),
        scripts=settings.get("scripts") or {},
        public_url=public_url.rstrip("/"),
        cap_chain=cap_chain(db, site, row["incident_id"], row["version"]),
    )


def cap_chain(db, site: str, incident_id: int | None, before_version: int) -> tuple:
    """The closed notices of the incident issued before `before_version`, oldest first: each
    was a CAP message (the first the Alert, then Updates) that a later one references."""
    if incident_id is None:
        return ()
    rows = db.execute(
        """SELECT ts, payload FROM events WHERE site = ? AND type = 'notice.issued'
           AND CAST(json_extract(payload, '$.incident_id') AS BIGINT) = ?
           AND json_extract(payload, '$.state') = 'closed'
           AND CAST(json_extract(payload, '$.version') AS BIGINT) < ? ORDER BY seq""",
        [site, incident_id, before_version],
    ).fetchall()
    return tuple((json.loads(payload)["version"], ts) for ts, payload in rows)


def _gathering_unsaid(row: dict) -> bool:
    """While a threat or shelter incident closes the site, nothing public names the exits or
    the assembly points: whoever threatens it must not learn where people gather."""
    return row["state"] == "closed" and row["kind"] in GATHERING_UNSAID


def _zones(db, site: str, tells_the_way_out: bool):
    rows = db.query(
        """SELECT z.id, z.name, z.exits, COALESCE(p.name, z.assembly_point) AS assembly_point
           FROM zones z LEFT JOIN assembly_points p ON p.site = z.site AND p.id = z.assembly_point
           WHERE z.site = ? ORDER BY z.position, z.id""",
        [site],
    )
    for zone in rows:
        yield {
            "id": zone["id"],
            "name": zone["name"],
            "exits": json.loads(zone["exits"]) if tells_the_way_out else [],
            "assembly_point": zone["assembly_point"] if tells_the_way_out else None,
        }
