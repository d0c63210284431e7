"""Erasing personal data as an operator runs `erase-person` and `erase-expired`: what a mutation
tester changed in server/commands/privacy.py and no test noticed (issue 28). The app in this
process (its command line run in it), and the real server where a phone must connect."""

from __future__ import annotations

from harness import Api, eventually
from server.basics.clock import iso, parse_iso
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"
DAY = 24 * 3600 * 1000
SUBSCRIPTION = {
    "endpoint": "https://push.example.invalid/sanna",
    "keys": {
        "p256dh": (
            "BEEowUc3jbafD6HJ3n51rAtEEdw3-wMuF246B-yMcDUx"
            "LdLgECF9ZQK9g90zechP_VyJlJ25won2C_6HRGjCIq0"
        ),
        "auth": "9r3PCawwnQpoMii8EqPKIA",
    },
}


def keep_for(admin: Api, **days: int) -> None:
    """Set the site file's retention (`privacy`), in days."""
    config = admin.get(f"{SITE}/setup").get_json()["config"]
    config["privacy"] = days
    assert admin.post(f"{SITE}/setup", {"config": config}).status_code == 200


def cli(app, *args: str) -> list[str]:
    """`flask --app server ARGS` on this app, as an operator runs it: its output's lines."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output.splitlines()


def erase_expired(app, as_of: int) -> list[str]:
    return cli(app, "erase-expired", "--site", "demo", "--as-of", iso(as_of))


def log_of(admin: Api) -> list[dict]:
    return admin.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]


def logged_at(admin: Api, type_: str) -> int:
    """When the log's last entry of that type was written, in milliseconds."""
    return parse_iso([e for e in log_of(admin) if e["type"] == type_][-1]["ts"])


def visitor_name(admin: Api) -> str:
    signed_in = [e for e in log_of(admin) if e["type"] == "visitor.signed_in"][-1]
    return signed_in["payload"]["person"]["name"]


def test_a_visitor_is_kept_to_the_last_moment_of_retention_and_erased_the_moment_after(api_as, app):
    admin, desk = api_as("admin"), api_as("guard")
    keep_for(admin, visitors_days=2)
    visitor = desk.post(f"{SITE}/visitors", {"name": "Vieras Virtanen", "phone": "+358401234567"})
    assert desk.post(f"{SITE}/visitors/{visitor.get_json()['visitor_id']}/leave").status_code == 200
    left = logged_at(admin, "visitor.left")

    assert erase_expired(app, left + 2 * DAY) == ["demo: nothing to erase"]
    assert visitor_name(admin) == "Vieras Virtanen"

    assert erase_expired(app, left + 2 * DAY + 1) == ["demo: erased visitors: 1"]
    assert visitor_name(admin) == "(erased)"


def test_notes_of_an_incident_and_a_backup_request_are_kept_through_retention_then_erased(
    api_as, make_token, client, app
):
    admin, manager, guard = api_as("admin"), api_as("duty_manager"), api_as("guard")
    keep_for(admin, incidents_days=3)
    sanna = Api(client, make_token("staff", name="Sanna"))
    staff_id = sanna.get("/api/me").get_json()["staff_id"]
    assert manager.post(f"{SITE}/incidents", {"kind": "fire"}).status_code == 201
    assert sanna.post(f"{SITE}/help-requests", {"location": "Lift"}).status_code < 300
    all_clear = manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    assert all_clear.status_code == 200
    backup = sanna.post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()
    answer = guard.post(f"{SITE}/backup-requests/{backup['backup_request']['id']}/answer")
    assert answer.status_code == 200
    ended = logged_at(admin, "incident.ended")
    answered = logged_at(admin, "backup.answered")

    def locations() -> list[str]:
        held = admin.get(f"{SITE}/staff/{staff_id}/data").get_json()
        return [r["location"] for r in held["help_requests"] + held["backup_requests"]]

    assert erase_expired(app, ended + 3 * DAY) == ["demo: nothing to erase"]
    assert locations() == ["Lift", "Till 3"]

    assert erase_expired(app, answered + 3 * DAY + 1) == [
        "demo: erased notes and locations in incidents: 1",
        "demo: erased notes and locations in backup requests: 1",
    ]
    assert locations() == ["(erased)", "(erased)"]
    assert cli(app, "verify-log")[-1].startswith("log intact: ")


