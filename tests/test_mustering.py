"""Everyone accounted for: assembly points as places, visitors on the roll, marshals marking
people at the assembly point, the unaccounted list, and every refusal logging nothing."""

from __future__ import annotations

import pytest

from harness import Api
from server.commands import execute, site_config
from server.rules.auth import command_line

SITE = "demo"


def staff_id_of(services, name: str) -> int:
    with services.store.reading() as db:
        return db.execute("SELECT id FROM staff WHERE name = ?", [name]).fetchone()[0]


@pytest.fixture
def manager(api_as) -> Api:
    return api_as("duty_manager", name="Maija Manager")


@pytest.fixture
def guard(api_as) -> Api:
    return api_as("guard", name="Ville Vartija")


def start_fire(manager: Api, **more) -> dict:
    answer = manager.post(f"/api/sites/{SITE}/incidents", {"kind": "fire", **more})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def sign_in(api: Api, **visitor) -> int:
    answer = api.post(f"/api/sites/{SITE}/visitors", {"name": "Vera Visitor", **visitor})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["visitor_id"]


def roll_call(api: Api) -> dict:
    return api.get(f"/api/sites/{SITE}/state").get_json()["roll_call"]


# --- assembly points are places ----------------------------------------------------------


def test_the_demo_declares_its_assembly_points_and_zones_name_them(client, manager):
    state = manager.get(f"/api/sites/{SITE}/state").get_json()
    assert [p["id"] for p in state["assembly_points"]] == ["lamp-post-a", "lamp-post-b"]
    grocery = next(z for z in state["zones"] if z["id"] == "grocery")
    assert grocery["assembly_point_id"] == "lamp-post-a"
    assert (
        grocery["assembly_point"] == "Parkkipaikka, valotolppa A / Parkeringen, lyktstolpe A"
    )  # as people read it


def test_a_site_file_of_the_older_shape_imports_with_a_place_per_free_text():
    config = site_config.parse(
        """
site: old
name: Old shop
zones:
  - {id: a, name: Floor, assembly_point: "Torget, lyktstolpe A"}
  - {id: b, name: Back, assembly_point: "Torget, lyktstolpe A"}
  - {id: c, name: Yard, assembly_point: "Pihan kulma"}
"""
    )
    assert config["assembly_points"] == [
        {"id": "torget-lyktstolpe-a", "name": "Torget, lyktstolpe A"},
        {"id": "pihan-kulma", "name": "Pihan kulma"},
    ]
    assert [z["assembly_point"] for z in config["zones"]] == [
        "torget-lyktstolpe-a",
        "torget-lyktstolpe-a",
        "pihan-kulma",
    ]


def test_a_zone_naming_an_undeclared_assembly_point_is_refused_with_its_field():
    with pytest.raises(site_config.ConfigError) as refused:
        site_config.parse(
            """
site: new
name: New shop
assembly_points: [{id: front, name: Front square}]
zones: [{id: a, name: Floor, assembly_point: back}]
"""
        )
    assert "zones[0].assembly_point: no assembly point 'back' above" in str(refused.value)


def test_import_and_export_keep_assembly_points_and_marshals(services, demo_links, manager):
    with services.store.reading() as db:
        exported = site_config.read_site(db, SITE)
    exported["assembly_points"][1]["where"] = "Behind the bins"
    exported["staff"][1]["marshal"] = True
    answer = manager.client.post(
        f"/api/sites/{SITE}/setup",
        json={"config": exported},
        headers=Api(manager.client, execute_token(services)).headers,
    )
    assert answer.status_code == 200, answer.get_json()
    with services.store.reading() as db:
        again = site_config.read_site(db, SITE)
    assert again["assembly_points"][1] == {
        "id": "lamp-post-b",
        "name": "Parkkipaikka, valotolppa B / Parkeringen, lyktstolpe B",
        "where": "Behind the bins",
    }
    assert again["staff"][1]["marshal"] is True


def execute_token(services) -> str:
    params = {"name": "Setup admin", "role": "admin"}
    return execute(services, command_line(SITE), SITE, "create_token", params)["token"]


