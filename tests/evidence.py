"""Helpers for the evidence tests: an app on a database folder, an incident with its checkpoints,
and the bundle of it as a duty manager downloads it."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

from harness import Api, copy_store, unit_settings
from server import create_app, demo
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"
KEPT_BESIDE = ("secret_key", "log_signing_key.pem", "vapid_private.pem")


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


def run_an_incident(services, client, stamped: bool | None = None, mustered: bool = False) -> Api:
    """The demo site, a fire with a sweep and a help request, the all-clear; the duty
    manager's Api. Returns once both checkpoints are kept (and `stamped`, by default when
    there is a TSA: their timestamp tokens too). `mustered`: with visitors and marks too."""
    demo.seed(services)
    params = {"name": "Maija", "role": "duty_manager"}
    manager = Api(
        client, execute(services, command_line("demo"), "demo", "create_token", params)["token"]
    )
    visitors = sign_in_visitors(manager, client) if mustered else {}
    assert manager.post(f"{SITE}/incidents", {"kind": "fire"}).status_code == 201
    assert manager.post(f"{SITE}/zones/grocery/claim").status_code == 200
    assert manager.post(f"{SITE}/zones/grocery/clear").status_code == 200
    assert manager.post(f"{SITE}/help-requests", {"location": "Lift"}).status_code == 201
    if mustered:
        account_for_some(manager, client, visitors)
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


def sign_in_visitors(manager: Api, client) -> dict:
    """Three visitors before the alarm (one at the entrance) and one who left before it."""
    visitors = {
        name: manager.post(f"{SITE}/visitors", {"name": name}).get_json()["visitor_id"]
        for name in ("Lars Lift", "Nina Nobody", "Gone Before")
    }
    walk_in = client.post(f"{SITE}/visitors/self", json={"name": "Olga Walk-in"}).get_json()
    visitors["Olga Walk-in"] = walk_in["token"]
    assert manager.post(f"{SITE}/visitors/{visitors['Gone Before']}/leave").status_code == 200
    return visitors


def account_for_some(manager: Api, client, visitors: dict) -> None:
    """A marshal's mark for a person without a phone, the manager's own QR check-in, a visitor
    signed out during the alarm, a visitor's own "I am out"; Nina and most staff never."""
    mark = {"staff_id": 3, "assembly_point": "lamp-post-b"}
    assert manager.post(f"{SITE}/incidents/current/accounted", mark).status_code == 200
    qr = {"assembly_point": "lamp-post-a", "how": "qr"}
    assert manager.post(f"{SITE}/incidents/current/safe", qr).status_code == 200
    assert manager.post(f"{SITE}/visitors/{visitors['Lars Lift']}/leave").status_code == 200
    out = client.post(f"{SITE}/visitors/self/safe", json={"token": visitors["Olga Walk-in"]})
    assert out.status_code == 200


def copy_folder(source: Path, target: Path) -> Path:
    """The database and the keys beside it, as the operator holds them."""
    target.mkdir(parents=True)
    copy_store(source / "exitnow.db", target / "exitnow.db")
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
