"""Helpers for the evidence tests: an app on a database folder, an incident with its checkpoints,
and the bundle of it as a duty manager downloads it."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

from helpers import Api, unit_settings

from server import create_app, demo
from server.auth import command_line
from server.commands import execute

SITE = "/api/sites/demo"
KEPT_BESIDE = ("exitnow.db", "secret_key", "log_signing_key.pem", "vapid_private.pem")


def wait_for(predicate, timeout: float = 10) -> None:
    """Until `predicate()` holds (the checkpoints are kept after commit, in the background)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def checkpoint_rows(services) -> list[dict]:
    with services.store.reading() as db:
        return list(db.query("SELECT * FROM checkpoints ORDER BY size"))


def open_app(folder: Path, tsa_url: str | None = None):
    """The app of the database in `folder` (public URL shop.example.com)."""
    settings = unit_settings(folder / "exitnow.db").with_changes(
        public_url="https://shop.example.com", tsa_url=tsa_url
    )
    return create_app(settings)


def run_an_incident(services, client, stamped: bool | None = None) -> Api:
    """The demo site, a fire with a sweep and a help request, the all-clear; the duty
    manager's Api. Returns once both checkpoints are kept (and `stamped`, by default when
    there is a TSA: their timestamp tokens too)."""
    demo.seed(services)
    params = {"name": "Maija", "role": "duty_manager"}
    manager = Api(
        client, execute(services, command_line("demo"), "demo", "create_token", params)["token"]
    )
    assert manager.post(f"{SITE}/incidents", {"kind": "fire"}).status_code == 201
    assert manager.post(f"{SITE}/zones/grocery/claim").status_code == 200
    assert manager.post(f"{SITE}/zones/grocery/clear").status_code == 200
    assert manager.post(f"{SITE}/help-requests", {"location": "Lift"}).status_code == 201
    ended = manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "false_alarm"})
    assert ended.status_code == 200
    stamped = services.settings.tsa_url is not None if stamped is None else stamped
    wait_for(
        lambda: (
            len(checkpoint_rows(services)) == 2
            and all(row["timestamp_token"] or not stamped for row in checkpoint_rows(services))
        )
    )
    return manager


def copy_folder(source: Path, target: Path) -> Path:
    """The database and the keys beside it, as the operator holds them."""
    target.mkdir(parents=True)
    for name in KEPT_BESIDE:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    return target


def bundle_of(folder: Path, token: str, incident_id: int = 1) -> bytes:
    """report.bundle from the app of `folder`, as the duty manager downloads it."""
    app = open_app(folder)
    try:
        answer = Api(app.test_client(), token).get(f"{SITE}/incidents/{incident_id}/report.bundle")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.data
    finally:
        app.extensions["exitnow"].store.close()


def files_of(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zip_:
        return {name: zip_.read(name) for name in zip_.namelist()}