def test_the_sign_names_the_point_and_its_qr_code_leads_to_the_check_in(client, manager):
    page = manager.get(f"/sites/{SITE}/assembly-points/lamp-post-a/sign")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Parkkipaikka, valotolppa A" in text and "Kokoontumispaikka" in text
    assert "/checkin/demo/lamp-post-a" in text and "<svg" in text


def test_only_a_manager_gets_a_sign_and_an_unknown_point_is_a_404(client, manager, api_as):
    assert api_as("staff").get(f"/sites/{SITE}/assembly-points/lamp-post-a/sign").status_code == 403
    assert client.get(f"/sites/{SITE}/assembly-points/lamp-post-a/sign").status_code == 401
    assert manager.get(f"/sites/{SITE}/assembly-points/nowhere/sign").status_code == 404


# --- visitors on the roll -----------------------------------------------------------------


def test_a_visitor_signed_in_is_on_the_roll_at_the_alarm_and_one_who_left_is_not(
    client, guard, manager
):
    staying = sign_in(guard, company="Lift Oy")
    gone = sign_in(guard, name="Gone Guest")
    assert guard.post(f"/api/sites/{SITE}/visitors/{gone}/leave").status_code == 200
    before = roll_call(manager)
    start_fire(manager)
    during = roll_call(manager)
    on_roll = {v["visitor_id"]: v for v in during["visitors"]}
    assert set(on_roll) == {staying}
    assert on_roll[staying]["accounted"] is None and on_roll[staying]["company"] == "Lift Oy"
    assert during["on_site"] == before["on_site"] == during["people"] + 1
    assert during["unaccounted"] == during["on_site"] and during["accounted"] == 0


def test_integration_and_chain_admin_accounts_are_not_on_the_roll(services, demo_links, manager):
    execute(services, command_line(SITE), SITE, "create_token", {"name": "Till", "role": "admin"})
    names = {p["name"] for p in roll_call(manager)["staff"]}
    assert "Till" not in names and "Erik Lindqvist" in names


def test_a_visitor_signed_out_during_the_alarm_counts_as_accounted_for_by_leaving(guard, manager):
    visitor = sign_in(guard)
    start_fire(manager)
    assert guard.post(f"/api/sites/{SITE}/visitors/{visitor}/leave").status_code == 200
    row = next(v for v in roll_call(manager)["visitors"] if v["visitor_id"] == visitor)
    assert row["accounted"]["how"] == "left"


def test_a_visitor_who_signs_in_during_an_alarm_joins_its_roll(guard, manager):
    start_fire(manager)
    before = roll_call(manager)["unaccounted"]
    sign_in(guard, name="Late Larry")
    assert roll_call(manager)["unaccounted"] == before + 1


# --- marshals -----------------------------------------------------------------------------


def test_a_marshal_accounts_for_a_person_without_a_phone_once(
    services, guard, manager, event_count
):
    start_fire(manager)
    pekka = staff_id_of(services, "Pekka Virtanen")
    url = f"/api/sites/{SITE}/incidents/current/accounted"
    body = {"staff_id": pekka, "assembly_point": "lamp-post-b"}
    first = guard.post(url, body)
    assert first.status_code == 200 and first.get_json()["changed"] is True
    accounted = first.get_json()["accounted"]
    assert accounted["how"] == "marshal" and accounted["assembly_point"] == "lamp-post-b"
    assert accounted["by"]["name"] == "Ville Vartija"
    logged = event_count()
    again = manager.post(url, {**body, "assembly_point": "lamp-post-a"})
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert again.get_json()["accounted"]["by"]["name"] == "Ville Vartija"  # the first mark
    assert event_count() == logged
    counts = roll_call(manager)
    assert counts["accounted"] == 1 and counts["unaccounted"] == counts["on_site"] - 1


def test_staff_the_site_marks_as_marshal_may_account_others_and_other_staff_may_not(
    services, client, manager
):
    start_fire(manager)
    pekka = Api(client, token_for(services, "Pekka Virtanen", "staff"))
    erik = Api(client, token_for(services, "Erik Lindqvist", "staff"))
    url = f"/api/sites/{SITE}/incidents/current/accounted"
    aino = {"staff_id": staff_id_of(services, "Aino Aaltonen"), "assembly_point": "lamp-post-a"}
    assert erik.post(url, aino).status_code == 403
    assert pekka.post(url, aino).status_code == 200