def test_a_push_subscription_no_longer_used_is_kept_through_retention_then_erased(
    api_as, make_token, client, services, app
):
    admin = api_as("admin")
    keep_for(admin, devices_days=4)
    sanna = Api(client, make_token("staff", name="Sanna"))
    subscribed = sanna.post("/api/push/subscriptions", {"subscription": SUBSCRIPTION})
    assert subscribed.status_code == 201
    made = logged_at(admin, "push.subscribed")
    # The push service answered 410: the push round drops it, its key stays until retention.
    dropped = {"subscription_id": subscribed.get_json()["subscription_id"]}
    execute(services, command_line("demo"), "demo", "drop_push_subscription", dropped)

    assert erase_expired(app, made + 4 * DAY) == ["demo: nothing to erase"]

    assert erase_expired(app, made + 4 * DAY + 1) == ["demo: erased push subscriptions: 1"]
    device = [e for e in log_of(admin) if e["type"] == "push.subscribed"][-1]["payload"]
    erased = [e for e in log_of(admin) if e["type"] == "person.erased"]
    subject = f"staff:{device['staff_id']}/device:{device['credential_id']}"
    assert [e["payload"]["subjects"] for e in erased] == [[subject]]


def test_an_erasure_logged_as_several_entries_answers_with_the_last_ones_seq(
    api_as, make_token, client, services
):
    """The answer's `seq` is the log's head after the command, as every command's is."""
    desk = api_as("guard")
    visitor = desk.post(f"{SITE}/visitors", {"name": "Vieras Virtanen"}).get_json()
    assert desk.post(f"{SITE}/visitors/{visitor['visitor_id']}/leave").status_code == 200
    sanna = Api(client, make_token("staff", name="Sanna"))
    backup = sanna.post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()
    cancelled = sanna.post(f"{SITE}/backup-requests/{backup['backup_request']['id']}/cancel")
    assert cancelled.status_code == 200

    as_of = {"as_of": "2099-01-01T00:00:00Z"}
    answer = execute(services, command_line("demo"), "demo", "erase_expired", as_of)

    erased = [e for e in log_of(api_as("admin")) if e["type"] == "person.erased"]
    assert len(erased) == 2 and answer["seq"] == erased[-1]["seq"]


# --- a phone's presence: the real server, whose phones connect over Socket.IO ---------------


def phone_came_and_went(live_server, connect, name: str) -> tuple[str, int, dict]:
    """A staff member's phone connected and disconnected, and the server wrote so: (the
    admin's token, the staff member's id, their presence record)."""
    admin = live_server.token("admin", "Aaro Admin")
    token = live_server.token("staff", name)
    staff_id = live_server.get("/api/me", token).json()["staff_id"]
    data = f"{SITE}/staff/{staff_id}/data"
    phone = connect(live_server.url, token)
    eventually(lambda: live_server.get(data, admin).json()["presence"])
    phone.close()  # its last word: last seen after it connected
    [seen] = eventually(
        lambda: [
            p
            for p in live_server.get(data, admin).json()["presence"]
            if p["last_seen_at"] > p["connected_at"]
        ],
        timeout=20,
    )
    return admin, staff_id, seen


def test_erasing_a_staff_member_forgets_when_their_phone_was_connected(live_server, connect):
    admin, staff_id, _ = phone_came_and_went(live_server, connect, "Sanna")

    erased = live_server.cli("erase-person", "--site", "demo", "--staff-id", str(staff_id))

    assert erased.returncode == 0, erased.stderr
    held = live_server.get(f"{SITE}/staff/{staff_id}/data", admin).json()
    assert held["person"]["name"] == "(erased)" and held["presence"] == []


def test_a_presence_record_is_kept_through_retention_then_erased(live_server, connect):
    admin, staff_id, seen = phone_came_and_went(live_server, connect, "Sanna")
    last_seen = parse_iso(seen["last_seen_at"])  # the demo site keeps it 90 days

    def erase_expired_at(as_of: int) -> list[str]:
        result = live_server.cli("erase-expired", "--site", "demo", "--as-of", iso(as_of))
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert erase_expired_at(last_seen + 90 * DAY) == ["demo: nothing to erase"]

    assert erase_expired_at(last_seen + 90 * DAY + 1) == ["demo: erased presence records: 1"]
    held = live_server.get(f"{SITE}/staff/{staff_id}/data", admin).json()
    assert held["presence"] == []
