"""The log is the truth: the state tables rebuilt from the log alone equal the live ones."""

from __future__ import annotations

import json
import sqlite3

from harness import Api, flask_cli, outside_store
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def ok(response) -> None:
    assert response.status_code < 300, response.get_json()


def script_an_incident(services, client, make_token) -> None:
    """Every kind of command once: set-up, an import, enrollments, an incident and its end."""
    operator = command_line("demo")
    execute(
        services,
        operator,
        "demo",
        "add_zone",
        {"id": "annex", "name": "Annex", "assembly_point": "Car park"},
    )
    execute(
        services, operator, "demo", "add_staff", {"name": "Nea", "role": "staff", "language": "sv"}
    )
    manager = Api(client, make_token("duty_manager", name="Maija"))
    admin = Api(client, make_token("admin", name="Aaro"))
    anna, guard = Api(client, make_token("staff", name="Anna")), Api(client, make_token("guard"))
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    config["zones"][0]["name"] = "Entrance, tills and lockers"
    config["staff"].append(
        {"name": "Uusi", "role": "staff", "home_zone": "annex", "language": "en"}
    )
    config["staff"][1]["role"] = "guard"
    assert admin.post(f"{SITE}/setup", {"config": config}).status_code == 200
    code = manager.post(f"{SITE}/staff/2/enrollment-links").get_json()["code"]
    assert client.post("/api/enroll", json={"code": code}).status_code == 201
    assert anna.post("/api/me/language", {"language": "en"}).status_code == 200
    subscription = {
        "endpoint": "https://push.example.invalid/abc",
        "keys": {
            "p256dh": (
                "BEEowUc3jbafD6HJ3n51rAtEEdw3-wMuF246B-yMcDUx"
                "LdLgECF9ZQK9g90zechP_VyJlJ25won2C_6HRGjCIq0"
            ),
            "auth": "9r3PCawwnQpoMii8EqPKIA",
        },
    }
    assert anna.post("/api/push/subscriptions", {"subscription": subscription}).status_code == 201
    ok(admin.post(f"{SITE}/notice-settings", {"settings": {"restored_minutes": 5}}))
    assert (
        manager.post(
            f"{SITE}/incidents", {"kind": "fire", "eta": "2099-01-01T10:00:00Z"}
        ).status_code
        == 201
    )
    for path in ("delivered", "acknowledge", "safe"):
        ok(anna.post(f"{SITE}/incidents/current/{path}"))
    ok(anna.post(f"{SITE}/zones/grocery/claim"))
    ok(anna.post(f"{SITE}/zones/grocery/clear"))
    ok(anna.post(f"{SITE}/zones/clothing/block", {"note": "smoke"}))
    ok(manager.post(f"{SITE}/zones/annex/assign", {"staff_id": 2}))
    help_id = anna.post(f"{SITE}/help-requests", {"location": "Lift"}).get_json()["help_request"][
        "id"
    ]
    ok(guard.post(f"{SITE}/help-requests/{help_id}/resolve"))
    backup = anna.post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()
    ok(guard.post(f"{SITE}/backup-requests/{backup['backup_request']['id']}/answer"))
    ok(manager.post(f"{SITE}/incidents/current/update", {"message": "Stay out"}))
    ok(manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"}))
    execute(services, operator, "demo", "drop_push_subscription", {"subscription_id": 1})


def test_state_rebuilt_from_the_log_equals_the_live_state(
    services, client, make_token, settings, tmp_path
):
    script_an_incident(services, client, make_token)
    into = tmp_path / "rebuilt.db"

    rebuilt = flask_cli(settings.db_path, "rebuild-state", "--into", str(into))

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "matches" in rebuilt.stdout
    with sqlite3.connect(into) as db:  # the rebuilt file is a whole database
        assert (
            db.execute("SELECT COUNT(*) FROM incidents WHERE ended_at IS NOT NULL").fetchone()[0]
            == 1
        )
        names = {row[0] for row in db.execute("SELECT name FROM zones")}
        assert "Entrance, tills and lockers" in names and "Annex" in names


def test_a_state_row_the_log_does_not_hold_is_named(
    services, client, make_token, settings, tmp_path
):
    script_an_incident(services, client, make_token)
    with outside_store(settings.db_path) as db:  # a write that went round the log
        db.execute("UPDATE staff SET role = 'admin' WHERE name = 'Anna'")

    rebuilt = flask_cli(settings.db_path, "rebuild-state", "--into", str(tmp_path / "r.db"))

    assert rebuilt.returncode == 1
    assert "DIFFERS" in rebuilt.stderr
    assert "staff: live only" in rebuilt.stderr and "'Anna', 'admin'" in rebuilt.stderr


def test_an_import_logs_each_zone_and_person_it_adds_or_changes(client, make_token):
    admin = Api(client, make_token("admin"))
    before = admin.get(f"{SITE}/events?after=0&limit=1000").get_json()["seq"]
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    config["assembly_points"].append({"id": "park", "name": "Park"})
    config["zones"].append({"id": "annex", "name": "Annex", "exits": [], "assembly_point": "park"})
    config["staff"].append(
        {"name": "Uusi", "role": "staff", "home_zone": "annex", "language": "sv"}
    )

    assert admin.post(f"{SITE}/setup", {"config": config}).status_code == 200

    events = admin.get(f"{SITE}/events?after={before}").get_json()["events"]
    assert [e["type"] for e in events] == [
        "assembly_point.added",
        "zone.added",
        "staff.added",
        "site.imported",
    ]
    assert events[2]["payload"]["language"] == "sv" and events[2]["payload"]["name"] == "Uusi"
    assert "token_hash" not in json.dumps(admin.get(f"{SITE}/events?after=0&limit=1000").get_json())


def script_a_mustering(services, client, make_token, monkeypatch) -> None:
    """A fire with visitors (desk and entrance), marshal marks, QR check-ins, a visitor who
    leaves during it, a visitor's own "I am out", a person reported inside, the all-clear,
    and the server's sign-out at closing time the next day."""
    manager = Api(client, make_token("duty_manager", name="Maija"))
    guard = Api(client, make_token("guard", name="Ville"))
    anna = Api(client, make_token("staff", name="Anna"))
    desk = {
        name: guard.post(f"{SITE}/visitors", {"name": name, "phone": "+358401234567"}).get_json()
        for name in ("Lars Lift", "Nina Nobody")
    }
    entrance = client.post(f"{SITE}/visitors/self", json={"name": "Olga", "language": "sv"})
    ok(manager.post(f"{SITE}/incidents", {"kind": "fire"}))
    late = guard.post(f"{SITE}/visitors", {"name": "Late Larry", "company": "Lift Oy"})
    url = f"{SITE}/incidents/current/accounted"
    ok(guard.post(url, {"staff_id": 3, "assembly_point": "lamp-post-b"}))
    ok(
        guard.post(
            url, {"visitor_id": late.get_json()["visitor_id"], "assembly_point": "lamp-post-a"}
        )
    )
    ok(guard.post(url, {"staff_id": 3, "assembly_point": "lamp-post-a"}))  # answered, not logged
    ok(anna.post(f"{SITE}/incidents/current/safe", {"assembly_point": "lamp-post-a", "how": "qr"}))
    ok(manager.post(f"{SITE}/incidents/current/safe", {"assembly_point": "lamp-post-b"}))
    ok(guard.post(f"{SITE}/visitors/{desk['Lars Lift']['visitor_id']}/leave"))
    ok(client.post(f"{SITE}/visitors/self/safe", json={"token": entrance.get_json()["token"]}))
    inside = {"visitor_id": desk["Nina Nobody"]["visitor_id"], "location": "Roof"}
    ok(guard.post(f"{SITE}/incidents/current/reported-inside", inside))
    ok(manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"}))
    from server import commands

    tomorrow = commands.now_ms() + 25 * 3600 * 1000  # past the next closing time
    monkeypatch.setattr("server.commands.now_ms", lambda: tomorrow)
    signed_out = execute(services, command_line("demo"), "demo", "sign_out_at_closing", {})
    assert signed_out["signed_out"] == 3  # Nina, Olga (her "I am out" is not a sign-out), Larry


def test_state_rebuilt_after_a_mustering_with_visitors_equals_the_live_state(
    services, client, make_token, settings, tmp_path, monkeypatch
):
    script_a_mustering(services, client, make_token, monkeypatch)
    into = tmp_path / "rebuilt.db"

    rebuilt = flask_cli(settings.db_path, "rebuild-state", "--into", str(into))

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "matches" in rebuilt.stdout
    with sqlite3.connect(into) as db:
        hows = sorted(row[0] for row in db.execute("SELECT how FROM accounted"))
        assert hows == ["left", "marshal", "marshal", "phone", "phone", "qr"]
        assert db.execute("SELECT location FROM reported_inside").fetchall() == [("Roof",)]
        left = sorted(row[0] for row in db.execute("SELECT left_how FROM visitors"))
        assert left == ["closing", "closing", "closing", "desk"]
        nonces = db.execute("SELECT COUNT(DISTINCT link_nonce) FROM visitors").fetchone()[0]
        assert nonces == 4  # every personal link still recognised after a rebuild
