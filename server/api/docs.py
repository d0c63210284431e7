"""The OpenAPI 3.1 document, built from the command routes, their input fields and their answers
(server/api/schemas.py), so that the documentation cannot drift from what the server checks.
Operation ids and who may call without signing in come from the app's own routes."""

from __future__ import annotations

import inspect
import re

from flask import current_app, jsonify

from .. import commands
from ..basics.names import LANGUAGES, LARGEST_INTEGER
from ..commands import COMMANDS
from ..rules.auth import ROLES
from . import PUBLIC_ENDPOINTS, VISITOR_ENDPOINTS, api
from .public import CAP_IDENTIFIER, PHONE_TYPES, public
from .schemas import (
    EVENTS,
    HELD_ABOUT_ME,
    ID,
    INCIDENTS,
    MY_VISIT,
    PEOPLE_TO_ACCOUNT_FOR,
    PUBLIC_STATUS,
    READINESS,
    REPORT,
    RESULTS,
    SCHEMAS,
    SCRIPTS,
    SETUP,
    SITES,
    SLUG_ID,
    UNACCOUNTED,
    VISITORS_NOW,
    VOCABULARY,
    WEBHOOK_DELIVERIES,
    WEBHOOKS,
    body_schema,
    field_schema,
    obj,
    ref,
)

JSON = "application/json"
STRING_ = {"type": "string"}

# What can go wrong, by the kind of route: 401 not signed in (or a malformed or unknown
# token, on any route; 429 after too many of those from one address), 403 another site or
# role, 404 an unknown site or thing, 400 bad input, 409 against the current state, 413 a
# body over 2 MiB, 422 a reused Idempotency-Key.
ANYONE = (401, 429)
READS = (401, 403, 404, 429)
COMMAND_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)


# The areas of the API (OpenAPI's tags), in the order a reader meets them; every operation
# is in one. A command's area is its module's (server/commands/<word>.py).
AREA_SITES = "sites and set-up"
AREA_STATE = "state and log"
AREA_INCIDENTS = "incidents"
AREA_ROLL_CALL = "roll call and mustering"
AREA_ZONES = "zones"
AREA_HELP = "help and backup"
AREA_VISITORS = "visitors"
AREA_PEOPLE = "people and devices"
AREA_READINESS = "readiness"
AREA_PANEL = "alarm panel"
AREA_PUBLIC = "public channels"
AREA_WEBHOOKS = "webhooks"
AREA_EVIDENCE = "reports and evidence"
AREA_PRIVACY = "privacy"
AREA_API = "the API"
TAGS = {
    AREA_SITES: "The sites a caller may see, a site's set-up (its site file) and its customer "
    "scripts.",
    AREA_STATE: "The site's state now, its log of events after a sequence number, and the "
    "words both use.",
    AREA_INCIDENTS: "Starting, updating and ending an alarm (fire, evacuation, threat, power "
    "outage, shelter in place; any of them a drill), and the incident history.",
    AREA_ROLL_CALL: "Who got the alarm, who confirmed it, who is safe, and who is still "
    "unaccounted for: the marshal's screen and what the fire brigade asks.",
    AREA_ZONES: "Sweeping the site zone by zone: claim, clear, block, assign, decline.",
    AREA_HELP: "Someone who needs help getting out, and a quiet call for a guard or the duty "
    "manager (a backup request).",
    AREA_VISITORS: "Guests and contractors signed in at reception or at the door, and a "
    "visitor's own link.",
    AREA_PEOPLE: "Who I am, my language, enrolling a phone, and its Web Push subscription.",
    AREA_READINESS: "Whether each phone and mailbox can be reached now, and test alarms.",
    AREA_PANEL: "Confirming or dismissing the fire-alarm panel's pre-alarm.",
    AREA_PUBLIC: "What customers and integrators read without signing in (status page, "
    "website banner, phone queue, queue-ticket screen, CAP and Atom), served from snapshot "
    "files with ETags, and the settings and mailboxes behind it.",
    AREA_WEBHOOKS: "Signed outbound webhooks: subscriptions, tests and the delivery log.",
    AREA_EVIDENCE: "An incident's evidence report as data, CSV, HTML and PDF, its roll call, "
    "and the bundle verify_report.py checks.",
    AREA_PRIVACY: "Who is responsible for personal data on a site, how long it is kept, and "
    "everything held about a person.",
    AREA_API: "This document.",
}
COMMAND_AREAS = {  # server/commands/<word>.py -> its area
    "sites": AREA_SITES,
    "incidents": AREA_INCIDENTS,
    "roll_call": AREA_ROLL_CALL,
    "mustering": AREA_ROLL_CALL,
    "zones": AREA_ZONES,
    "help_requests": AREA_HELP,
    "backup_requests": AREA_HELP,
    "visitors": AREA_VISITORS,
    "staff": AREA_PEOPLE,
    "devices": AREA_PEOPLE,
    "readiness": AREA_READINESS,
    "alarm_panel": AREA_PANEL,
    "notices": AREA_PUBLIC,
    "webhooks": AREA_WEBHOOKS,
}


