"""The HTTP API: JSON in and out under /api. Who is asking is decided once, here.

Beside the API: the app's own pages and service worker (pages), the probes (probes: /readyz),
the public channels' routes (public), the alarm panel's webhook (hooks), the printable signs
(mustering) and the OpenAPI document (docs).

May import: every package below it; not server.app, server.cli or server.timers."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, current_app, g, jsonify, request

from .. import commands
from ..basics.errors import Forbidden, Invalid, NotFound, TooManyRequests, Unauthenticated
from ..basics.names import DEEPEST_NESTING, problem_in
from ..operations import rate_limits
from ..rules import auth

api = Blueprint("api", __name__, url_prefix="/api")

# Endpoints anyone may call, signed in or not.
PUBLIC_ENDPOINTS = {"api.openapi", "api.enroll", "api.enrollment_link", "api.vapid_public_key"}
PUBLIC_ENDPOINTS |= {"api.site_privacy"}  # the visitor page's privacy notice

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def services():
    return current_app.extensions["exitnow"]


@api.before_request
def authenticate() -> None:
    """Set g.identity from the bearer token or the device session cookie; CSRF-check cookie writes.

    A token or cookie that identifies nobody is a failed sign-in, limited per client address
    (server/operations/rate_limits.py). Public routes ignore the cookie: a phone enrolling again still
    has its old one, and their answer does not depend on it.
    """
    g.identity = None
    public = request.endpoint in PUBLIC_ENDPOINTS or request.endpoint in VISITOR_ENDPOINTS
    header = request.headers.get("Authorization")
    token = auth.bearer_token(header)
    if header and token is None:
        raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
    via_cookie = token is None
    if via_cookie and not public:
        token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        with rate_limits.counting_failures(rate_limits.SIGN_IN):
            with services().store.reading() as db:
                g.identity = auth.identify(db, token, via_cookie=via_cookie)
            if g.identity is None and via_cookie:
                raise Unauthenticated("Sign in: enroll this device, or send a bearer token.")
            if g.identity is None:
                raise Unauthenticated("This token is not valid (unknown or revoked).")
    if public:
        return
    if g.identity is None:
        raise Unauthenticated("Sign in: enroll this device, or send a bearer token.")
    if (
        g.identity.via_cookie
        and request.method not in SAFE_METHODS
        and not auth.csrf_ok(
            current_app.secret_key, g.identity, request.headers.get(auth.CSRF_HEADER)
        )
    ):
        raise Forbidden(f"Missing or wrong {auth.CSRF_HEADER} header.")


@api.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests):
    """The app's problem+json answer, and when to try again."""
    response = jsonify(error.problem())
    response.status_code = error.status
    response.content_type = "application/problem+json"
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def json_body():
    """The request's JSON body (an empty body counts as {}), or a clear 400."""
    if not request.get_data():
        return {}
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the decoder gave up on thousands of nested brackets
        raise Invalid(f"The JSON is nested more than {DEEPEST_NESTING} levels deep.") from None
    if body is None:
        raise Invalid("The request body is not valid JSON.")
    problem = problem_in(body)
    if problem:
        raise Invalid(problem)
    return body


def idempotency_key() -> str | None:
    return commands.checked_idempotency_key(
        request.headers.get("Idempotency-Key"), "Idempotency-Key"
    )


def run(command: commands.Command, site: str | None = None, **from_path):
    """Run `command` with the JSON body plus the fields named in the URL, on the URL's site or
    else the caller's own; answer its result (with what ANSWER_EXTRAS adds) and status."""
    params = json_body()
    if from_path:
        if not isinstance(params, dict):
            raise Invalid("The request body must be a JSON object.")
        params = {**params, **from_path}
    site = site or g.identity.site
    identity = g.identity
    if command.roles == auth.VISITORS:  # a visitor at the entrance: no account, whoever asks
        identity = auth.visitor(site)
        if command.name in SPENDS_VISITOR_SIGN_INS:
            rate_limits.spend(rate_limits.VISITOR_SIGN_IN)
    result = commands.execute(services(), identity, site, command.name, params, idempotency_key())
    extra = ANSWER_EXTRAS.get(command.name)
    return jsonify(extra(result) if extra else result), command.route.status


# What a command's HTTP answer adds to its result (a link's full URL and QR code, say).
ANSWER_EXTRAS: dict[str, Callable[[dict], dict]] = {}


def answer_adds(name: str):
    """Register `extra(result) -> answer` for the HTTP answer of command `name`."""

    def register(extra: Callable[[dict], dict]) -> Callable[[dict], dict]:
        ANSWER_EXTRAS[name] = extra
        return extra

    return register


# What a visitor does without an account (commands for the role auth.VISITORS), and the one
# of those that adds a row each time, so is limited per address (server/operations/rate_limits.py).
VISITOR_ENDPOINTS = {
    f"api.{command.name}" for command in commands.routed() if command.roles == auth.VISITORS
}
VISITOR_ENDPOINTS |= {"api.my_visit"}
SPENDS_VISITOR_SIGN_INS = {"sign_in_visitor_self"}


def _add_command_routes() -> None:
    """POST /api<rule> for every command declared with a route (server/commands/)."""
    for command in commands.routed():
        api.add_url_rule(
            command.route.rule,
            endpoint=command.name,
            view_func=functools.partial(run, command),
            methods=["POST"],
        )


def require_member(db, site: str, roles: frozenset = auth.EVERYONE, reading: str = "") -> None:
    """404 for an unknown site, 403 for someone from another site or without one of `roles`
    (reads only; commands check themselves, with the same rule)."""
    if not commands.site_exists(db, site):
        raise NotFound(f"There is no site '{site}'.")
    g.identity.check_rights(site, roles, f"read {reading}")


_add_command_routes()

# Importing the route modules registers their routes.
from . import (  # noqa: E402,F401
    docs,
    mustering,
    people,
    phones,
    push,
    reports,
    scripts,
    setup,
    sites,
    webhooks,
)
