"""Enrollment links, device sessions with CSRF protection, and bearer tokens from the CLI."""

from __future__ import annotations

import pytest

from harness import flask_cli
from server import commands, create_app
from server.rules.auth import CSRF_HEADER, SESSION_COOKIE, command_line


def new_link(services, staff_id: int) -> str:
    result = commands.execute(
        services, command_line("demo"), "demo", "create_enrollment_link", {"staff_id": staff_id}
    )
    return result["code"]


def staff_id_of(services, name: str) -> int:
    with services.store.reading() as db:
        return db.execute("SELECT id FROM staff WHERE name = ?", [name]).fetchone()[0]


def test_enrollment_link_signs_the_phone_in_once(client, services, demo_links):
    code = new_link(services, staff_id_of(services, "Aino Aaltonen"))
    assert client.get(f"/enroll/{code}").status_code == 200  # the page alone uses nothing up

    first = client.post("/api/enroll", json={"code": code})

    assert first.status_code == 201
    assert first.get_json()["name"] == "Aino Aaltonen"
    assert SESSION_COOKIE in first.headers["Set-Cookie"]
    assert "HttpOnly" in first.headers["Set-Cookie"]
    me = client.get("/api/me").get_json()
    assert me["role"] == "staff" and me["csrf_token"]
    second = client.application.test_client().post("/api/enroll", json={"code": code})
    assert second.status_code == 410
    assert "already used" in second.get_json()["detail"]


def test_expired_enrollment_link_is_refused(client, services, demo_links):
    code = new_link(services, staff_id_of(services, "Sara Smith"))
    with services.store.transaction() as db:
        db.execute("UPDATE enrollment_links SET expires_at = 0")

    answer = client.post("/api/enroll", json={"code": code})

    assert answer.status_code == 410
    assert "expired" in answer.get_json()["detail"]


def test_unknown_enrollment_code_is_404(client, demo_links):
    assert client.post("/api/enroll", json={"code": "nope"}).status_code == 404


def test_cookie_signed_in_write_needs_the_csrf_token(client, services, demo_links):
    code = new_link(services, staff_id_of(services, "Maija Manager"))
    client.post("/api/enroll", json={"code": code})
    csrf = client.get("/api/me").get_json()["csrf_token"]

    forged = client.post("/api/sites/demo/incidents", json={"kind": "fire"})
    wrong = client.post(
        "/api/sites/demo/incidents", json={"kind": "fire"}, headers={CSRF_HEADER: "0" * 64}
    )
    real = client.post(
        "/api/sites/demo/incidents", json={"kind": "fire"}, headers={CSRF_HEADER: csrf}
    )

    assert forged.status_code == 403 and CSRF_HEADER in forged.get_json()["detail"]
    assert wrong.status_code == 403
    assert real.status_code == 201


def test_bearer_token_needs_no_csrf_token(api_as):
    assert (
        api_as("duty_manager").post("/api/sites/demo/incidents", {"kind": "fire"}).status_code
        == 201
    )


def test_create_token_prints_the_token_as_the_last_line(settings, services, demo_links):
    services.store.close()
    result = flask_cli(
        settings.db_path,
        "create-token",
        "--site",
        "demo",
        "--role",
        "duty_manager",
        "--name",
        "Alarm panel",
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]

    app = create_app(settings)  # a new app on the same database file
    answer = app.test_client().get(
        "/api/sites/demo/state", headers={"Authorization": f"Bearer {token}"}
    )
    app.extensions["exitnow"].store.close()
    assert answer.status_code == 200
    assert answer.get_json()["incident"] is None


@pytest.mark.parametrize("site", ["nowhere"])
def test_create_token_for_unknown_site_fails_clearly(settings, site):
    result = flask_cli(
        settings.db_path, "create-token", "--site", site, "--role", "staff", "--name", "X"
    )
    assert result.returncode != 0
    assert f"no site '{site}'" in result.stderr


def test_enrollment_link_comes_with_a_qr_code(api_as, services):
    manager = api_as("duty_manager")
    answer = manager.post(
        f"/api/sites/demo/staff/{staff_id_of(services, 'Sara Smith')}/enrollment-links"
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["url"].endswith(body["path"]) and "/enroll/" in body["path"]
    assert body["qr_svg"].startswith("<svg") and "</svg>" in body["qr_svg"]
    assert api_as("staff").post("/api/sites/demo/staff/2/enrollment-links").status_code == 403


def test_enroll_qr_prints_a_scannable_code_and_the_link(settings, services, demo_links, tmp_path):
    services.store.close()
    svg = tmp_path / "aino.svg"
    result = flask_cli(
        settings.db_path,
        *("enroll-qr", "--site", "demo", "--staff-id", "2", "--svg", str(svg)),
        EXITNOW_PUBLIC_URL="https://shop.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("https://shop.example/enroll/")
    assert "█" in result.stdout  # the code itself, drawn in the terminal
    assert svg.read_text().startswith("<svg")


def test_person_sets_their_language_once(api_as, event_count):
    erik = api_as("staff", name="Erik")
    first = erik.post("/api/me/language", {"language": "sv"})
    after = event_count()
    assert first.status_code == 200 and first.get_json()["changed"] is True
    assert erik.get("/api/me").get_json()["language"] == "sv"
    assert erik.post("/api/me/language", {"language": "sv"}).get_json()["changed"] is False
    assert event_count() == after
    assert erik.post("/api/me/language", {"language": "de"}).status_code == 400
