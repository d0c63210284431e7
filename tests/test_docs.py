"""Documentation is tested: the tables of docs/ and README.md's contract index name exactly
what the code declares, both ways. Each routes table, the socket's messages and actions, the
event types, the settings, the command line and the site file's fields: a name the code has
and the docs lack fails, and so does a name the docs have and the code does not. Every API
route is also in the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from harness import REPO
from server.api.docs import openapi_path
from server.basics.settings import ENVIRONMENT
from server.channels import NoticeSettings
from server.commands import COMMANDS, routed, site_config, socket_actions
from server.live.realtime import HEARD_BY_THE_WRITER
from server.store.events import EVENT_TYPES, RESPONDER_ONLY_EVENTS

DOCS = REPO / "docs"
README = REPO / "README.md"
ROUTE = re.compile(r"(GET|POST|PUT|PATCH|DELETE) (/\S*)")
CODE_SPAN = re.compile(r"`([^`]+)`")
# Socket.IO's own events, which every namespace has: not messages of ours.
SOCKETIO_EVENTS = {"connect", "disconnect"}


# --- reading the docs ------------------------------------------------------------------------


def prose(path: Path) -> str:
    """A page without its fenced code blocks (examples, not declarations)."""
    return re.sub(r"^ *```.*?^ *```", "", path.read_text(), flags=re.S | re.M)


def tables(path: Path, header: str) -> list[list[str]]:
    """The rows (as cells) of every table in the page whose first header cell is `header`."""
    rows, inside = [], False
    for line in prose(path).splitlines():
        if not line.startswith("|"):
            inside = False
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if not inside:
            inside = cells[0] == header
        elif not set(cells[0]) <= {"-"}:
            rows.append(cells)
    return rows


def column(path: Path, header: str, index: int = 0) -> list[str]:
    """Every code span in one column of those tables, in order (a repeat stays a repeat)."""
    return [name for row in tables(path, header) for name in CODE_SPAN.findall(row[index])]


def route_of(text: str) -> str | None:
    """`GET /api/sites/<site>/events?after=N` -> `GET /api/sites/<site>/events`."""
    match = ROUTE.fullmatch(text)
    return match and f"{match[1]} {match[2].split('?')[0]}"


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def contract_index(section: str) -> str:
    """One `### section` of README.md's contract index, as text."""
    index = README.read_text().split("\n## Contract index\n", 1)[1]
    for part in re.split(r"^### ", index, flags=re.M)[1:]:
        title, body = part.split("\n", 1)
        if title.split(" (")[0] == section:
            return body
    raise KeyError(section)


# --- what the code declares ------------------------------------------------------------------


def without_converters(rule: str) -> str:
    """`/sites/<site>/help-requests/<int:help_id>` -> `.../<help_id>`, as the docs write it."""
    return re.sub(r"<\w+:(\w+)>", r"<\1>", rule)