def answer(schema: dict, media: str = JSON, description: str = "OK") -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def problems(codes) -> dict:
    return {
        str(code): {"$ref": f"#/components/responses/{'TooMany' if code == 429 else 'Problem'}"}
        for code in codes
    }


def read(summary: str, schema: dict, errors=READS, media: str = JSON, *, tag: str, **more) -> dict:
    """A GET route: its area, its answer and what can go wrong."""
    responses = {"200": answer(schema, media), **problems(errors)}
    return {"get": {"summary": summary, "tags": [tag], "responses": responses, **more}}


REPORTS = {
    "json": (JSON, REPORT, "The evidence report as data"),
    "csv": ("text/csv", {"type": "string"}, "The report's timeline, one row per event"),
    "html": ("text/html", {"type": "string"}, "The report as a page that prints well"),
    "pdf": ("application/pdf", {"type": "string", "format": "binary"}, "The report as PDF"),
    "bundle": (
        "application/zip",
        {"type": "string", "format": "binary"},
        "The report with its proof (log entries, signed checkpoints, timestamp tokens, the "
        "public key), a zip that verify_report.py checks",
    ),
}
# The worded report and the bundle take ?lang= (else the site's first language; another: 400).
WORDED_REPORTS = {"html", "pdf", "bundle"}
REPORT_LANGUAGE = {
    "name": "lang",
    "in": "query",
    "schema": {"type": "string", "enum": [*LANGUAGES]},
}


def report_read(fmt: str, media: str, schema: dict, summary: str) -> dict:
    """A report's route; the worded ones name their `lang` parameter and its 400."""
    if fmt not in WORDED_REPORTS:
        return read(f"{summary} (duty manager, admin)", schema, media=media, tag=AREA_EVIDENCE)
    return read(
        f"{summary} (duty manager, admin)",
        schema,
        (400, *READS),
        media,
        tag=AREA_EVIDENCE,
        parameters=[REPORT_LANGUAGE],
    )


