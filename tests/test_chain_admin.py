"""A chain's admin sees every site and may act as an admin on each; everyone else stays on
their own site."""

from __future__ import annotations

import pytest

from harness import Api, flask_cli
from server.basics.errors import Rejected
from server.commands import execute
from server.rules.auth import Identity, command_line


@pytest.fixture
def chain(services, client, demo_links):
    """The demo shop plus a head office "hq" whose admin Hanna is the chain's admin."""
    execute(services, command_line("hq"), "hq", "create_site", {"name": "Head office"})
    params = {"name": "Hanna", "role": "admin", "chain": True}
    token = execute(services, command_line("hq"), "hq", "create_token", params)["token"]
    return Api(client, token)


def test_chain_admin_sees_every_site_and_a_site_admin_only_their_own(chain, api_as):
    assert [s["id"] for s in chain.get("/api/sites").get_json()["sites"]] == ["demo", "hq"]
    mine = api_as("admin").get("/api/sites").get_json()["sites"]
    assert [s["id"] for s in mine] == ["demo"]
    assert chain.get("/api/me").get_json()["chain_admin"] is True


def test_chain_admin_runs_an_incident_on_any_site_and_reads_its_report(chain):
    started = chain.post("/api/sites/demo/incidents", {"kind": "evacuation", "drill": True})
    assert started.status_code == 201
    demo = next(s for s in chain.get("/api/sites").get_json()["sites"] if s["id"] == "demo")
    assert demo["incident"]["kind"] == "evacuation" and demo["incident"]["drill"] is True
    ended = chain.post("/api/sites/demo/incidents/current/all-clear", {"reason": "drill_over"})
    assert ended.status_code == 200
    report = chain.get(f"/api/sites/demo/incidents/{started.get_json()['id']}/report.json")
    assert report.get_json()["events"][0]["actor_name"] == "Hanna"  # read, not in the log
    assert chain.get("/api/sites/demo/setup").status_code == 200


def test_chain_admin_is_not_in_another_sites_roll_call(chain, event_count):
    chain.post("/api/sites/demo/incidents", {"kind": "fire"})
    before = event_count()
    refused = chain.post("/api/sites/demo/incidents/current/safe")
    assert refused.status_code == 403
    assert "staff member of this site" in refused.get_json()["detail"]
    assert event_count() == before


def test_only_the_command_line_makes_a_chain_admin(services, demo_links, event_count):
    site_admin = execute(
        services, command_line("demo"), "demo", "create_token", {"name": "Aada", "role": "admin"}
    )
    aada = Identity("demo", "admin", "Aada", site_admin["staff_id"])
    before = event_count()
    with pytest.raises(Rejected):
        execute(
            services, aada, "demo", "create_token", {"name": "Aada", "role": "admin", "chain": True}
        )
    with pytest.raises(Rejected):
        params = {"name": "Dan", "role": "duty_manager", "chain": True}
        execute(services, command_line("demo"), "demo", "create_token", params)
    assert event_count() == before


def test_create_token_with_chain_on_the_command_line(settings, services, demo_links, client):
    result = flask_cli(
        settings.db_path,
        "create-token",
        "--site",
        "demo",
        "--role",
        "admin",
        "--name",
        "Kim",
        "--chain",
    )
    assert result.returncode == 0, result.stderr
    kim = Api(client, result.stdout.strip().splitlines()[-1])
    execute(services, command_line("hq"), "hq", "create_site", {"name": "Head office"})
    assert [s["id"] for s in kim.get("/api/sites").get_json()["sites"]] == ["demo", "hq"]