def token_for(services, name: str, role: str) -> str:
    """A token for a person of the demo site (create_token matches them by name and role)."""
    params = {"name": name, "role": role}
    return execute(services, command_line(SITE), SITE, "create_token", params)["token"]


@pytest.mark.parametrize(
    "body, status",
    [
        ({"assembly_point": "lamp-post-a"}, 400),  # nobody named
        ({"staff_id": 1, "visitor_id": 1, "assembly_point": "lamp-post-a"}, 400),  # two
        ({"staff_id": 9999, "assembly_point": "lamp-post-a"}, 404),  # nobody of ours
        ({"visitor_id": 9999, "assembly_point": "lamp-post-a"}, 404),
        ({"staff_id": 1, "assembly_point": "moon"}, 404),  # no such point
        ({"staff_id": 1}, 400),  # no point
        ({"staff_id": "1", "assembly_point": "lamp-post-a"}, 400),
    ],
)
def test_every_bad_mark_is_refused_and_nothing_is_logged(
    services, guard, manager, event_count, body, status
):
    start_fire(manager)
    logged = event_count()
    answer = guard.post(f"/api/sites/{SITE}/incidents/current/accounted", body)
    assert answer.status_code == status, answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert event_count() == logged


def test_a_mark_without_an_incident_or_for_another_sites_person_is_refused(
    services, guard, manager, other_site_manager, event_count
):
    url = f"/api/sites/{SITE}/incidents/current/accounted"
    logged = event_count()
    assert guard.post(url, {"staff_id": 1, "assembly_point": "lamp-post-a"}).status_code == 409
    start_fire(manager)
    logged = event_count()
    olli = staff_id_of(services, "Olli")
    assert guard.post(url, {"staff_id": olli, "assembly_point": "lamp-post-a"}).status_code == 404
    assert (
        other_site_manager.post(url, {"staff_id": 1, "assembly_point": "lamp-post-a"}).status_code
        == 403
    )
    assert event_count() == logged


def test_my_own_i_am_safe_from_the_sign_counts_as_accounted_for_by_qr(services, client, manager):
    start_fire(manager)
    erik = Api(client, token_for(services, "Erik Lindqvist", "staff"))
    answer = erik.post(
        f"/api/sites/{SITE}/incidents/current/safe", {"assembly_point": "lamp-post-a", "how": "qr"}
    )
    assert answer.status_code == 200
    mine = roll_call(erik)["staff"]
    assert len(mine) == 1 and mine[0]["accounted"]["how"] == "qr"
    assert mine[0]["accounted"]["assembly_point"] == "lamp-post-a"


def test_i_am_safe_after_a_marshal_marked_me_is_answered_and_not_logged(
    services, client, guard, manager, event_count
):
    start_fire(manager)
    erik_id = staff_id_of(services, "Erik Lindqvist")
    guard.post(
        f"/api/sites/{SITE}/incidents/current/accounted",
        {"staff_id": erik_id, "assembly_point": "lamp-post-a"},
    )
    logged = event_count()
    erik = Api(client, token_for(services, "Erik Lindqvist", "staff"))
    logged = event_count()
    answer = erik.post(f"/api/sites/{SITE}/incidents/current/safe")
    assert answer.get_json()["changed"] is False
    assert answer.get_json()["accounted"]["how"] == "marshal"
    assert event_count() == logged


# --- the unaccounted list --------------------------------------------------------------------


