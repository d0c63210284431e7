"""Documentation is tested: every route, event type, setting and CLI command is in README.md,
and every API route is in the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

from server.api.docs import openapi_path
from server.events import EVENT_TYPES
from server.realtime import ACTIONS
from server.settings import ENVIRONMENT

README = (REPO / "README.md").read_text()


def routes(app) -> list[tuple[str, str]]:
    return [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def test_every_route_is_in_the_readme(app):
    missing = [
        f"{method} {rule}"
        for method, rule in routes(app)
        if re.sub(r"<\w+:(\w+)>", r"<\1>", rule) not in README
    ]
    assert missing == []


def test_every_api_route_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    missing = [
        f"{method} {rule}"
        for method, rule in routes(client.application)
        if rule.startswith("/api/")
        and method.lower() not in document["paths"].get(openapi_path(rule[4:]), {})
    ]
    assert missing == []
    assert document["openapi"].startswith("3.")


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_is_in_the_readme(event_type):
    assert f"`{event_type}`" in README


@pytest.mark.parametrize("variable", [variable for variable, *_ in ENVIRONMENT])
def test_every_setting_is_in_the_readme(variable):
    assert f"`{variable}`" in README


@pytest.mark.parametrize("command", sorted(ACTIONS))
def test_every_socket_action_is_in_the_readme(command):
    assert f"`{command}`" in README


def test_every_cli_command_is_in_the_readme(app):
    missing = [cli for cli in app.cli.commands if f"flask --app server {cli}" not in README]

    assert missing == []
    assert "backup" in app.cli.commands
