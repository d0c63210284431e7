"""An Atom feed of a site's CAP alerts (/cap/<site>.atom), for signage and alerting systems that
poll: the latest messages of the site's CAP chains (Alert, Update, Cancel), newest first, each
entry linking its own CAP document, kept as it was issued (/cap/<site>/<identifier>.xml).

The history is the log's: each `notice.issued` that was not plain "open" is one CAP message.
Links are absolute, at the deployment's public address (EXITNOW_PUBLIC_URL), and the feed says
its own address in `xml:base` too: a reader that got the feed from a copy or a cache (no
address to resolve a relative link against) still finds each message.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

from ..basics.clock import parse_iso
from . import PublicNotice, cap_chain
from .cap import cap_time, cap_xml, message, sender
from .render import render
from .texts import notice_texts, site_languages

FEED_LENGTH = 20


def cap_history(db, notice: PublicNotice, limit: int = FEED_LENGTH) -> list[PublicNotice]:
    """The site's notices that were CAP messages, newest first: the current notice as it was
    at each `notice.issued` (the site's name, languages and wording as they are now)."""
    rows = db.execute(
        """SELECT ts, payload FROM events WHERE site = ? AND type = 'notice.issued'
           ORDER BY seq DESC LIMIT ?""",
        [notice.site, limit * 2],  # an "open" follows each restored notice
    ).fetchall()
    history = []
    for ts, payload in rows:
        issued = json.loads(payload)
        if issued["state"] == "open" or issued["incident_id"] is None:
            continue
        started = db.execute(
            "SELECT started_at FROM incidents WHERE id = ?", [issued["incident_id"]]
        ).fetchone()
        history.append(
            replace(
                notice,
                state=issued["state"],
                since=_ms(issued["since"]),
                eta=_ms(issued["eta"]),
                kind=issued["kind"],
                drill=bool(issued["drill"]),
                incident_id=issued["incident_id"],
                incident_started=started[0] if started else ts,
                version=issued["version"],
                updated=ts,
                cap_chain=cap_chain(db, notice.site, issued["incident_id"], issued["version"]),
            )
        )
    return history[:limit]


def _ms(text: str | None) -> int | None:
    return parse_iso(text) if text else None


def archive_name(issued: PublicNotice) -> str:
    """The file (and the URL's tail) of one CAP message: cap/<identifier>.xml."""
    return f"cap/{message(issued)['identifier']}.xml"


def cap_atom(notice: PublicNotice, history: list[PublicNotice]) -> bytes:
    lang = site_languages(notice)[0]
    entries = [
        {
            "id": _urn(f"{sender(issued)},{message(issued)['identifier']}"),
            "message": message(issued),
            "texts": notice_texts(issued, lang),
        }
        for issued in history
    ]
    updated = entries[0]["message"]["sent"] if entries else cap_time(notice.updated)
    return render(
        "cap.atom",
        notice=notice,
        lang=notice_texts(notice, lang)["locale"],
        feed_id=_urn(f"{sender(notice)},feed"),
        updated=updated,
        entries=entries,
    )


def archive_files(history: list[PublicNotice], missing_in: Path) -> dict[str, bytes]:
    """The CAP document of each message of `history` whose file `missing_in` lacks."""
    return {
        archive_name(issued): cap_xml(issued)
        for issued in history
        if not (missing_in / archive_name(issued)).exists()
    }


def _urn(name: str) -> str:
    """A stable, globally unique Atom id (RFC 4287 4.2.6) for a CAP sender's name."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"exitnow:{name}").urn
