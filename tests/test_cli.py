"""The command line works as docs/operations.md writes it, with no async mode set."""

from __future__ import annotations

import os
import subprocess
import sys

from harness import REPO, engine_env, prepare_database


def test_a_command_runs_and_ends_under_the_default_async_mode(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "EXITNOW_ASYNC_MODE"}
    env["EXITNOW_DB"] = str(tmp_path / "exitnow.db")
    env["EXITNOW_PUBLIC_DIR"] = str(tmp_path / "public")

    seeded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", "seed-demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert seeded.returncode == 0, seeded.stderr
    assert "/enroll/" in seeded.stdout


def enrollment_link(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", "enrollment-link"]
        + ["--site", "demo", "--staff-id", "2"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_enrollment_link_points_at_the_running_servers_port_and_says_when_it_guesses(
    tmp_path, live_servers
):
    """The server ran with its own port (5733 in the report, a free one here) while the
    command line had no PORT: the link must still lead to it."""
    db = tmp_path / "site.db"
    prepare_database(db, {})
    env = {key: value for key, value in os.environ.items() if key not in ("PORT", "HOST")}
    env |= {"EXITNOW_DB": str(db), "EXITNOW_PUBLIC_DIR": str(tmp_path / "public")}
    env |= engine_env(db)
    env.pop("EXITNOW_PUBLIC_URL", None)

    guessed = enrollment_link(env)
    assert guessed.stdout.splitlines()[-1].startswith("http://127.0.0.1:5000/enroll/")
    assert "guesses http://127.0.0.1:5000" in guessed.stderr

    server = live_servers(db).start()
    try:
        running = enrollment_link(env)
    finally:
        server.kill()
    assert running.stdout.splitlines()[-1].startswith(f"{server.url}/enroll/"), running
    assert "EXITNOW_PUBLIC_URL is not set" in running.stderr

    public = enrollment_link({**env, "EXITNOW_PUBLIC_URL": "https://exitnow.example/"})
    assert public.stdout.splitlines()[-1].startswith("https://exitnow.example/enroll/")
    assert public.stderr == ""


def test_the_demo_started_again_on_its_database_prints_new_links(live_servers, tmp_path):
    server = live_servers(tmp_path / "demo.db").start(demo=True)
    server.stop()
    first = server.output.read_text()
    assert first.count("/enroll/") == 6

    server.start(demo=True)
    again = server.output.read_text()[len(first) :]
    server.stop()
    assert "The demo site is already in" in again
    assert again.count("/enroll/") == 6  # nobody enrolled a phone: a new link for each
