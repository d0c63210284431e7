"""Web Push: the key a browser subscribes with (the command subscribe_push stores a device's
subscription)."""

from __future__ import annotations

from flask import jsonify

from . import api, services


@api.get("/push/vapid-public-key")
def vapid_public_key():
    return jsonify({"key": services().push.public_key})
