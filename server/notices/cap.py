"""The current CAP 1.2 alert of a site (/cap/<site>.xml), for signage and alerting systems.

One incident is one chain of messages: an Alert when the channels close, an Update whenever the
notice changes after that (a new estimated reopening time), and a Cancel at the all-clear; each
later message references the first. No current alert (plain "open") means no document.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    return f"{notice.site}@exitnow"  # CAP: no spaces, commas or restricted characters


def first_alert(notice: PublicNotice) -> dict:
    """The Alert that opened this incident's chain: what Updates and the Cancel reference."""
    return {
        "identifier": f"exitnow-{notice.site}-incident-{notice.incident_id}",
        "sent": cap_time(notice.incident_started),
    }


def message(notice: PublicNotice) -> dict:
    """identifier, sent, msgType and references of the current message."""
    first = first_alert(notice)
    if notice.state == "closed" and notice.updated == notice.incident_started:
        return {**first, "msg_type": "Alert", "references": None}
    references = f"{sender(notice)},{first['identifier']},{first['sent']}"
    if notice.state == "restored":
        identifier = f"{first['identifier']}-cancel"
        return {
            "identifier": identifier,
            "sent": cap_time(notice.since),
            "msg_type": "Cancel",
            "references": references,
        }
    identifier = f"{first['identifier']}-v{notice.version}"
    return {
        "identifier": identifier,
        "sent": cap_time(notice.updated),
        "msg_type": "Update",
        "references": references,
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
