"""Reading the roll at the assembly point: the visitors on site, the people a marshal
accounts for, what the fire brigade asks (the unaccounted), a visitor's own visit, and each
assembly point's printable sign with its QR code."""

from __future__ import annotations

import json

from flask import Blueprint, g, jsonify, render_template, request

from ..basics.clock import now_ms
from ..basics.errors import Forbidden, NotFound
from ..basics.names import DEFAULT_LANGUAGE, LANGUAGES
from ..basics.qr import qr_svg
from ..basics.settings import secret_key_for
from ..channels.texts import default_texts
from ..commands.incidents import require_active_incident
from ..rules.auth import MANAGERS, RESPONDERS
from ..rules.mustering import is_marshal, muster_counts, roll, unaccounted, visitors_on_roll
from ..rules.visitors import visitor_asks, visitor_by_token
from ..store.state import active_incident, assembly_point_views, site_row
from . import api, authenticate, require_member, services

VISITOR_LINK_HEADER = "X-Visitor-Link"  # a visitor's personal token, never in a URL

# Printable pages outside /api that still need to know who asks: the same sign-in check.
signs = Blueprint("signs", __name__)
signs.before_request(authenticate)


@api.get("/sites/<site>/visitors")
def visitors(site: str):
    """The visitors and contractors on site now (reception: guard, duty manager, admin)."""
    with services().store.reading() as db:
        require_member(db, site, RESPONDERS, "the visitors")
        return jsonify({"visitors": visitors_on_roll(db, site, None, now_ms())})


@api.get("/sites/<site>/incidents/current/people")
def people_to_account_for(site: str):
    """Everyone on the incident's roll with how each was accounted for, the assembly points,
    and the counts: the marshal's screen (marshals only)."""
    with services().store.reading() as db:
        require_member(db, site)
        if not is_marshal(db, g.identity, site):
            raise Forbidden("Only a marshal can read the roll at the assembly point.")
        incident, now = require_active_incident(db, site), now_ms()
        return jsonify(
            {
                "incident_id": incident["id"],
                "assembly_points": assembly_point_views(db, site),
                "counts": muster_counts(db, site, incident, now),
                "people": roll(db, site, incident, now),
            }
        )


@api.get("/sites/<site>/incidents/current/unaccounted")
def unaccounted_people(site: str):
    """Who is not accounted for, with where each was last known to be, and the zones not
    swept clear: what the fire brigade asks on arrival (guard, duty manager, admin)."""
    with services().store.reading() as db:
        require_member(db, site, RESPONDERS, "the unaccounted")
        incident, now = require_active_incident(db, site), now_ms()
        return jsonify(
            {
                **unaccounted(db, site, incident, now),
                "counts": muster_counts(db, site, incident, now),
            }
        )


@api.get("/sites/<site>/visitors/self")
def my_visit(site: str):
    """A visitor's own visit, from their personal link (sent in X-Visitor-Link): whether they
    are signed in, and the alarm on now, if any, with whether they are accounted for."""
    with services().store.reading() as db:
        if site_row(db, site) is None:
            raise NotFound(f"There is no site '{site}'.")
        secret = secret_key_for(services().settings)
        visitor = visitor_by_token(db, secret, site, request.headers.get(VISITOR_LINK_HEADER))
        incident = active_incident(db, site)
        accounted = db.execute(
            "SELECT how FROM accounted WHERE incident_id = ? AND person = 'visitor' "
            "AND person_id = ?",
            [incident["id"] if incident else None, visitor["id"]],
        ).fetchone()
    alarm = None
    if incident is not None:
        alarm = {
            "kind": incident["kind"],
            "drill": bool(incident["drill"]),
            "asks": visitor_asks(incident["kind"]),  # what the visitor's page says to do
        }
        alarm["accounted"] = accounted is not None
    return jsonify(
        {
            "visitor_id": visitor["id"],
            "name": visitor["name"],
            "language": visitor["language"],
            "signed_in": visitor["left_at"] is None,
            "incident": alarm,
        }
    )


@signs.get("/sites/<site>/assembly-points/<point>/sign")
def assembly_point_sign(site: str, point: str):
    """A printable sign for an assembly point: its name, where it is, and a QR code that an
    enrolled phone scans during an incident to say "I am safe at this point" (admin or duty
    manager)."""
    with services().store.reading() as db:
        require_member(db, site, MANAGERS, "assembly point signs")
        row = next(
            db.query("SELECT * FROM assembly_points WHERE site = ? AND id = ?", [site, point]),
            None,
        )
        site = site_row(db, site)
    if row is None:
        raise NotFound(f"There is no assembly point '{point}' on this site.")
    url = f"{services().settings.base_url}/checkin/{site['id']}/{point}"
    languages = [lang for lang in json.loads(site["languages"]) if lang in LANGUAGES]
    return render_template(
        "sign.html",
        site_name=site["name"],
        point=row,
        url=url,
        qr=qr_svg(url, row["name"]),
        languages=languages or [DEFAULT_LANGUAGE],
        words={lang: default_texts(lang)["sign"] for lang in LANGUAGES},
    )
