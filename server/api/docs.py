"""The OpenAPI 3 document, built from the command routes and their input schemas, so that
the documentation cannot drift from what the server checks."""

from __future__ import annotations

import re

from flask import jsonify

from ..commands import COMMANDS
from ..commands.fields import Field
from . import COMMAND_ROUTES, api

PROBLEM = {"$ref": "#/components/responses/Problem"}
ERRORS = {str(code): PROBLEM for code in (400, 401, 403, 404, 409, 422)}

# Routes that are not commands, described by hand.
READ_ROUTES = {
    "/api/sites/{site}/state": {
        "get": {
            "summary": "The whole state of the site at a sequence number (seq, incident, zones, roll call)",
            "responses": {
                "200": {"description": "state; `incident` is null when none is active"},
                **ERRORS,
            },
        }
    },
    "/api/sites/{site}/incidents": {
        "get": {
            "summary": "Incident history, newest first, drills marked (duty manager, admin)",
            "responses": {"200": {"description": "{incidents}"}, **ERRORS},
        }
    },
    **{
        f"/api/sites/{{site}}/incidents/{{incident_id}}/report.{fmt}": {
            "get": {
                "summary": f"The evidence report as {fmt.upper()} (duty manager, admin)",
                "responses": {"200": {"description": description}, **ERRORS},
            }
        }
        for fmt, description in (
            ("json", "{events (seq, ts, type, actor, hash), channels, verification, ...}"),
            ("csv", "one row per event"),
            ("html", "a page that prints well"),
            ("pdf", "the same, as PDF"),
        )
    },
    "/api/sites": {
        "get": {
            "summary": "The sites I may see (all of them for a chain admin), open or closed",
            "responses": {"200": {"description": "{sites: [{id, name, incident}]}"}, **ERRORS},
        }
    },
    "/api/sites/{site}/setup": {
        "get": {
            "summary": "The site's set-up as in its site file, with the default wording (admin)",
            "responses": {"200": {"description": "{config, defaults, kinds}"}, **ERRORS},
        }
    },
    "/api/sites/{site}/scripts": {
        "get": {
            "summary": "The customer scripts of every incident kind in every language of the site",
            "responses": {"200": {"description": "{languages, language_names, scripts}"}, **ERRORS},
        }
    },
    "/api/sites/{site}/events": {
        "get": {
            "summary": "Events after ?after=N (at most ?limit=, 1000), as Socket.IO sends them",
            "parameters": [
                {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            ],
            "responses": {"200": {"description": "{events, seq}"}, **ERRORS},
        }
    },
    "/api/sites/{site}/staff/{staff_id}/enrollment-links": {
        "post": {
            "summary": "A single-use, expiring enrollment link for a staff member (duty manager, admin)",
            "responses": {"201": {"description": "{code, path, url, expires_at, seq}"}, **ERRORS},
        }
    },
    "/api/enroll": {
        "post": {
            "summary": "Use an enrollment code; sets the device's session cookie",
            "security": [],
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {"code": {"type": "string"}},
                        }
                    }
                }
            },
            "responses": {
                "201": {"description": "{site, role, name, staff_id, csrf_token}"},
                **ERRORS,
            },
        }
    },
    "/api/me": {
        "get": {
            "summary": "Who I am signed in as (and my CSRF token when signed in by cookie)",
            "responses": {
                "200": {"description": "{site, role, name, staff_id, csrf_token?}"},
                **ERRORS,
            },
        }
    },
    "/api/push/vapid-public-key": {
        "get": {
            "summary": "The applicationServerKey a browser subscribes with",
            "security": [],
            "responses": {"200": {"description": "{key}"}},
        }
    },
    "/api/push/subscriptions": {
        "post": {
            "summary": "Store this device's Web Push subscription",
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["subscription"],
                            "properties": {"subscription": {"type": "object"}},
                        }
                    }
                }
            },
            "responses": {"201": {"description": "{subscription_id, seq}"}, **ERRORS},
        }
    },
    "/api/me/language": {
        "post": {
            "summary": "Set my language (the app and my pushed alarms)",
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["language"],
                            "properties": {
                                "language": {"type": "string", "enum": ["fi", "sv", "en"]}
                            },
                        }
                    }
                }
            },
            "responses": {"200": {"description": "{changed, seq}"}, **ERRORS},
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3"}},
        }
    },
}

FIELD_TYPES = {
    "text": {"type": "string"},
    "bool": {"type": "boolean"},
    "int": {"type": "integer", "minimum": 1},
    "time": {"type": "string", "format": "date-time"},
    "list": {"type": "array", "items": {"type": "string"}},
    "object": {"type": "object"},
}


def openapi_path(rule: str) -> str:
    """Flask's /sites/<site>/x/<int:id> as OpenAPI's /api/sites/{site}/x/{id}."""
    return "/api" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def field_schema(field: Field) -> dict:
    if field.kind == "choice":
        return {"type": "string", "enum": list(field.choices)}
    schema = dict(FIELD_TYPES[field.kind])
    if field.kind == "text":
        schema["maxLength"] = field.max_length
    return schema


def command_operation(route) -> dict:
    command = COMMANDS[route.command]
    in_path = set(re.findall(r"<(?:\w+:)?(\w+)>", route.rule)) - {"site"}
    body = {name: f for name, f in command.schema.items() if name not in in_path}
    operation = {
        "summary": route.summary,
        "operationId": route.command,
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "responses": {
            str(route.status): {"description": "the command's result, with `seq`"},
            **ERRORS,
        },
    }
    if body:
        operation["requestBody"] = {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [name for name, f in body.items() if f.required],
                        "properties": {name: field_schema(f) for name, f in body.items()},
                    }
                }
            }
        }
    return operation


def path_parameters(path: str) -> list[dict]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if name.endswith("_id") else "string"},
        }
        for name in re.findall(r"{(\w+)}", path)
    ]


def document() -> dict:
    paths = {path: dict(operations) for path, operations in READ_ROUTES.items()}
    for route in COMMAND_ROUTES:
        paths.setdefault(openapi_path(route.rule), {})["post"] = command_operation(route)
    for path, operations in paths.items():
        for operation in operations.values():
            operation["parameters"] = path_parameters(path) + operation.get("parameters", [])
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Exit Now",
            "version": "1.0.0",
            "description": "Emergency evacuation coordination. Errors are application/problem+json.",
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
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "The same key again gives the same answer and writes nothing more.",
                }
            },
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem: type, title, status, detail",
                    "content": {
                        "application/problem+json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string"},
                                    "title": {"type": "string"},
                                    "status": {"type": "integer"},
                                    "detail": {"type": "string"},
                                },
                            }
                        }
                    },
                }
            },
        },
    }


@api.get("/openapi.json")
def openapi():
    return jsonify(document())
