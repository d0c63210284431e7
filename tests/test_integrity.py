"""What the server finds at start (issue 28): a damaged database, a read-only one, a key file
that cannot be read are refused with a message naming the problem and the way back; an
unwritable public folder is said, and /readyz is red. The same check of the database runs on
demand (`flask --app server check-database`, `python -m server --check`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from harness import REPO, flask_cli, mount_small_disk, unit_settings
from server import create_app, demo
from server.commands import execute
from server.rules.auth import Identity, command_line

LOCATION = "stairs-XYZ"


def seeded_with_an_incident(db_path: Path) -> None:
    """The demo site with an incident (its start is a signed checkpoint) and a help request
    logged after it; every connection closed, so that the whole file is in the database."""
    app = create_app(unit_settings(db_path, "live-test-secret"))
    services = app.extensions["exitnow"]
    demo.seed(services)
    operator = command_line("demo")
    execute(services, operator, "demo", "start_incident", {"kind": "fire"})
    maija = Identity(site="demo", role="duty_manager", name="Maija", staff_id=1)
    execute(services, maija, "demo", "request_help", {"location": LOCATION})
    services.store.close()


def flip_a_byte(db_path: Path, inside: bytes) -> None:
    data = bytearray(db_path.read_bytes())
    at = data.index(inside) + len(inside) - 1
    data[at] ^= 0x01
    db_path.write_bytes(bytes(data))


def start(db_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m server` on that database, as an operator starts it; it must stop by itself."""
    return subprocess.run(
        [sys.executable, "-m", "server", "--port", "9", *args],
        cwd=REPO,
        env={**os.environ, "EXITNOW_DB": str(db_path), "EXITNOW_DISK_RESERVE_MB": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_flipped_byte_in_the_log_is_refused_at_start_naming_it_and_the_way_back(tmp_path):
    db_path = tmp_path / "exitnow.db"
    seeded_with_an_incident(db_path)
    assert flask_cli(db_path, "check-database").returncode == 0

    # A field the log keeps in plain text (a person's location is sealed: issue 25).
    flip_a_byte(db_path, b'"help_id":1')

    started = start(db_path)
    assert started.returncode != 0
    said = started.stderr
    assert "Exit Now will not start" in said and "is damaged" in said
    assert "the log of site 'demo' at seq" in said and "does not match its hash" in said
    assert "flask --app server backup" in said and "litestream restore" in said
    checked = flask_cli(db_path, "check-database")
    assert checked.returncode == 1 and "does not match its hash" in checked.stderr
    on_demand = start(db_path, "--check")
    assert on_demand.returncode == 1 and "does not match its hash" in on_demand.stdout


def test_a_damaged_page_is_refused_at_start(tmp_path):
    db_path = tmp_path / "exitnow.db"
    seeded_with_an_incident(db_path)
    data = bytearray(db_path.read_bytes())
    data[4096 * 2 : 4096 * 4] = bytes(range(256)) * 32  # two pages of garbage
    db_path.write_bytes(bytes(data))

    started = start(db_path)
    assert started.returncode != 0
    assert "is damaged" in started.stderr and "SQLite" in started.stderr
    assert "The way back" in started.stderr


def test_an_unreadable_key_file_is_refused_at_start(tmp_path):
    db_path = tmp_path / "exitnow.db"
    seeded_with_an_incident(db_path)
    (tmp_path / "log_signing_key.pem").write_text("-----BEGIN PRIVATE KEY-----\nbroken\n")

    started = start(db_path)
    assert started.returncode != 0
    assert "log_signing_key.pem" in started.stderr and "cannot be read" in started.stderr
    assert "put back your copy" in started.stderr


def test_a_lost_signing_key_is_not_made_anew_without_a_word(tmp_path):
    db_path = tmp_path / "exitnow.db"
    seeded_with_an_incident(db_path)  # the incident's start is a signed checkpoint
    key = tmp_path / "log_signing_key.pem"
    key.unlink()

    for refused in (start(db_path), flask_cli(db_path, "verify-log")):
        assert refused.returncode != 0
        assert "log_signing_key.pem is missing" in refused.stderr, refused.stderr
        assert (
            "put back your copy" in refused.stderr and "EXITNOW_NEW_LOG_KEY=yes" in refused.stderr
        )
        assert not key.exists()

    # Only when asked: a new key, and the server starts (here it only checks, as a start does).
    made = flask_cli(db_path, "verify-log", EXITNOW_NEW_LOG_KEY="yes")
    assert made.returncode == 0, made.stderr
    assert key.exists()
    assert start(db_path, "--check").returncode == 0


@pytest.fixture
def read_only_disk(tmp_path):
    folder = tmp_path / "disk"
    unmount = mount_small_disk(folder, 16)
    yield folder
    subprocess.run(unmount, check=False)


def test_a_read_only_database_is_refused_at_start(read_only_disk):
    db_path = read_only_disk / "exitnow.db"
    seeded_with_an_incident(db_path)
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_disk)], check=True)

    started = start(db_path)
    assert started.returncode != 0
    assert "Exit Now will not start" in started.stderr
    assert "cannot be written" in started.stderr or "read-only" in started.stderr


def test_an_unwritable_public_folder_is_said_at_start_and_readyz_is_red(
    tmp_path, read_only_disk, live_servers
):
    db_path = tmp_path / "exitnow.db"
    seeded_with_an_incident(db_path)
    (read_only_disk / "public").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_disk)], check=True)

    server = live_servers(db_path, {"EXITNOW_PUBLIC_DIR": str(read_only_disk / "public")})
    server.start()
    answer = requests.get(server.url + "/readyz", timeout=10)
    assert answer.status_code == 503
    assert answer.json()["checks"]["snapshots"] is False
    assert "WARNING: the public folder" in server.output.read_text()
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