def test_the_unaccounted_list_is_on_site_minus_accounted_with_last_known_places(
    services, client, guard, manager
):
    visitor = sign_in(guard, name="Carl Contractor", company="Fix Ab")
    start_fire(manager)
    people = {p["name"]: p for p in roll_call(manager)["staff"]}
    erik = Api(client, token_for(services, "Erik Lindqvist", "staff"))
    sara = Api(client, token_for(services, "Sara Smith", "staff"))
    assert erik.post(f"/api/sites/{SITE}/zones/grocery/claim").status_code == 200
    assert (
        sara.post(f"/api/sites/{SITE}/help-requests", {"location": "Fitting room 3"}).status_code
        == 201
    )
    guard.post(
        f"/api/sites/{SITE}/incidents/current/accounted",
        {"staff_id": people["Aino Aaltonen"]["staff_id"], "assembly_point": "lamp-post-a"},
    )
    guard.post(
        f"/api/sites/{SITE}/incidents/current/reported-inside",
        {"visitor_id": visitor, "location": "Roof, lift machine room"},
    )
    answer = guard.get(f"/api/sites/{SITE}/incidents/current/unaccounted")
    assert answer.status_code == 200
    found = answer.get_json()
    names = {p["name"] for p in found["people"]}
    everyone = {p["name"] for p in roll_call(manager)["staff"]} | {"Carl Contractor"}
    assert names == everyone - {"Aino Aaltonen"}
    assert found["counts"]["unaccounted"] == len(found["people"])
    by_name = {p["name"]: p for p in found["people"]}
    assert {"source": "sweeping", "zone": "grocery"} in by_name["Erik Lindqvist"]["last_known"]
    assert by_name["Sara Smith"]["last_known"][0] == {
        "source": "help_request",
        "where": "Fitting room 3",
    }
    assert by_name["Carl Contractor"]["last_known"][0]["where"] == "Roof, lift machine room"
    assert {z["id"] for z in found["zones"]} == {"entrance", "grocery", "clothing", "stockroom"}


def test_the_unaccounted_list_is_for_responders_and_only_during_an_incident(api_as, manager):
    url = f"/api/sites/{SITE}/incidents/current/unaccounted"
    assert manager.get(url).status_code == 409
    start_fire(manager)
    assert api_as("staff").get(url).status_code == 403
    assert manager.get(url).status_code == 200


# --- visitors by themselves --------------------------------------------------------------


