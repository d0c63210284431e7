"""Documentation is tested: every route, event type, setting and CLI command is in README.md,
and every API route is in the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

from server.api.docs import openapi_path
from server.commands import COMMANDS, routed, socket_actions
from server.events import EVENT_TYPES
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


@pytest.mark.parametrize("command", sorted(socket_actions()))
def test_every_socket_action_is_in_the_readme(command):
    assert f"`{command}`" in README


# --- each command is declared once (server/commands/): the rest follows from it ------------


@pytest.mark.parametrize("command", routed(), ids=lambda command: command.name)
def test_every_routed_command_is_in_the_openapi_document(client, command):
    operation = client.get("/api/openapi.json").get_json()["paths"][
        openapi_path(command.route.rule)
    ]
    assert operation["post"]["operationId"] == command.name
    assert str(command.route.status) in operation["post"]["responses"]


@pytest.mark.parametrize("command", routed(), ids=lambda command: command.name)
def test_every_routed_command_is_in_the_readme_table(command):
    path = "/api" + re.sub(r"<\w+:(\w+)>", r"<\1>", command.route.rule)
    assert f"| `POST {path}` |" in README


def test_the_socket_runs_only_the_commands_declared_for_it(live_server, connect):
    """A command not declared for the socket is refused, even to the admin who may run it over
    HTTP, and nothing is logged; one declared for it runs."""
    token = live_server.token("admin", "Anna")
    admin = connect(live_server.url, token)
    refused = sorted(set(COMMANDS) - socket_actions())
    assert {"configure_notices", "create_token", "import_site", "set_language"} <= set(refused)
    seq = admin.act("start_incident", {"kind": "fire", "drill": True})["result"]["seq"]
    for name in refused:
        answer = admin.act(name, {})
        assert answer["ok"] is False, name
        assert "command is one of" in answer["error"]["detail"], name
    events = live_server.get(f"/api/sites/demo/events?after={seq}", token).json()
    assert events["events"] == []


def test_every_cli_command_is_in_the_readme(app):
    missing = [cli for cli in app.cli.commands if f"flask --app server {cli}" not in README]

    assert missing == []
    assert "backup" in app.cli.commands
