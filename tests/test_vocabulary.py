"""The server's words (languages, incident kinds, all-clear reasons, how events change the
state) are defined once, in server/basics/names.py and server/store/projectors/, and served to the app
at GET /api/vocabulary: the app keeps no copy of its own."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from harness import REPO
from server.basics.names import DEFAULT_LANGUAGE, END_REASONS, KINDS, LANGUAGES
from server.channels import EMAIL_PROVIDERS, NoticeSettings
from server.commands import socket_actions
from server.rules.auth import ROLES
from server.store.events import EVENT_TYPES
from server.store.projectors.roll_call import ROLL_CALL_COLUMNS
from server.store.projectors.zones import SWEEP_STATUS

APP = REPO / "pwa" / "js"
TEXTS = REPO / "pwa" / "texts"
QUOTED = re.compile(r""""([^"\\\n]*)"|'([^'\\\n]*)'""")
LITERAL = re.compile(r"\[[^\[\]]*\]|\{[^{}]*\}")  # an array or object literal, innermost
DOTTED = re.compile(r"[a-z_]+\.[a-z_]+")


def language_names() -> dict[str, str]:
    texts = REPO / "server" / "texts"
    return {
        lang: json.loads((texts / f"{lang}.json").read_text())["language_name"]
        for lang in LANGUAGES
    }


def quoted(source: str) -> set[str]:
    """Every quoted string in a piece of JavaScript."""
    return {a or b for a, b in QUOTED.findall(source)}


def test_anyone_signed_in_reads_the_servers_words(api_as, client):
    served = api_as("staff").get("/api/vocabulary")

    assert served.status_code == 200
    words = served.get_json()
    # The phone sends these over its socket while it has one: each command's own route.
    routes = words.pop("socket_actions")
    assert set(routes) == socket_actions()
    assert routes["record_delivery"] == "/api/sites/<site>/incidents/current/delivered"
    assert routes["resolve_help"] == "/api/sites/<site>/help-requests/<int:help_id>/resolve"
    assert words == {
        "languages": list(LANGUAGES),
        "default_language": DEFAULT_LANGUAGE,
        "language_names": language_names(),
        "roles": list(ROLES),
        "managers": ["duty_manager", "admin"],
        "responders": ["guard", "duty_manager", "admin"],
        "kinds": list(KINDS),
        "end_reasons": list(END_REASONS),
        "sweeps": SWEEP_STATUS,
        "roll_call": {kind: list(columns) for kind, columns in ROLL_CALL_COLUMNS.items()},
        "email_providers": list(EMAIL_PROVIDERS),
    }
    assert client.get("/api/vocabulary").status_code == 401


def test_every_language_has_sentences_on_the_server_and_in_the_app():
    for folder in (REPO / "server" / "texts", TEXTS):
        assert {path.stem for path in folder.glob("*.json")} == set(LANGUAGES), folder
    assert all(language_names().values())


@pytest.mark.parametrize("name", ["LANGUAGES", "DEFAULT_LANGUAGE", "KINDS", "END_REASONS", "SLUG"])
def test_each_word_list_is_defined_once_on_the_server(name):
    defined = re.compile(rf"^{name}\s*[:=]", re.M)
    modules = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "server").rglob("*.py")
        if defined.search(path.read_text())
    ]

    assert modules == ["server/basics/names.py"]


def test_the_app_keeps_no_copy_of_the_servers_words():
    """No list of two or more kinds, reasons, languages or roles (who is a manager or a
    responder is the server's `managers` and `responders`); no language name, and none of the
    events that sweep a zone or mark the roll call, nor a roll-call column. (One word alone
    may stand in code that acts on it: the drill's own all-clear reason, Finnish hyphenation.)"""
    lists = {
        "kinds": set(KINDS),
        "end_reasons": set(END_REASONS),
        "languages": set(LANGUAGES),
        "roles": set(ROLES),
    }
    words = {
        *language_names().values(),
        *SWEEP_STATUS,
        *ROLL_CALL_COLUMNS,
        *{column for columns in ROLL_CALL_COLUMNS.values() for column in columns},
    }
    copies = set()
    for path in APP.rglob("*.js"):
        module, source = path.relative_to(REPO).as_posix(), path.read_text()
        copies |= {(module, word) for word in quoted(source) & words}
        for literal in LITERAL.findall(source):
            copies |= {
                (module, name) for name, list_ in lists.items() if len(quoted(literal) & list_) > 1
            }

    assert copies == set()


def test_every_event_type_the_app_names_is_one_the_server_logs():
    """A dotted name in the app that starts like an event type (`help.`, `zone.`, ...) and is
    no sentence of pwa/texts/ nor a field of the site file (`notices.restored_minutes`, as the
    set-up page names a mistake's field) is an event type of the log."""
    keys = {key for lang in LANGUAGES for key in json.loads((TEXTS / f"{lang}.json").read_text())}
    site_fields = {f"notices.{setting.name}" for setting in dataclasses.fields(NoticeSettings)}
    sentences = {key.rsplit(".", n)[0] for key in keys for n in range(key.count(".") + 1)}
    domains = {event_type.split(".")[0] for event_type in EVENT_TYPES}
    unknown = {
        (path.relative_to(REPO).as_posix(), name)
        for path in APP.rglob("*.js")
        for name in quoted(path.read_text())
        if DOTTED.fullmatch(name)
        and name.split(".")[0] in domains
        and name not in sentences
        and name not in site_fields
        and name not in EVENT_TYPES
    }

    assert unknown == set()