# Routes that are not a command's route (enroll reads its code itself).
READ_ROUTES = {
    "/api/sites": read(
        "The sites I may see (all of them for a chain admin)", SITES, ANYONE, tag=AREA_SITES
    ),
    "/api/sites/{site}/state": read(
        "The whole state of the site at a sequence number; responders get everyone's roll-call "
        "row and the open backup requests, staff the counts and their own row",
        ref("State"),
        tag=AREA_STATE,
    ),
    "/api/sites/{site}/events": read(
        "Events after ?after=N (at most ?limit=, 1000), as Socket.IO sends them",
        EVENTS,
        (400, *READS),
        parameters=[
            {"name": "after", "in": "query", "schema": {**ID, "minimum": 0}},
            {"name": "limit", "in": "query", "schema": {**ID, "minimum": 0}},
        ],
        tag=AREA_STATE,
    ),
    "/api/sites/{site}/incidents": read(
        "Incident history, newest first, drills marked (duty manager, admin)",
        INCIDENTS,
        tag=AREA_INCIDENTS,
    ),
    **{
        f"/api/sites/{{site}}/incidents/{{incident_id}}/report.{fmt}": report_read(fmt, *about)
        for fmt, about in REPORTS.items()
    },
    "/api/sites/{site}/incidents/{incident_id}/roll-call.csv": report_read(
        "csv",
        "text/csv",
        {"type": "string"},
        "Everyone on site at the alarm, one row each: how, where, when and by whom accounted for",
    ),
    "/api/sites/{site}/setup": read(
        "The site's set-up as in its site file, with the default wording (admin)",
        SETUP,
        tag=AREA_SITES,
    ),
    "/api/sites/{site}/scripts": read(
        "The customer scripts of every incident kind in every language of the site",
        SCRIPTS,
        tag=AREA_SITES,
    ),
    "/api/me": read(
        "Who I am signed in as (and my CSRF token when signed in by cookie)",
        ref("Me"),
        ANYONE,
        tag=AREA_PEOPLE,
    ),
    "/api/sites/{site}/privacy": read(
        "Who is responsible for personal data on the site and how long it is kept (public)",
        obj(
            {
                "controller": {"type": ["string", "null"]},
                "notice_url": {"type": ["string", "null"]},
                "visitors_days": {"type": "integer"},
                "incidents_days": {"type": "integer"},
                "devices_days": {"type": "integer"},
            }
        ),
        (404, 429),
        tag=AREA_PRIVACY,
    ),
    "/api/me/data": read(
        "Everything held about me: my person, devices, roll calls, requests and log entries",
        HELD_ABOUT_ME,
        ANYONE,
        tag=AREA_PRIVACY,
    ),
    "/api/sites/{site}/staff/{staff_id}/data": read(
        "Everything held about one person of the site (admin), as /api/me/data",
        HELD_ABOUT_ME,
        tag=AREA_PRIVACY,
    ),
    "/api/sites/{site}/webhooks": read(
        "The site's webhook subscriptions: where to (the origin only), what, how many pending "
        "(admin)",
        WEBHOOKS,
        tag=AREA_WEBHOOKS,
    ),
    "/api/sites/{site}/webhooks/deliveries": read(
        "The webhook delivery log, newest first, with every attempt (admin)",
        WEBHOOK_DELIVERIES,
        (400, *READS),
        parameters=[
            {"name": "webhook_id", "in": "query", "schema": ID},
            {"name": "limit", "in": "query", "schema": {**ID, "maximum": 500}},
        ],
        tag=AREA_WEBHOOKS,
    ),
    "/api/sites/{site}/readiness": read(
        "Whether each person's phone can be reached now and each mailbox's credentials work, "
        "and why not (duty manager, admin)",
        READINESS,
        tag=AREA_READINESS,
    ),
    "/api/push/vapid-public-key": read(
        "The applicationServerKey a browser subscribes with",
        obj({"key": {"type": "string"}}),
        ANYONE,
        tag=AREA_PEOPLE,
    ),
    "/api/sites/{site}/visitors": read(
        "The visitors and contractors on site now (guard, duty manager, admin)",
        VISITORS_NOW,
        tag=AREA_VISITORS,
    ),
    "/api/sites/{site}/incidents/current/people": read(
        "Everyone on the incident's roll, how each was accounted for, the assembly points and "
        "the counts: the marshal's screen (marshals: guards, duty managers, admins, and staff "
        "the site file marks marshal)",
        PEOPLE_TO_ACCOUNT_FOR,
        (409, *READS),
        tag=AREA_ROLL_CALL,
    ),
    "/api/sites/{site}/incidents/current/unaccounted": read(
        "Who is not accounted for, with where each was last known to be, and the zones not "
        "swept clear: what the fire brigade asks (guard, duty manager, admin)",
        UNACCOUNTED,
        (409, *READS),
        tag=AREA_ROLL_CALL,
    ),
    "/api/sites/{site}/visitors/self": read(
        "A visitor's own visit, from the personal link's token in the X-Visitor-Link header "
        "(no account)",
        MY_VISIT,
        (404, 429),
        parameters=[
            {"name": "X-Visitor-Link", "in": "header", "required": True, "schema": STRING_}
        ],
        tag=AREA_VISITORS,
    ),
    "/api/vocabulary": read(
        "The words of the state and the log, which the app reads instead of keeping copies",
        VOCABULARY,
        ANYONE,
        tag=AREA_STATE,
    ),
    "/api/openapi.json": read(
        "This document",
        obj({"openapi": {"type": "string"}, "info": {"type": "object"}}, closed=False),
        ANYONE,
        tag=AREA_API,
    ),
    "/api/enroll/{code}": {
        "get": {
            "summary": "Whose enrollment link this is (name, language, site), without using it",
            "tags": [AREA_PEOPLE],
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": answer(
                    obj(
                        {
                            "name": {"type": "string"},
                            "language": {"type": "string"},
                            "site_name": {"type": "string"},
                            # the site file's `privacy`, for the page's notice
                            "privacy": obj(
                                {
                                    "controller": {"type": ["string", "null"]},
                                    "notice_url": {"type": ["string", "null"]},
                                    "incidents_days": {"type": "integer"},
                                    "devices_days": {"type": "integer"},
                                }
                            ),
                        }
                    )
                ),
                **problems((404, 410, 429)),
            },
        }
    },
    "/api/enroll": {
        "post": {
            "summary": "Use an enrollment code; sets the device's session cookie",
            "tags": [AREA_PEOPLE],
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {
                        "schema": obj(
                            {"code": field_schema(COMMANDS["enroll_device"].schema["code"])},
                            closed=False,
                        )
                    }
                },
            },
            "responses": {
                "201": answer(ref("Me"), description="enrolled; the answer sets the cookie"),
                **problems((400, 401, 404, 410, 413, 429)),
            },
        }
    },
}


