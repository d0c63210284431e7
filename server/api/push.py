"""Web Push: the key a browser subscribes with, and storing a device's subscription."""

from __future__ import annotations

from flask import g, jsonify

from . import api, run, services


@api.get("/push/vapid-public-key")
def vapid_public_key():
    return jsonify({"key": services().push.public_key})


@api.post("/push/subscriptions")
def subscribe():
    """Body: {"subscription": <PushSubscription.toJSON()>}; for the signed-in device."""
    return run(g.identity.site, "subscribe_push", status=201)
