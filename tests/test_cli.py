"""The command line works as the README writes it, with no async mode set."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import REPO


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
