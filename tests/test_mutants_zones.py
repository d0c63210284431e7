"""Zones as staff sweep them: what a mutation tester changed in server/commands/zones.py and
no test noticed (issue 28). The app in this process."""

from __future__ import annotations

import pytest

from server.basics.errors import Invalid
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def test_a_zone_being_swept_can_be_reported_blocked_without_a_note(api_as):
    anna = api_as("staff", name="Anna")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    assert anna.post(f"{SITE}/zones/grocery/claim").get_json()["sweep"] == "claimed"

    blocked = anna.post(f"{SITE}/zones/grocery/block").get_json()

    assert (blocked["changed"], blocked["sweep"]) == (True, "blocked")


def test_a_blocked_zone_can_be_claimed_by_someone_else_to_sweep_it(api_as):
    anna, ben = api_as("staff", name="Anna"), api_as("staff", name="Ben")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"})

    claimed = ben.post(f"{SITE}/zones/stockroom/claim")

    assert claimed.status_code == 200 and claimed.get_json()["sweep"] == "claimed"


def test_a_new_note_on_a_blocked_zone_is_logged_and_the_same_one_is_not(api_as):
    anna = api_as("staff", name="Anna")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"})

    again = anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"}).get_json()
    new = anna.post(f"{SITE}/zones/stockroom/block", {"note": "Smoke behind the door"}).get_json()

    assert (again["changed"], new["changed"]) == (False, True)


# --- zones and assembly points as the demo's seed adds them ------------------------------------


def add(services, command: str, params: dict) -> dict:
    """The site's admin runs add_zone or add_assembly_point (the demo's seed runs them so)."""
    return execute(services, command_line("demo"), "demo", command, params)


def refusal(services, command: str, params: dict) -> Invalid:
    with pytest.raises(Invalid) as refused:
        add(services, command, params)
    return refused.value


ZONE = {"id": "annex", "name": "Annex", "assembly_point": "lamp-post-a"}
POINT = {"id": "gate-c", "name": "Gate C", "where": "By the loading bay"}


@pytest.mark.parametrize(
    ("command", "params", "field"),
    [
        ("add_zone", ZONE, "id"),
        ("add_zone", ZONE, "name"),
        ("add_zone", ZONE, "assembly_point"),
        ("add_assembly_point", POINT, "id"),
        ("add_assembly_point", POINT, "name"),
    ],
)
def test_a_zone_or_assembly_point_without_its_id_or_name_is_refused_naming_it(
    services, demo_links, event_count, command, params, field
):
    before = event_count()

    refused = refusal(services, command, {k: v for k, v in params.items() if k != field})

    assert (refused.status, refused.detail) == (400, f"'{field}' is required.")
    assert refused.extra == {"field": field}
    assert event_count() == before


@pytest.mark.parametrize(
    ("command", "params", "field", "longest"),
    [
        ("add_zone", ZONE, "name", 200),
        ("add_zone", ZONE, "assembly_point", 200),
        ("add_assembly_point", POINT, "name", 200),
        ("add_assembly_point", POINT, "where", 200),
    ],
)
def test_a_zone_or_assembly_point_text_may_be_as_long_as_its_limit_and_no_longer(
    services, api_as, event_count, command, params, field, longest
):
    add(services, command, {**params, field: "x" * longest})
    before = event_count()

    refused = refusal(services, command, {**params, "id": "other", field: "x" * (longest + 1)})

    assert refused.detail == f"'{field}' is longer than {longest} characters."
    assert refused.extra == {"field": field}
    assert event_count() == before
    state = api_as("staff").get(f"{SITE}/state").get_json()
    listed = state["zones"] if command == "add_zone" else state["assembly_points"]
    added = next(item for item in listed if item["id"] == params["id"])
    assert added[field] == "x" * longest


@pytest.mark.parametrize(
    ("command", "params", "listed"),
    [("add_zone", ZONE, "zones"), ("add_assembly_point", POINT, "assembly_points")],
)
def test_a_zone_or_assembly_point_id_may_be_40_characters_and_no_longer(
    services, api_as, event_count, command, params, listed
):
    """The longest id the slug rule allows is added and listed; one more is refused."""
    add(services, command, {**params, "id": "a" * 40})
    before = event_count()

    refused = refusal(services, command, {**params, "id": "b" * 41})

    assert (refused.status, refused.extra) == (400, {"field": "id"})
    assert event_count() == before
    state = api_as("staff").get(f"{SITE}/state").get_json()
    assert "a" * 40 in [item["id"] for item in state[listed]]


def test_each_exit_of_a_zone_may_be_named_in_200_characters_and_no_more(
    services, api_as, event_count
):
    """The limit is on each exit's name, not on how many exits a zone has."""
    add(services, "add_zone", {**ZONE, "exits": ["e" * 200, "Back door"]})
    before = event_count()

    refused = refusal(services, "add_zone", {**ZONE, "id": "other", "exits": ["e" * 201]})

    assert refused.detail == "'exits' has an entry longer than 200 characters."
    assert refused.extra == {"field": "exits"}
    assert event_count() == before
    zones = api_as("staff").get(f"{SITE}/state").get_json()["zones"]
    assert next(zone for zone in zones if zone["id"] == "annex")["exits"] == [
        "e" * 200,
        "Back door",
    ]


# --- the sweep ---------------------------------------------------------------------------------


def sweep_of(api, zone: str) -> dict:
    return next(z for z in api.get(f"{SITE}/state").get_json()["zones"] if z["id"] == zone)


