"""Phone readiness: whether each person's phone can be reached now (duty managers, admins)."""

from __future__ import annotations

from flask import jsonify

from ..auth import MANAGERS
from ..clock import now_ms
from ..phone_readiness import site_readiness
from . import api, require_member, services


@api.get("/sites/<site>/readiness")
def readiness(site: str):
    with services().store.reading() as db:
        require_member(db, site, MANAGERS, "the phones' readiness")
        return jsonify(site_readiness(db, site, services().presence, now_ms()))
