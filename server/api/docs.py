"""The OpenAPI 3.1 document, built from the command routes, their input fields and their answers
(server/api/schemas.py), so that the documentation cannot drift from what the server checks.
Operation ids and who may call without signing in come from the app's own routes."""

from __future__ import annotations

import re

from flask import current_app, jsonify

from .. import commands
from ..basics.names import LANGUAGES, LARGEST_INTEGER
from ..commands import COMMANDS
from . import PUBLIC_ENDPOINTS, VISITOR_ENDPOINTS, api
from .schemas import (
    EVENTS,
    HELD_ABOUT_ME,
    ID,
    INCIDENTS,
    MY_VISIT,
    PEOPLE_TO_ACCOUNT_FOR,
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


def answer(schema: dict, media: str = JSON, description: str = "OK") -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def problems(codes) -> dict:
    return {
        str(code): {"$ref": f"#/components/responses/{'TooMany' if code == 429 else 'Problem'}"}
        for code in codes
    }


def read(summary: str, schema: dict, errors=READS, media: str = JSON, **more) -> dict:
    """A GET route: its answer and what can go wrong."""
    responses = {"200": answer(schema, media), **problems(errors)}
    return {"get": {"summary": summary, "responses": responses, **more}}


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
        return read(f"{summary} (duty manager, admin)", schema, media=media)
    return read(
        f"{summary} (duty manager, admin)",
        schema,
        (400, *READS),
        media,
        parameters=[REPORT_LANGUAGE],
    )


# Routes that are not a command's route (enroll reads its code itself).
READ_ROUTES = {
    "/api/sites": read("The sites I may see (all of them for a chain admin)", SITES, ANYONE),
    "/api/sites/{site}/state": read(
        "The whole state of the site at a sequence number; responders get everyone's roll-call "
        "row and the open backup requests, staff the counts and their own row",
        ref("State"),
    ),
    "/api/sites/{site}/events": read(
        "Events after ?after=N (at most ?limit=, 1000), as Socket.IO sends them",
        EVENTS,
        (400, *READS),
        parameters=[
            {"name": "after", "in": "query", "schema": {**ID, "minimum": 0}},
            {"name": "limit", "in": "query", "schema": {**ID, "minimum": 0}},
        ],
    ),
    "/api/sites/{site}/incidents": read(
        "Incident history, newest first, drills marked (duty manager, admin)", INCIDENTS
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
        "The site's set-up as in its site file, with the default wording (admin)", SETUP
    ),
    "/api/sites/{site}/scripts": read(
        "The customer scripts of every incident kind in every language of the site", SCRIPTS
    ),
    "/api/me": read(
        "Who I am signed in as (and my CSRF token when signed in by cookie)", ref("Me"), ANYONE
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
    ),
    "/api/me/data": read(
        "Everything held about me: my person, devices, roll calls, requests and log entries",
        HELD_ABOUT_ME,
        ANYONE,
    ),
    "/api/sites/{site}/staff/{staff_id}/data": read(
        "Everything held about one person of the site (admin), as /api/me/data", HELD_ABOUT_ME
    ),
    "/api/sites/{site}/webhooks": read(
        "The site's webhook subscriptions: where to (the origin only), what, how many pending "
        "(admin)",
        WEBHOOKS,
    ),
    "/api/sites/{site}/webhooks/deliveries": read(
        "The webhook delivery log, newest first, with every attempt (admin)",
        WEBHOOK_DELIVERIES,
        (400, *READS),
        parameters=[
            {"name": "webhook_id", "in": "query", "schema": ID},
            {"name": "limit", "in": "query", "schema": {**ID, "maximum": 500}},
        ],
    ),
    "/api/sites/{site}/readiness": read(
        "Whether each person's phone can be reached now and each mailbox's credentials work, "
        "and why not (duty manager, admin)",
        READINESS,
    ),
    "/api/push/vapid-public-key": read(
        "The applicationServerKey a browser subscribes with",
        obj({"key": {"type": "string"}}),
        ANYONE,
    ),
    "/api/sites/{site}/visitors": read(
        "The visitors and contractors on site now (guard, duty manager, admin)", VISITORS_NOW
    ),
    "/api/sites/{site}/incidents/current/people": read(
        "Everyone on the incident's roll, how each was accounted for, the assembly points and "
        "the counts: the marshal's screen (marshals: guards, duty managers, admins, and staff "
        "the site file marks marshal)",
        PEOPLE_TO_ACCOUNT_FOR,
        (409, *READS),
    ),
    "/api/sites/{site}/incidents/current/unaccounted": read(
        "Who is not accounted for, with where each was last known to be, and the zones not "
        "swept clear: what the fire brigade asks (guard, duty manager, admin)",
        UNACCOUNTED,
        (409, *READS),
    ),
    "/api/sites/{site}/visitors/self": read(
        "A visitor's own visit, from the personal link's token in the X-Visitor-Link header "
        "(no account)",
        MY_VISIT,
        (404, 429),
        parameters=[
            {"name": "X-Visitor-Link", "in": "header", "required": True, "schema": STRING_}
        ],
    ),
    "/api/vocabulary": read(
        "The words of the state and the log, which the app reads instead of keeping copies",
        VOCABULARY,
        ANYONE,
    ),
    "/api/openapi.json": read(
        "This document",
        obj({"openapi": {"type": "string"}, "info": {"type": "object"}}, closed=False),
        ANYONE,
    ),
    "/api/enroll/{code}": {
        "get": {
            "summary": "Whose enrollment link this is (name, language, site), without using it",
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


def document() -> dict:
    paths = {
        path: {
            method: {
                **operation,
                "parameters": path_parameters(path) + operation.get("parameters", []),
            }
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
            if endpoint in PUBLIC_ENDPOINTS | VISITOR_ENDPOINTS:
                operation["security"] = []
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