def test_a_person_claiming_a_zone_is_logged_as_sweeping_it_not_as_sent(api_as):
    """The timeline words zone.claimed "started to sweep"; zone.assigned (logs from before
    sweep requests) "was sent to sweep"."""
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    api_as("staff", name="Anna").post(f"{SITE}/zones/grocery/claim")

    events = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    swept = [
        e["type"] for e in events if e["type"].startswith("zone.") and e["type"] != "zone.added"
    ]
    assert swept == ["zone.claimed"]


def test_asking_the_person_already_sweeping_a_zone_asks_nobody_and_logs_nothing(
    api_as, event_count
):
    manager, anna = api_as("duty_manager"), api_as("staff", name="Anna")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/grocery/claim")
    anna_id = sweep_of(manager, "grocery")["by"]
    before = event_count()

    answer = manager.post(f"{SITE}/zones/grocery/assign", {"staff_id": anna_id}).get_json()

    assert answer["changed"] is False
    assert event_count() == before
    assert sweep_of(manager, "grocery")["asked"] is None


def test_the_person_who_reported_a_zone_blocked_can_be_asked_to_sweep_it_again(api_as):
    """Blocked is no longer sweeping it: the request goes to their phone."""
    manager, anna = api_as("duty_manager"), api_as("staff", name="Anna")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"})
    anna_id = sweep_of(manager, "stockroom")["by"]

    answer = manager.post(f"{SITE}/zones/stockroom/assign", {"staff_id": anna_id}).get_json()

    assert answer["changed"] is True
    zone = sweep_of(manager, "stockroom")
    assert (zone["sweep"], zone["asked_name"]) == ("blocked", "Anna")


def test_a_zone_someone_else_sweeps_is_refused_to_a_second_claim_whoever_came_first(api_as):
    """The second person hears who is sweeping it, whichever of the two was added first."""
    anna, ben = api_as("staff", name="Anna"), api_as("staff", name="Ben")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    anna.post(f"{SITE}/zones/grocery/claim")
    ben.post(f"{SITE}/zones/stockroom/claim")

    by_ben = ben.post(f"{SITE}/zones/grocery/claim")
    by_anna = anna.post(f"{SITE}/zones/stockroom/claim")

    assert (by_ben.status_code, by_ben.get_json()["detail"]) == (
        409,
        "Anna is already sweeping this zone.",
    )
    assert (by_anna.status_code, by_anna.get_json()["detail"]) == (
        409,
        "Ben is already sweeping this zone.",
    )


def test_a_zone_in_the_url_is_looked_up_up_to_100_characters_and_refused_as_too_long_past_it(
    api_as, event_count
):
    """No zone id is that long (40 at most): 100 characters is the unknown zone's 404, 101 the
    field's 400."""
    anna = api_as("staff", name="Anna")
    before = event_count()

    unknown = anna.post(f"{SITE}/zones/{'z' * 100}/clear")
    too_long = anna.post(f"{SITE}/zones/{'z' * 101}/clear")

    assert unknown.status_code == 404
    assert unknown.get_json()["detail"] == f"There is no zone '{'z' * 100}' on this site."
    assert too_long.status_code == 400
    assert too_long.get_json()["detail"] == "'zone' is longer than 100 characters."
    assert too_long.get_json()["field"] == "zone"
    assert event_count() == before


def test_a_blocked_note_may_be_500_characters_and_no_more(api_as, event_count):
    anna = api_as("staff", name="Anna")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    assert anna.post(f"{SITE}/zones/stockroom/block", {"note": "n" * 500}).status_code == 200
    before = event_count()

    refused = anna.post(f"{SITE}/zones/grocery/block", {"note": "n" * 501})

    assert refused.status_code == 400
    assert refused.get_json()["detail"] == "'note' is longer than 500 characters."
    assert refused.get_json()["field"] == "note"
    assert event_count() == before
    assert sweep_of(anna, "stockroom")["note"] == "n" * 500
    assert sweep_of(anna, "grocery")["sweep"] == "unchecked"


# --- the socket's way in ----------------------------------------------------------------------


def test_a_phone_reports_zones_clear_and_blocked_over_its_socket(live_server, connect):
    manager = connect(live_server.url, live_server.token("duty_manager", "Maria"))
    anna = connect(live_server.url, live_server.token("staff", "Anna"))
    assert manager.act("start_incident", {"kind": "fire"})["ok"] is True

    cleared = anna.act("clear_zone", {"zone": "grocery"})
    blocked = anna.act("block_zone", {"zone": "stockroom", "note": "Door jammed"})

    assert cleared["ok"] is True, cleared
    assert blocked["ok"] is True, blocked
    assert (cleared["result"]["sweep"], blocked["result"]["sweep"]) == ("clear", "blocked")


def test_a_sweep_action_over_the_socket_without_its_zone_is_refused_naming_it(live_server, connect):
    """Over HTTP the zone is in the URL; an action message carries it in its params."""
    manager = connect(live_server.url, live_server.token("duty_manager", "Maria"))
    anna = connect(live_server.url, live_server.token("staff", "Anna"))
    assert manager.act("start_incident", {"kind": "fire"})["ok"] is True

    answers = {
        name: anna.act(name, {})
        for name in ("claim_zone", "clear_zone", "block_zone", "decline_zone")
    }
    answers["assign_zone"] = manager.act("assign_zone", {"staff_id": 1})

    for name, answer in answers.items():
        assert answer["ok"] is False, name
        problem = answer["error"]
        assert (problem["status"], problem["detail"]) == (400, "'zone' is required."), name
