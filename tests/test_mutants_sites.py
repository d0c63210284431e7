"""Sites as they are created and their set-up imported: what a mutation tester changed in
server/commands/sites.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

import pytest

from harness import Api
from server.basics.errors import Invalid
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def create_site(services, site: str, **params) -> dict:
    """The operator's create_site (the demo's seed runs it the same way)."""
    return execute(services, command_line(site), site, "create_site", params)


def setup_of(client, make_token, site: str) -> dict:
    """The site's set-up as its admin reads it."""
    admin = Api(client, make_token("admin", site=site))
    return admin.get(f"/api/sites/{site}/setup").get_json()["config"]


def test_a_site_name_of_200_characters_is_taken_and_one_more_is_refused(
    services, client, make_token
):
    longest = "Kauppa " + "k" * 193

    create_site(services, "longest", name=longest)
    with pytest.raises(Invalid) as refused:
        create_site(services, "too-long", name=longest + "k")

    assert setup_of(client, make_token, "longest")["name"] == longest
    assert refused.value.detail == "'name' is longer than 200 characters."
    assert refused.value.problem()["field"] == "name"


def test_a_site_without_a_name_is_refused_and_not_created(services, client, make_token):
    with pytest.raises(Invalid) as refused:
        create_site(services, "nameless", timezone="Europe/Helsinki")

    assert refused.value.detail == "'name' is required."
    create_site(services, "nameless", name="Named after all")  # the id is still free
    assert setup_of(client, make_token, "nameless")["name"] == "Named after all"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"timezone": "Mars/Olympus"}, "timezone"), ({"languages": ["fi", "xx"]}, "languages")],
)
def test_a_site_is_made_only_with_a_known_time_zone_and_languages(
    services, event_count, params, field
):
    """The same rules as a site file's: a site made with others could not import its own
    set-up again."""
    logged = event_count()
    with pytest.raises(Invalid) as refused:
        create_site(services, "mars", name="Mars", **params)

    assert refused.value.problem()["field"] == field
    assert event_count() == logged


def test_a_site_made_by_the_operator_imports_its_own_set_up_again(services, client, make_token):
    create_site(services, "annex", name="Annex", timezone="Europe/Stockholm", languages=["sv"])
    admin = Api(client, make_token("admin", site="annex"))
    config = admin.get("/api/sites/annex/setup").get_json()["config"]

    again = admin.post("/api/sites/annex/setup", {"config": config})

    assert again.status_code == 200, again.get_json()
    assert setup_of(client, make_token, "annex")["languages"] == ["sv"]


def test_a_setup_without_its_config_is_refused_naming_the_config(api_as, event_count):
    admin = api_as("admin")
    before = event_count()

    refused = admin.post(f"{SITE}/setup", {})

    assert refused.status_code == 400
    assert refused.get_json()["detail"] == "'config' is required."
    assert refused.get_json()["field"] == "config"
    assert event_count() == before


def test_a_setup_with_several_mistakes_points_at_the_first_one(api_as, event_count):
    admin = api_as("admin")
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    config["zones"][1]["id"] = "-grocery"
    config["staff"][0]["role"] = "cashier"
    before = event_count()

    refused = admin.post(f"{SITE}/setup", {"config": config}).get_json()

    fields = [problem["field"] for problem in refused["problems"]]
    assert fields[:2] == ["zones[1].id", "staff[0].role"]
    assert refused["field"] == "zones[1].id"  # where a client without `problems` looks first
    assert event_count() == before


def change_points(config: dict, change: str) -> None:
    points = config["assembly_points"]
    if change == "renamed":
        points[1]["name"] = "Parkkipaikka, pyöräkatos / Parkeringen, cykeltaket"
    else:  # reordered: B is now the first the console and the sign list
        points.reverse()


@pytest.mark.parametrize("change", ["renamed", "reordered"])
def test_an_assembly_point_changed_only_in_name_or_order_is_changed_by_the_import(api_as, change):
    admin = api_as("admin")
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    change_points(config, change)

    assert admin.post(f"{SITE}/setup", {"config": config}).status_code == 200

    state = admin.get(f"{SITE}/state").get_json()
    assert [(p["id"], p["name"]) for p in state["assembly_points"]] == [
        (p["id"], p["name"]) for p in config["assembly_points"]
    ]
    saved = admin.get(f"{SITE}/setup").get_json()["config"]
    assert saved["assembly_points"] == config["assembly_points"]


def test_an_assembly_point_the_file_no_longer_lists_is_removed(api_as):
    admin = api_as("admin")
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    config["assembly_points"] = [p for p in config["assembly_points"] if p["id"] == "lamp-post-a"]
    for zone in config["zones"]:
        zone["assembly_point"] = "lamp-post-a"

    assert admin.post(f"{SITE}/setup", {"config": config}).status_code == 200

    state = admin.get(f"{SITE}/state").get_json()
    assert [p["id"] for p in state["assembly_points"]] == ["lamp-post-a"]
    saved = admin.get(f"{SITE}/setup").get_json()["config"]
    assert [p["id"] for p in saved["assembly_points"]] == ["lamp-post-a"]


def test_an_old_zone_naming_a_declared_point_by_name_gets_that_point_at_start(services, api_as):
    """A database from before assembly points were places: a zone whose free text is the
    name of a point the site has since declared names that point, and no new one is made."""
    from server import timers
    from server.store import log, projectors

    admin = api_as("admin")
    lamp_a = admin.get(f"{SITE}/state").get_json()["assembly_points"][0]
    old_zone = {"id": "annex", "name": "Annex", "exits": [], "position": 9}
    with services.store.transaction() as db:  # as the server before assembly points wrote it
        entry = log.append(
            db,
            "demo",
            1,
            {"staff_id": None, "name": "command line", "role": "admin"},
            "zone.added",
            {**old_zone, "assembly_point": lamp_a["name"]},
        )
        projectors.apply(db, entry)

    assert timers.declare_assembly_points(services) == ["demo"]

    state = admin.get(f"{SITE}/state").get_json()
    annex = next(zone for zone in state["zones"] if zone["id"] == "annex")
    assert (annex["assembly_point_id"], annex["assembly_point"]) == (lamp_a["id"], lamp_a["name"])
    assert [p["id"] for p in state["assembly_points"]] == ["lamp-post-a", "lamp-post-b"]
