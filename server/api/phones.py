"""Readiness: whether each person's phone can be reached now, and whether each customer-service
mailbox's credentials work (duty managers, admins)."""

from __future__ import annotations

from flask import jsonify

from ..basics.clock import now_ms
from ..channels.mailboxes.checks import mailbox_readiness
from ..live.phone_readiness import site_readiness
from ..rules.auth import MANAGERS
from . import api, require_member, services


@api.get("/sites/<site>/readiness")
def readiness(site: str):
    with services().store.reading() as db:
        require_member(db, site, MANAGERS, "the phones' readiness")
        phones = site_readiness(db, site, services().presence, now_ms())
        # The mailboxes' too, as last tried in the background (server/channels/mailboxes/checks.py).
        return jsonify({**phones, "mailboxes": mailbox_readiness(db, site, services().settings)})
