"""The current CAP 1.2 alert of a site (/cap/<site>.xml), for signage and alerting systems.

One incident is one chain of messages: an Alert when the channels close, an Update whenever the
notice changes after that (a new estimated reopening time), and a Cancel at the all-clear; each
later message references every message of the chain before it (CAP 1.2 3.2.1 `references`:
the Cancel must reach a system that saw only an Update). No current alert (plain "open") means
no document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from . import PublicNotice
from .render import render
from .texts import notice_texts, site_languages

# OASIS CAP 1.2 categories for our kinds of incident.
CATEGORIES = {
    "fire": "Fire",
    "evacuation": "Safety",
    "threat": "Security",
    "power_outage": "Infra",
    "shelter": "Safety",
}


def cap_time(ms: int) -> str:
    """CAP's dateTime: whole seconds and an explicit offset ("Z" is not allowed)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def sender(notice: PublicNotice) -> str:
    """CAP 1.2 wants the sender globally unique, "e.g. based on an Internet domain name": the
    site at the deployment's public host (no spaces, commas or restricted characters)."""
    return f"{notice.site}@{urlsplit(notice.public_url).hostname or 'exitnow.invalid'}"


def first_alert(notice: PublicNotice) -> dict:
    """The Alert that opened this incident's chain: what Updates and the Cancel reference."""
    return {
        "identifier": f"exitnow-{notice.site}-incident-{notice.incident_id}",
        "sent": cap_time(notice.incident_started),
    }


def _update(notice: PublicNotice, version: int, sent: int) -> dict:
    return {"identifier": f"{first_alert(notice)['identifier']}-v{version}", "sent": cap_time(sent)}


def references(notice: PublicNotice) -> str:
    """Every earlier message of the chain as CAP writes them: "sender,identifier,sent" each,
    separated by spaces, the Alert first."""
    earlier = [
        first_alert(notice) if sent == notice.incident_started else _update(notice, version, sent)
        for version, sent in notice.cap_chain
    ] or [first_alert(notice)]
    return " ".join(f"{sender(notice)},{m['identifier']},{m['sent']}" for m in earlier)


def message(notice: PublicNotice) -> dict:
    """identifier, sent, msgType and references of the current message."""
    first = first_alert(notice)
    if notice.state == "closed" and notice.updated == notice.incident_started:
        return {**first, "msg_type": "Alert", "references": None}
    references_ = references(notice)
    if notice.state == "restored":
        identifier = f"{first['identifier']}-cancel"
        return {
            "identifier": identifier,
            "sent": cap_time(notice.since),
            "msg_type": "Cancel",
            "references": references_,
        }
    return {
        **_update(notice, notice.version, notice.updated),
        "msg_type": "Update",
        "references": references_,
    }


def cap_xml(notice: PublicNotice) -> bytes | None:
    if notice.state == "open" or notice.incident_id is None:
        return None
    return render(
        "cap.xml",
        notice=notice,
        sender=sender(notice),
        message=message(notice),
        category=CATEGORIES.get(notice.kind, "Safety"),
        expires=cap_time(notice.eta) if notice.eta and notice.state == "closed" else None,
        infos=[notice_texts(notice, lang) for lang in site_languages(notice)],
    )
