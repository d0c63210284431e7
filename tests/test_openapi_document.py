"""The OpenAPI document is one a client generator can use: where the API is (`servers`), an
area (tag) and a description for every operation, unique operation ids, and the public
channels' routes with what they answer. Redocly CLI's recommended rules and Spectral's
spectral:oas find nothing more than the missing licence and contact (docs/http-api.md)."""

from __future__ import annotations

import dataclasses
import inspect
from collections import Counter

import pytest

from server import create_app
from server.commands import routed

PUBLIC = ("/status/", "/cap/", "/phone/", "/embed/", "/screen/")


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_document_says_where_the_api_is(document, settings, tmp_path):
    assert document["servers"] == [{"url": "/", "description": "this deployment"}]

    deployed = dataclasses.replace(settings, public_url="https://exit.example/shop/")
    app = create_app(deployed)
    try:
        served = app.test_client().get("/api/openapi.json").get_json()
    finally:
        app.extensions["exitnow"].store.close()
    assert [server["url"] for server in served["servers"]] == ["https://exit.example/shop"]


def test_every_operation_is_in_one_declared_area_and_says_what_it_does(document):
    areas = {tag["name"]: tag["description"] for tag in document["tags"]}
    assert all(areas.values())
    untagged = [label for label, op in operations(document) if len(op.get("tags", [])) != 1]
    unknown = [label for label, op in operations(document) if not set(op["tags"]) <= set(areas)]
    undescribed = [label for label, op in operations(document) if not op.get("description")]
    assert untagged == unknown == undescribed == []
    used = {tag for _, op in operations(document) for tag in op["tags"]}
    assert used == set(areas)  # no area declared and left empty


def test_operation_ids_are_unique(document):
    ids = Counter(op["operationId"] for _, op in operations(document))
    assert [name for name, times in ids.items() if times > 1] == []
    assert "" not in ids


def test_a_command_is_described_by_its_own_docstring(document):
    for command in routed():
        label, operation = next(
            (label, op) for label, op in operations(document) if op["operationId"] == command.name
        )
        assert operation["description"].startswith(inspect.getdoc(command.apply) or "Who may")


def test_the_public_channels_are_in_the_document_with_their_media_types(app, document):
    public = {
        rule.rule: rule.methods - {"HEAD", "OPTIONS"}
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("public.")
    }
    documented = {
        path: methods for path, methods in document["paths"].items() if path.startswith(PUBLIC)
    }
    assert {prefix for prefix in PUBLIC if any(p.startswith(prefix) for p in documented)} == set(
        PUBLIC
    )
    assert len(documented) == len(public)
    assert sum(len(methods) for methods in documented.values()) == sum(map(len, public.values()))
    media = {
        path: next(iter(methods["get"]["responses"]["200"]["content"]))
        for path, methods in documented.items()
    }
    assert media["/status/{site}.json"] == "application/json"
    assert media["/status/{site}"] == "text/html"
    assert media["/embed/{site}/banner.js"] == "text/javascript"
    assert media["/phone/{site}/{lang}.twiml"] == "text/xml"
    assert media["/phone/{site}/{lang}.ssml"] == "application/ssml+xml"
    assert media["/phone/{site}/{lang}.txt"] == "text/plain"
    assert media["/screen/{site}"] == "text/html"
    assert (
        media["/cap/{site}.xml"] == media["/cap/{site}/{identifier}.xml"] == "application/cap+xml"
    )
    assert media["/cap/{site}.atom"] == "application/atom+xml"
    assert all(op["security"] == [] for _, methods in documented.items() for op in methods.values())