def command_operation(path: str, command: commands.Command) -> dict:
    """POST `path` runs `command`: its body is the command's fields not in the path."""
    name, status = command.name, command.route.status
    in_path = set(re.findall(r"{(\w+)}", path))
    body = {field: f for field, f in command.schema.items() if field not in in_path}
    operation = {
        "summary": command.route.summary,
        "description": command_description(command),
        "tags": [COMMAND_AREAS[command.apply.__module__.rpartition(".")[2]]],
        "operationId": name,
        "parameters": [
            *path_parameters(path, command.schema),
            {"$ref": "#/components/parameters/IdempotencyKey"},
        ],
        "responses": {
            str(status): answer(RESULTS[name], description="the command's result, with `seq`"),
            **problems(COMMAND_ERRORS),
        },
    }
    if body:
        schema = body_schema(body)
        if command.one_of:  # exactly one of them
            schema["oneOf"] = [{"required": [name]} for name in command.one_of]
        operation["requestBody"] = {
            "required": any(f.required for f in body.values()) or bool(command.one_of),
            "content": {JSON: {"schema": schema}},
        }
    return operation


def command_description(command: commands.Command) -> str:
    """The command's docstring, then who may run it and whether the socket may send it."""
    who = ", ".join(role.replace("_", " ") for role in ROLES if role in command.roles)
    lines = [inspect.getdoc(command.apply) or "", f"Who may run `{command.name}`: {who}."]
    if command.socket:
        lines.append("A connected client may also send it as a Socket.IO `action`.")
    return "\n\n".join(line for line in lines if line)


def openapi_path(rule: str) -> str:
    """Flask's /sites/<site>/x/<int:id> as OpenAPI's /api/sites/{site}/x/{id}."""
    return "/api" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def path_parameters(path: str, fields: dict | None = None) -> list[dict]:
    """The site by the slug rule, a command's field by its declaration, any other an id."""
    fields = fields or {}

    def schema(name: str) -> dict:
        if name == "site":
            return SLUG_ID
        return field_schema(fields[name], name) if name in fields else ID

    return [
        {"name": name, "in": "path", "required": True, "schema": schema(name)}
        for name in re.findall(r"{(\w+)}", path)
    ]


