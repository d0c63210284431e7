"""Reading a site: its state at a sequence number, and its log after a sequence number."""

from __future__ import annotations

from flask import g, jsonify, request

from .. import log
from ..errors import Invalid
from ..state import event_message_for, site_state
from . import api, require_member, services


@api.get("/sites/<site>/state")
def state(site: str):
    with services().store.reading() as db:
        require_member(db, site)
        return jsonify(site_state(db, site, g.identity.is_responder))


@api.get("/sites/<site>/events")
def events(site: str):
    """The events after `?after=N` (at most `limit`, default 500), as Socket.IO sends them."""
    after = _whole_number("after", 0)
    limit = min(_whole_number("limit", 500), 1000)
    with services().store.reading() as db:
        require_member(db, site)
        found = log.events_after(db, site, after, limit)
        latest = log.latest_seq(db, site)
    messages = [event_message_for(g.identity.is_responder, e) for e in found]
    return jsonify({"events": messages, "seq": latest})


def _whole_number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise Invalid(f"'{name}' must be a whole number.", field=name)
    return int(raw)
