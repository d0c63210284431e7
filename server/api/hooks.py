"""POST /hooks/alarm/<site>: the fire-alarm panel's signed webhook (or the bridge's, for a panel
with only a relay: server/bridge.py). Not under /api: no person signs in here, the signature
(server/basics/signing.py) under the site's own secret is the only credential.

A refused delivery (an unknown site, no or a bad signature, a timestamp more than five minutes
away, a replay) is a 4xx problem+json and nothing is logged.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, current_app, jsonify, request

from .. import commands
from ..basics import signing
from ..basics.clock import now_ms
from ..basics.errors import Invalid, NotFound, Rejected
from ..basics.names import DEEPEST_NESTING, is_slug, problem_in
from ..basics.settings import secret_key_for
from ..rules.alarm_panel import valid_secrets
from ..rules.auth import alarm_panel

hooks = Blueprint("hooks", __name__)

SCHEME_NAME = "ExitNow-Signature"  # what a 401's WWW-Authenticate names (RFC 9110 11.6.1)


class SignatureRefused(Rejected):
    """No valid signature: `reason` is the problem type (missing-signature, bad-signature,
    stale-timestamp, no-panel-secret)."""

    status, title = 401, "Signature refused"

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.slug = reason


@hooks.errorhandler(SignatureRefused)
def signature_refused(error: SignatureRefused):
    response = jsonify(error.problem())
    response.status_code = error.status
    response.content_type = "application/problem+json"
    response.headers["WWW-Authenticate"] = f'{SCHEME_NAME} realm="alarm panel"'
    return response


@hooks.post("/hooks/alarm/<site>")
def alarm_panel_webhook(site: str):
    """Verify the delivery against the site's secrets, then run it as the panel's command."""
    services = current_app.extensions["exitnow"]
    body = request.get_data()
    with services.store.reading() as db:
        if not is_slug(site) or not commands.site_exists(db, site):
            raise NotFound(f"There is no site '{site}'.")
        secrets = valid_secrets(db, secret_key_for(services.settings), site)
    if not secrets:
        raise SignatureRefused(
            "no-panel-secret",
            f"Site '{site}' has no alarm panel secret yet: "
            f"flask --app server panel-secret --site {site}",
        )
    try:
        timestamp = signing.verify(
            secrets,
            request.headers.get(signing.TIMESTAMP_HEADER),
            request.headers.get(signing.SIGNATURE_HEADER),
            body,
            now_ms() / 1000,
        )
    except signing.SignatureError as refused:
        raise SignatureRefused(refused.reason, refused.detail) from None
    # What was signed, whatever else the headers hold: the same again is a replay.
    delivery = f"{timestamp}.{hashlib.sha256(body).hexdigest()}"
    params = {**_json_object(body), "delivery": delivery}
    result = commands.execute(services, alarm_panel(site), site, "receive_alarm_signal", params)
    return jsonify(result)


def _json_object(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except RecursionError:
        raise Invalid(f"The JSON is nested more than {DEEPEST_NESTING} levels deep.") from None
    except ValueError:
        raise Invalid("The body is not JSON (UTF-8).") from None
    if not isinstance(value, dict):
        raise Invalid("The body must be a JSON object: event_id, event, detail, sent_at.")
    problem = problem_in(value)
    if problem:
        raise Invalid(problem)
    return value