def endpoints() -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) -> the Flask endpoint of the API's routes."""
    return {
        (openapi_path(rule.rule[len(api.url_prefix) :]), method.lower()): rule.endpoint
        for rule in current_app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{api.name}.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# The public channels (server/api/public.py), served from the snapshot files to anyone:
# each route's answer and what it is.
PUBLIC_ROUTES = {
    "status_json": (
        JSON,
        PUBLIC_STATUS,
        "The public notice as data, in every language of the site",
    ),
    "status_page": ("text/html", STRING_, "The status page, in ?lang= or the browser's language"),
    "banner": ("text/javascript", STRING_, "The script that shows the notice on a website"),
    **{
        f"phone_{fmt}": (media, STRING_, f"The phone queue's message as {fmt}, in a language")
        for fmt, media in PHONE_TYPES.items()
    },
    "screen": ("text/html", STRING_, "The queue-ticket screen, following the notice live"),
    "cap": ("application/cap+xml", STRING_, "The site's latest CAP alert"),
    "cap_feed": ("application/atom+xml", STRING_, "The site's CAP alerts as an Atom feed"),
    "cap_message": ("application/cap+xml", STRING_, "One CAP message of the feed"),
}
PUBLIC_PARAMETERS = {  # besides the site, by the slug rule
    "lang": {"type": "string", "enum": [*LANGUAGES]},
    "identifier": {"type": "string", "pattern": f"^{CAP_IDENTIFIER.pattern}$"},
}
PUBLIC_QUERIES = {  # what the page reads of its address; an unknown value falls back
    "status_page": {"name": "lang", "in": "query", "schema": STRING_},
    "screen": {"name": "zone", "in": "query", "schema": STRING_},
}
NOT_MODIFIED = {"description": "Not modified since the ETag or the date the request gave"}


def public_operation(endpoint: str, path: str, method: str) -> dict:
    media, schema, summary = PUBLIC_ROUTES[endpoint]
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": PUBLIC_PARAMETERS.get(name, SLUG_ID),
        }
        for name in re.findall(r"{(\w+)}", path)
    ]
    operation = {
        "summary": summary,
        "description": description({"summary": summary}, f"public.{endpoint}"),
        "tags": [AREA_PUBLIC],
        "operationId": endpoint if method == "get" else f"{endpoint}_{method}",
        "security": [],
        "parameters": parameters
        + ([PUBLIC_QUERIES[endpoint]] if endpoint in PUBLIC_QUERIES else []),
        "responses": {"200": answer(schema, media), "304": NOT_MODIFIED, **problems((404,))},
    }
    return operation


def public_paths() -> dict:
    """Every route of the public channels, as the app has them."""
    paths: dict = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{public.name}."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            endpoint = rule.endpoint.partition(".")[2]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                paths.setdefault(path, {})[method.lower()] = public_operation(
                    endpoint, path, method.lower()
                )
    return paths


def with_path_parameters(path: str, operation: dict) -> dict:
    """The operation with every parameter of its path, unless it names one itself."""
    named = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
    own = [p for p in path_parameters(path) if p["name"] not in named]
    return {**operation, "parameters": own + operation.get("parameters", [])}


def description(operation: dict, endpoint: str) -> str:
    """What the route's function says of itself, else its summary."""
    view = current_app.view_functions.get(endpoint)
    return (view and inspect.getdoc(view)) or operation["summary"]


def servers() -> list[dict]:
    """The deployment's address when it is set (EXITNOW_PUBLIC_URL), else this server's."""
    url = current_app.extensions["exitnow"].settings.public_url
    return [{"url": url.rstrip("/") if url else "/", "description": "this deployment"}]


def document() -> dict:
    paths = {
        path: {
            method: with_path_parameters(path, operation)
            for method, operation in operations.items()
        }
        for path, operations in READ_ROUTES.items()
    }
    for command in commands.routed():
        path = openapi_path(command.route.rule)
        paths.setdefault(path, {})["post"] = command_operation(path, command)
    routes = endpoints()
    for path, operations in paths.items():
        for method, operation in operations.items():
            endpoint = routes.get((path, method), "")
            operation.setdefault("operationId", endpoint.rpartition(".")[2])
            operation.setdefault("description", description(operation, endpoint))
            if endpoint in PUBLIC_ENDPOINTS | VISITOR_ENDPOINTS:
                operation["security"] = []
    paths |= public_paths()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Exit Now",
            "version": "1.0.0",
            "description": (
                "Emergency evacuation coordination. Errors are application/problem+json. "
                "Bodies are JSON objects of at most 2 MiB, nested at most 32 levels, with whole "
                f"numbers within ±{LARGEST_INTEGER} and text without control characters (tab, "
                "line feed and carriage return aside) or lone surrogates."
            ),
        },
        "servers": servers(),
        "tags": [{"name": name, "description": about} for name, about in TAGS.items()],
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "exitnow_session"},
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": "The same key again gives the same answer and writes nothing more.",
                }
            },
            "schemas": SCHEMAS,
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem: type, title, status, detail (and field)",
                    "content": {"application/problem+json": {"schema": ref("Problem")}},
                },
                "TooMany": {
                    "description": "Too many failed sign-ins or enrollments from this address",
                    "headers": {
                        "Retry-After": {"description": "seconds", "schema": {"type": "integer"}}
                    },
                    "content": {"application/problem+json": {"schema": ref("Problem")}},
                },
            },
        },
    }


@api.get("/openapi.json")
def openapi():
    return jsonify(document())