def test_a_visitor_signs_in_and_out_at_the_entrance_without_an_account(
    client, manager, event_count
):
    answer = client.post(
        f"/api/sites/{SITE}/visitors/self", json={"name": "Walk-in Wendy", "language": "sv"}
    )
    assert answer.status_code == 201, answer.get_json()
    mine = answer.get_json()
    assert mine["link"].startswith(f"/visit/{SITE}#")
    headers = {"X-Visitor-Link": mine["token"]}
    visit = client.get(f"/api/sites/{SITE}/visitors/self", headers=headers).get_json()
    assert visit["signed_in"] is True and visit["incident"] is None
    listed = manager.get(f"/api/sites/{SITE}/visitors").get_json()["visitors"]
    assert [v["self_signed"] for v in listed if v["name"] == "Walk-in Wendy"] == [True]
    out = client.post(f"/api/sites/{SITE}/visitors/self/leave", json={"token": mine["token"]})
    assert out.status_code == 200
    assert (
        client.get(f"/api/sites/{SITE}/visitors/self", headers=headers).get_json()["signed_in"]
        is False
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "Bell\u0007"},
        {"name": "Ok", "phone": "0401234567"},
        {"name": "Ok", "language": "de"},
        {"name": "Ok", "host_staff_id": 1},  # the desk's field, not the entrance's
        ["Ok"],
    ],
)
def test_bad_self_sign_ins_are_a_clear_400_and_log_nothing(client, demo_links, event_count, body):
    logged = event_count()
    answer = client.post(f"/api/sites/{SITE}/visitors/self", json=body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert event_count() == logged


def test_a_forged_visitor_link_is_refused(client, demo_links, event_count):
    answer = client.post(f"/api/sites/{SITE}/visitors/self", json={"name": "Real"}).get_json()
    visitor_id = answer["visitor_id"]
    logged = event_count()
    for token in (f"{visitor_id}.{'0' * 32}", "garbage", "", answer["token"] + "x"):
        refused = client.post(f"/api/sites/{SITE}/visitors/self/leave", json={"token": token})
        assert refused.status_code in (400, 404)
    assert event_count() == logged


def test_a_busy_entrance_behind_one_address_is_not_refused_but_a_flood_is(client, demo_links):
    statuses = [
        client.post(f"/api/sites/{SITE}/visitors/self", json={"name": f"Guest {n}"}).status_code
        for n in range(70)
    ]
    assert statuses[:60] == [201] * 60  # a coach party at once
    assert 429 in statuses[60:]


def test_a_visitor_says_i_am_out_from_their_link_during_the_alarm(client, manager):
    mine = client.post(f"/api/sites/{SITE}/visitors/self", json={"name": "Olga"}).get_json()
    start_fire(manager)
    headers = {"X-Visitor-Link": mine["token"]}
    assert client.get(f"/api/sites/{SITE}/visitors/self", headers=headers).get_json()[
        "incident"
    ] == {"kind": "fire", "drill": False, "asks": "leave", "accounted": False}
    out = client.post(f"/api/sites/{SITE}/visitors/self/safe", json={"token": mine["token"]})
    assert out.status_code == 200 and out.get_json()["accounted"]["how"] == "phone"
    row = next(v for v in roll_call(manager)["visitors"] if v["name"] == "Olga")
    assert row["accounted"]["how"] == "phone"


def test_visitors_still_in_at_closing_time_are_signed_out_by_the_server(services, guard, manager):
    visitor = sign_in(guard)
    from server.basics.clock import now_ms

    later = now_ms() + 25 * 3600 * 1000  # past the next closing time, whenever this runs
    with services.store.reading() as db:
        from server.rules.visitors import due_out

        assert due_out(db, SITE, later) == [visitor]
        assert due_out(db, SITE, now_ms() - 1000) == []


def test_a_database_from_before_assembly_points_gets_them_once_at_start(
    services, demo_links, tmp_path
):
    """An older server logged zones with a free-text assembly point; the next start declares
    each as a place, as events, so that a rebuild from the log agrees."""
    from server import timers
    from server.store import log, projectors
    from server.store.rebuild import rebuild

    old_zone = {"id": "annex", "name": "Annex", "exits": [], "position": 9}
    with services.store.transaction() as db:  # as the server before this change wrote it
        entry = log.append(
            db,
            SITE,
            1,
            {"staff_id": None, "name": "command line", "role": "admin"},
            "zone.added",
            {**old_zone, "assembly_point": "Takapiha / Bakgården"},
        )
        projectors.apply(db, entry)

    assert timers.declare_assembly_points(services) == [SITE]
    assert timers.declare_assembly_points(services) == []  # once
    with services.store.reading() as db:
        point = db.execute("SELECT assembly_point FROM zones WHERE id = 'annex'").fetchone()[0]
        name = db.execute("SELECT name FROM assembly_points WHERE id = ?", [point]).fetchone()[0]
    assert point == "takapiha-bakgarden" and name == "Takapiha / Bakgården"
    with services.store.reading() as db:
        assert rebuild(db, str(tmp_path / "rebuilt.db")) == []


def test_the_server_signs_out_at_closing_time_each_minute_but_never_during_an_alarm(
    services, guard, manager, monkeypatch
):
    from server import timers
    from server.basics.clock import now_ms

    staying = sign_in(guard, name="Stays Late")
    left = sign_in(guard, name="Went Home")
    assert guard.post(f"/api/sites/{SITE}/visitors/{left}/leave").status_code == 200
    assert timers.sign_out_at_closing(services) == {}  # before closing time: nobody
    tomorrow = now_ms() + 25 * 3600 * 1000  # past the next closing time, whenever this runs
    monkeypatch.setattr("server.timers.now_ms", lambda: tomorrow)
    monkeypatch.setattr("server.commands.now_ms", lambda: tomorrow)
    start_fire(manager)

    assert timers.sign_out_at_closing(services) == {}  # they would count as out
    assert {v["visitor_id"] for v in roll_call(manager)["visitors"]} == {staying}

    manager.post(f"/api/sites/{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    assert timers.sign_out_at_closing(services) == {SITE: 1}
    assert timers.sign_out_at_closing(services) == {}  # once
    with services.store.reading() as db:
        row = db.execute("SELECT left_how FROM visitors WHERE id = ?", [staying]).fetchone()
    assert row == ("closing",)  # kept in the day's register
