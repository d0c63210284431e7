"""Bearer tokens from the command line, enrollment links as a phone uses them, and the Web Push
subscription a device stores: what a mutation tester changed in server/commands/devices.py and
no test noticed (issue 28). The app in this process (its command line run in it); the
commands' clock set by the test where a moment matters."""

from __future__ import annotations

import pytest

from harness import Api, Browser
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"
HOUR = 3_600_000
NOT_VALID = "This enrollment link is not valid. Ask your duty manager for a new one."
EXPIRED = "This enrollment link has expired. Ask your duty manager for a new one."


def cli(app, *args: str):
    """`flask --app server ARGS` on this app, as an operator runs it."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def staff_id_of(services, name: str) -> int:
    with services.store.reading() as db:
        return db.execute("SELECT id FROM staff WHERE name = ?", [name]).fetchone()[0]


# --- bearer tokens from the command line ----------------------------------------------------


def test_a_chain_admin_token_from_the_command_line_acts_on_every_site(app, client, demo_links):
    services = app.extensions["exitnow"]
    execute(services, command_line("other"), "other", "create_site", {"name": "Other shop"})

    made = cli(app, "create-token", "--site", "demo", "--role", "admin", "--name", "HQ", "--chain")

    assert made.exit_code == 0, made.output
    chain_admin = Api(client, made.output.strip().splitlines()[-1])
    assert chain_admin.get("/api/sites/other/state").status_code == 200
    assert chain_admin.get(f"{SITE}/state").status_code == 200


def test_a_chain_token_for_any_role_but_admin_is_refused(app, demo_links):
    args = ("create-token", "--site", "demo", "--role", "staff", "--name", "Sneaky", "--chain")

    made = cli(app, *args)

    assert made.exit_code == 1
    assert "error: Only the command line makes a chain admin, and with the admin role." in (
        made.output
    )
    with app.extensions["exitnow"].store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM chain_admins").fetchone()[0] == 0


@pytest.mark.parametrize("name", ["", "   "])
def test_a_token_for_no_name_is_refused(app, demo_links, event_count, name):
    before = event_count()

    made = cli(app, "create-token", "--site", "demo", "--role", "staff", "--name", name)

    assert made.exit_code == 1
    assert "error: 'name' must not be empty." in made.output
    assert event_count() == before


# --- enrollment links -----------------------------------------------------------------------


def new_link(services, name: str) -> str:
    params = {"staff_id": staff_id_of(services, name)}
    return execute(services, command_line("demo"), "demo", "create_enrollment_link", params)["code"]


def test_an_enrollment_link_works_to_the_end_of_its_hours_and_not_a_moment_after(
    app, services, clock
):
    made_at = clock["now"]
    aino, sara = new_link(services, "Aino Aaltonen"), new_link(services, "Sara Smith")
    hours = services.settings.enrollment_ttl_hours

    clock["now"] = made_at + hours * HOUR  # the link's last moment
    inside = app.test_client().post("/api/enroll", json={"code": aino})
    clock["now"] = made_at + hours * HOUR + 1
    past = app.test_client().post("/api/enroll", json={"code": sara})

    assert inside.status_code == 201 and inside.get_json()["name"] == "Aino Aaltonen"
    assert past.status_code == 410
    assert past.get_json()["detail"] == EXPIRED


def test_the_enrollment_page_names_whose_link_it_is_and_not_an_unknown_one(
    client, services, demo_links
):
    code = new_link(services, "Sara Smith")

    known = client.get(f"/api/enroll/{code}")
    unknown = client.get("/api/enroll/nope")

    assert known.status_code == 200 and known.get_json()["name"] == "Sara Smith"
    assert unknown.status_code == 404 and unknown.get_json()["detail"] == NOT_VALID


# --- Web Push subscriptions -----------------------------------------------------------------


def subscribe(phone: Api, subscription):
    return phone.post("/api/push/subscriptions", {"subscription": subscription})


def test_a_push_subscription_request_without_the_subscription_is_refused(api_as, event_count):
    phone = api_as("staff")
    before = event_count()

    answer = phone.post("/api/push/subscriptions", {})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'subscription' is required."
    assert event_count() == before


@pytest.mark.parametrize("endpoint", ["https://push.example:port/x", "https://[::1/x"])
def test_a_push_endpoint_no_url_parser_reads_is_refused_naming_the_field(api_as, endpoint):
    answer = subscribe(api_as("staff"), Browser(endpoint).subscription)

    assert answer.status_code == 400
    assert answer.get_json()["field"] == "subscription.endpoint"


def test_a_push_endpoint_of_2000_characters_is_stored_and_one_more_is_too_long(api_as):
    phone = api_as("staff")
    start = "https://push.example/"
    longest = start + "x" * (2000 - len(start))

    stored = subscribe(phone, Browser(longest).subscription)
    too_long = subscribe(phone, Browser(longest + "x").subscription)

    assert stored.status_code == 201, stored.get_json()
    assert too_long.status_code == 400
    assert too_long.get_json()["detail"] == "subscription.endpoint is too long."
