"""A site's set-up as one file: import it, export it back, and a file with mistakes names each
one by line and field and changes nothing."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from harness import flask_cli, outside_store
from server.basics.errors import Invalid
from server.commands.sites import checked_id

SHOP = """\
site: shop-42
name: Kauppa 42
timezone: Europe/Helsinki
languages: [fi, sv, en]
zones:
  - id: floor
    name: Sales floor
    exits: [Front door, Back door]
    assembly_point: Parking lot
  - id: back
    name: Back office
    exits: [Back door]
    assembly_point: Parking lot
staff:
  - name: Maria
    role: duty_manager
    home_zone: floor
    language: sv
  - name: Juha
    role: staff
    home_zone: back
notices:
  restored_minutes: 15
  public_on_drill: true
scripts:
  en:
    fire:
      title: Fire!
      lines: [Leave your basket., Walk to the nearest exit.]
"""


def events_in(settings) -> int:
    if settings.database_url is None and not os.path.exists(settings.db_path):
        return 0
    with outside_store(settings.db_path) as raw:
        return raw.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def test_import_then_export_gives_back_an_equivalent_file(settings, tmp_path):
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP)

    imported = flask_cli(settings.db_path, "site-import", str(source))
    exported = flask_cli(settings.db_path, "site-export", "shop-42")

    assert imported.returncode == 0, imported.stderr
    assert "2 zones, 2 people" in imported.stdout
    original = yaml.safe_load(SHOP)
    original["staff"][1]["language"] = "fi"  # the defaults an export spells out
    # The older shape's free-text assembly point comes back as a place the zones name by id.
    original = {**original, "assembly_points": [{"id": "parking-lot", "name": "Parking lot"}]}
    for zone in original["zones"]:
        zone["assembly_point"] = "parking-lot"
    assert yaml.safe_load(exported.stdout) == original
    as_json = flask_cli(settings.db_path, "site-export", "shop-42", "--json")
    assert json.loads(as_json.stdout) == original


def test_an_exported_file_imports_again_changing_nothing(settings, tmp_path):
    source, again = tmp_path / "shop-42.yaml", tmp_path / "again.yaml"
    source.write_text(SHOP)
    flask_cli(settings.db_path, "site-import", str(source))
    again.write_text(flask_cli(settings.db_path, "site-export", "shop-42").stdout)
    before = flask_cli(settings.db_path, "verify-log").stdout

    assert flask_cli(settings.db_path, "site-import", str(again)).returncode == 0

    logged = entries(flask_cli(settings.db_path, "verify-log").stdout) - entries(before)
    assert logged == 1  # the import itself (site.imported), and no zone or point again


def test_import_of_a_changed_file_updates_the_site(settings, tmp_path):
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP)
    flask_cli(settings.db_path, "site-import", str(source))
    source.write_text(SHOP.replace("name: Back office", "name: Office and stock"))

    assert flask_cli(settings.db_path, "site-import", str(source)).returncode == 0

    exported = yaml.safe_load(flask_cli(settings.db_path, "site-export", "shop-42").stdout)
    assert exported["zones"][1]["name"] == "Office and stock"
    assert len(exported["staff"]) == 2


@pytest.mark.parametrize(
    ("change", "line", "field"),
    [
        (("role: staff", "role: cashier"), 20, "staff[1].role"),
        (("home_zone: back", "home_zone: roof"), 21, "staff[1].home_zone"),
        (("id: back", "id: Back Office"), 10, "zones[1].id"),
        (("timezone: Europe/Helsinki", "timezone: Mars/Olympus"), 3, "timezone"),
        (("restored_minutes: 15", "restored_minutes: soon"), 23, "notices.restored_minutes"),
        (
            (
                "public_on_drill: true\n",
                "public_on_drill: true\n  texts: {en: {closed: {fire: {"
                "headline: 'Closed {because}'}}}}\n",
            ),
            25,
            "notices.texts.en.closed.fire.headline",
        ),
        (
            (
                "public_on_drill: true\n",
                "public_on_drill: true\n  texts: {sv: {closed: {fire: x}}}\n",
            ),
            25,
            "notices.texts.sv.closed.fire",
        ),
        (
            ("    assembly_point: Parking lot\n  - id: back", "    colour: red\n  - id: back"),
            9,
            "zones[0].colour",
        ),
    ],
)
def test_a_file_with_a_mistake_names_line_and_field_and_changes_nothing(
    settings, tmp_path, change, line, field
):
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP.replace(*change))

    result = flask_cli(settings.db_path, "site-import", str(source))

    assert result.returncode != 0
    assert f"line {line}: {field}:" in result.stderr
    assert "Nothing was changed." in result.stderr
    assert events_in(settings) == 0


def test_a_zone_id_that_add_zone_refuses_is_refused_in_a_site_file_too(settings, tmp_path):
    """One id rule (names.SLUG) for add_zone and site files: a file cannot bring in `-x`."""
    with pytest.raises(Invalid):
        checked_id("-x", "zone")
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP.replace("id: back", "id: -x").replace("zone: back", "zone: -x"))

    result = flask_cli(settings.db_path, "site-import", str(source))

    assert result.returncode != 0
    assert "line 10: zones[1].id: a zone id of a-z, 0-9" in result.stderr
    assert "starting with a letter or digit" in result.stderr
    assert events_in(settings) == 0


LONGEST = [  # (what the file says, its longest as the commands take it, the field, its line)
    ("name: Kauppa 42", "name: {}", 200, "name", 2),
    ("    name: Sales floor", "    name: {}", 200, "zones[0].name", 7),
    ("    exits: [Front door, Back door]", "    exits: [{}, Back door]", 200, "zones[0].exits", 8),
    ("    assembly_point: Parking lot\n  - id: back", "    assembly_point: {}\n  - id: back", 200,
     "zones[0].assembly_point", 9),
    ("  - name: Maria", "  - name: {}", 100, "staff[0].name", 15),
]  # fmt: skip


@pytest.mark.parametrize(("line_before", "line_after", "longest", "field", "line"), LONGEST)
def test_a_name_in_a_file_is_as_long_as_its_command_takes_and_no_longer(
    settings, tmp_path, line_before, line_after, longest, field, line
):
    """The same limit as adding it through the API: the longest is imported, one more is
    refused by line and field, and nothing changes."""
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP.replace(line_before, line_after.format("N" * (longest + 1))))
    refused = flask_cli(settings.db_path, "site-import", str(source))
    assert refused.returncode != 0
    assert f"line {line}: {field}: at most {longest} characters" in refused.stderr
    assert events_in(settings) == 0

    source.write_text(SHOP.replace(line_before, line_after.format("N" * longest)))
    imported = flask_cli(settings.db_path, "site-import", str(source))
    assert imported.returncode == 0, imported.stderr


def test_a_file_that_is_not_yaml_says_where(settings, tmp_path):
    source = tmp_path / "broken.yaml"
    source.write_text("site: shop\nzones: [\n  - id: x\n")
    result = flask_cli(settings.db_path, "site-import", str(source))
    assert result.returncode != 0
    assert "not valid YAML or JSON" in result.stderr and "line " in result.stderr


def test_the_setup_api_is_for_admins_and_checks_like_the_file(api_as, event_count):
    assert api_as("duty_manager").get("/api/sites/demo/setup").status_code == 403
    admin = api_as("admin")
    config = admin.get("/api/sites/demo/setup").get_json()["config"]
    config["notices"]["texts"] = {"fi": {"closed": {"fire": {"headline": "Suljettu {syy}"}}}}
    before = event_count()
    refused = admin.post("/api/sites/demo/setup", {"config": config})
    assert refused.status_code == 400
    assert "notices.texts.fi.closed.fire.headline" in refused.get_json()["detail"]
    assert event_count() == before
    config["notices"]["texts"] = {"fi": {"closed": {"fire": {"headline": "{site} on kiinni"}}}}
    assert admin.post("/api/sites/demo/setup", {"config": config}).status_code == 200
    saved = admin.get("/api/sites/demo/setup").get_json()["config"]
    assert saved["notices"]["texts"]["fi"]["closed"]["fire"]["headline"] == "{site} on kiinni"


def entries(verified: str) -> int:
    """How many entries `verify-log` says it verified."""
    return int(re.search(r"(\d+) entries verified", verified)[1])
