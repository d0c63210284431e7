"""Reading a site: its state at a sequence number, its log after a sequence number, and the
words both are written in (the vocabulary the app reads instead of keeping copies)."""

from __future__ import annotations

from flask import g, jsonify, request

from .. import commands
from ..basics.clock import iso
from ..basics.errors import Invalid
from ..basics.names import DEFAULT_LANGUAGE, END_REASONS, KINDS, LANGUAGES, LARGEST_INTEGER
from ..channels import EMAIL_PROVIDERS
from ..channels.texts import default_texts
from ..rules.auth import MANAGERS, RESPONDERS, ROLES
from ..store import log, personal
from ..store.projectors.roll_call import ROLL_CALL_COLUMNS
from ..store.projectors.zones import SWEEP_STATUS
from ..store.state import batch_for, site_state
from . import api, require_member, services


@api.get("/sites")
def sites():
    """The sites I may see, each open or closed: all of them for the chain's admin."""
    with services().store.reading() as db:
        rows = list(
            db.query(
                """SELECT s.id, s.name, i.id AS incident_id, i.kind, i.drill, i.started_at
                   FROM sites s LEFT JOIN incidents i ON i.site = s.id AND i.ended_at IS NULL
                   ORDER BY s.name, s.id"""
            )
        )
    visible = [r for r in rows if g.identity.may_act_on(r["id"])]
    return jsonify({"sites": [_site_summary(r) for r in visible]})


def _site_summary(row: dict) -> dict:
    incident = None
    if row["incident_id"] is not None:
        incident = {
            "id": row["incident_id"],
            "kind": row["kind"],
            "drill": bool(row["drill"]),
            "started_at": iso(row["started_at"]),
        }
    return {"id": row["id"], "name": row["name"], "incident": incident}


@api.get("/sites/<site>/state")
def state(site: str):
    with services().store.reading() as db:
        require_member(db, site)
        if g.identity.site != site:  # the chain's admin, reading another site
            return jsonify(site_state(db, site, g.identity.is_responder))
        return jsonify(services().states.for_person(db, g.identity))


@api.get("/sites/<site>/events")
def events(site: str):
    """The events after `?after=N` (at most `limit`, default 500), as Socket.IO's `events`
    message carries them (a run of events the reader may not see is one redacted range)."""
    after = _whole_number("after", 0)
    limit = min(_whole_number("limit", 500), 1000)
    with services().store.reading() as db:
        require_member(db, site)
        found = personal.Reader(db).entries(log.events_after(db, site, after, limit))
        latest = log.latest_seq(db, site)
    return jsonify({"events": batch_for(g.identity.is_responder, found), "seq": latest})


def _whole_number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    whole = raw.isascii() and raw.isdecimal() and len(raw) <= len(str(LARGEST_INTEGER))
    if not whole or int(raw) > LARGEST_INTEGER:
        raise Invalid(f"'{name}' must be a whole number from 0 to {LARGEST_INTEGER}.", field=name)
    return int(raw)


@api.get("/vocabulary")
def vocabulary():
    """The words of the state and the log, for the app: the languages (each named in itself),
    roles (and which of them are managers and responders, for the screens each may see),
    kinds and all-clear reasons, and which events sweep a zone or mark the roll call, so that
    it applies events between two states as the projectors do; and which routes' commands it
    may send over its socket instead (`socket_actions`: command to route)."""
    return jsonify(
        {
            "languages": LANGUAGES,
            "default_language": DEFAULT_LANGUAGE,
            "language_names": {lang: default_texts(lang)["language_name"] for lang in LANGUAGES},
            "roles": ROLES,
            "managers": [role for role in ROLES if role in MANAGERS],
            "responders": [role for role in ROLES if role in RESPONDERS],
            "kinds": KINDS,
            "end_reasons": END_REASONS,
            "sweeps": SWEEP_STATUS,
            "roll_call": ROLL_CALL_COLUMNS,
            "email_providers": EMAIL_PROVIDERS,
            "socket_actions": commands.socket_routes(),
        }
    )