def declared_routes(app) -> list[str]:
    return sorted(
        f"{method} {without_converters(rule.rule)}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def messages_heard(app) -> set[tuple[str, str]]:
    """(namespace, message) the server has a handler for, or its writer answers."""
    handlers = app.extensions["socketio"].server.handlers
    return {(ns, name) for ns, names in handlers.items() for name in names} - {
        (ns, name) for ns in handlers for name in SOCKETIO_EVENTS
    } | HEARD_BY_THE_WRITER


def messages_sent() -> set[str]:
    """Every message name the server emits (`emit("name", ...)` anywhere in server/, or
    `send_encoded(socketio, sid, "name", ...)`: a message whose data is encoded once)."""
    sent = r"(?:emit\(\s*|send_encoded\(\s*\w+,\s*\w+,\s*)\"(\w+)\""
    return {
        name
        for path in (REPO / "server").rglob("*.py")
        for name in re.findall(sent, path.read_text())
    }


def settings() -> list[str]:
    return sorted(variable for variable, *_ in ENVIRONMENT)


# --- routes ----------------------------------------------------------------------------------


def documented_routes() -> dict[str, list[str]]:
    """Each route named in the first column of a routes table, with the pages naming it."""
    found: dict[str, list[str]] = {}
    for page in pages():
        for name in column(page, "method and path"):
            if route := route_of(name):
                found.setdefault(route, []).append(page.name)
    return found


def test_every_route_is_in_exactly_one_docs_table_and_every_row_is_a_route(app):
    documented = documented_routes()
    assert sorted(documented) == declared_routes(app)
    assert {route: where for route, where in documented.items() if len(where) > 1} == {}


def test_every_route_the_docs_mention_exists(app):
    """Prose too: `POST /api/...` in a sentence must name a real route."""
    declared = set(declared_routes(app))
    named = {
        (path.name, route)
        for path in [README, *pages()]
        for span in CODE_SPAN.findall(prose(path))
        if (route := route_of(span))
    }
    assert sorted(item for item in named if item[1] not in declared) == []


def test_the_contract_index_lists_every_route_once_linking_its_page(app):
    lines = re.findall(
        r"^- `([^`]+)` \(\[[\w-]+\]\(docs/([\w-]+\.md)\)\)$", contract_index("Routes"), re.M
    )
    assert sorted(route_of(route) for route, _ in lines) == declared_routes(app)
    where = {route: pages_[0] for route, pages_ in documented_routes().items()}
    assert [(route, page) for route, page in lines if where.get(route) != page] == []


def test_every_api_route_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    missing = [
        route
        for route in declared_routes(client.application)
        if route.split()[1].startswith("/api/")
        and route.split()[0].lower()
        not in document["paths"].get(openapi_path(route.split()[1][4:]), {})
    ]
    assert missing == []
    assert document["openapi"].startswith("3.")


@pytest.mark.parametrize("command", routed(), ids=lambda command: command.name)
def test_every_routed_command_is_in_the_openapi_document(client, command):
    operation = client.get("/api/openapi.json").get_json()["paths"][
        openapi_path(command.route.rule)
    ]
    assert operation["post"]["operationId"] == command.name
    assert str(command.route.status) in operation["post"]["responses"]


# --- events ----------------------------------------------------------------------------------


def test_the_events_table_is_every_event_type_once():
    assert sorted(column(DOCS / "events.md", "type")) == sorted(EVENT_TYPES)


def test_the_events_table_says_who_reads_each_as_the_publisher_does():
    read_by = {CODE_SPAN.findall(row[0])[0]: row[1] for row in tables(DOCS / "events.md", "type")}
    expected = {
        type_: "responders" if type_ in RESPONDER_ONLY_EVENTS else "everyone"
        for type_ in EVENT_TYPES
    }
    assert read_by == expected


def test_the_contract_index_lists_every_event_type_once():
    assert sorted(CODE_SPAN.findall(contract_index("Event types"))) == sorted(EVENT_TYPES)


# --- settings --------------------------------------------------------------------------------


def test_the_settings_table_is_every_setting_once():
    assert sorted(column(DOCS / "operations.md", "variable")) == settings()


def test_the_contract_index_lists_every_setting_once():
    assert sorted(CODE_SPAN.findall(contract_index("Settings"))) == settings()


def test_every_variable_the_docs_mention_is_a_setting():
    """An `EXITNOW_*` named in the docs is the server's setting, or the bridge's own."""
    bridge = set(re.findall(r"EXITNOW_\w+", (REPO / "server" / "bridge.py").read_text()))
    known = set(settings()) | bridge
    named = {
        (path.name, variable)
        for path in [README, *pages()]
        for span in CODE_SPAN.findall(prose(path))
        for variable in re.findall(r"\bEXITNOW_[A-Z_]+\b", span)
    }
    assert sorted(item for item in named if not is_known(item[1], known)) == []


def is_known(variable: str, known: set[str]) -> bool:
    """A variable of `known`; or a family such as `EXITNOW_TWILIO_*`, which one must start."""
    if variable.endswith("_"):
        return any(name.startswith(variable) for name in known)
    return variable in known


# --- the socket ------------------------------------------------------------------------------


def test_the_socket_actions_table_is_every_action_once_with_its_route():
    rows = tables(DOCS / "realtime.md", "action")
    assert sorted(CODE_SPAN.findall(row[0])[0] for row in rows) == sorted(socket_actions())
    wrong = [
        row[0]
        for row in rows
        if route_of(row[1].strip("`"))
        != "POST /api" + without_converters(COMMANDS[row[0].strip("`")].route.rule)
    ]
    assert wrong == []


def test_the_socket_messages_table_is_every_message_heard_and_sent(app):
    rows = tables(DOCS / "realtime.md", "message")
    heard = {(row[2], row[1].strip("`"), row[0].strip("`")) for row in rows}
    assert {
        (ns, name) for direction, ns, name in heard if direction == "client to server"
    } == messages_heard(app)
    assert {
        name for direction, _, name in heard if direction == "server to client"
    } == messages_sent()
    assert len(rows) == len(heard)


def test_the_contract_index_lists_every_socket_message_and_action(app):
    socket = contract_index("Socket.IO")
    messages, actions = socket.split("\n- actions:", 1)
    names = {name for _, name in messages_heard(app)} | messages_sent()
    assert sorted(CODE_SPAN.findall(messages)) == sorted(names)
    assert sorted(CODE_SPAN.findall(actions)) == sorted(socket_actions())


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


# --- the command line ------------------------------------------------------------------------


def cli_names(text: str) -> list[str]:
    return re.findall(r"^flask --app server ([a-z-]+)", text, re.M)


def test_the_command_line_table_is_every_cli_command_once(app):
    named = [name for span in column(DOCS / "operations.md", "command") for name in cli_names(span)]
    assert sorted(named) == sorted(app.cli.commands)
    assert "backup" in app.cli.commands


def test_the_contract_index_lists_every_cli_command_once(app):
    named = [
        name
        for span in CODE_SPAN.findall(contract_index("Command line"))
        for name in cli_names(span)
    ]
    assert sorted(named) == sorted(app.cli.commands)


# --- the site file ---------------------------------------------------------------------------


def test_the_site_file_table_is_every_field_of_the_file():
    assert sorted(column(DOCS / "site-file.md", "field")) == sorted(site_config.FILE_FIELDS)


def test_the_notice_settings_table_is_every_notice_setting():
    named = sorted(column(DOCS / "site-file.md", "setting"))
    assert named == sorted(field.name for field in fields(NoticeSettings))


def test_the_site_file_example_imports_without_a_mistake():
    example = re.search(r"```yaml\n(.*?)```", (DOCS / "site-file.md").read_text(), re.S)[1]
    assert site_config.check(site_config.parse(example)) == []


# --- links -----------------------------------------------------------------------------------


def test_every_link_between_the_pages_leads_to_a_file():
    broken = [
        (path.name, target)
        for path in [README, *pages()]
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
        if not target.startswith(("http://", "https://", "mailto:"))
        and not (path.parent / target).exists()
    ]
    assert broken == []


def test_every_file_the_docs_name_exists():
    """`server/live/publish.py`, `deploy/nginx/`, `server/texts/<lang>.json` (some file of that
    pattern): a file moved or renamed without its docs fails here."""
    missing = [
        (path.name, name)
        for path in [README, *pages()]
        for name in CODE_SPAN.findall(prose(path))
        if re.match(r"(server|deploy|pwa|bench|tests|docs)/", name)
        # `server/texts/<lang>.json`: some file must fit the pattern.
        and not any(REPO.glob(re.sub(r"<\w+>", "*", name).rstrip("/")))
    ]
    assert missing == []


# --- faults ----------------------------------------------------------------------------------


def test_the_fault_table_names_exactly_the_commands_a_full_disk_still_writes():
    """The operator learns there what still works when the disk is full: the commands declared
    `reserve=True`, no more and no fewer."""
    [full] = [
        row for row in tables(DOCS / "operations.md", "fault") if row[0] == "the disk is full"
    ]
    listed = re.search(r"`reserve=True`: (.*?), and the start's", full[1])[1]
    reserved = [name for name, declared in COMMANDS.items() if declared.reserve]
    assert sorted(CODE_SPAN.findall(listed)) == sorted(reserved)
