"""A full disk (issue 28): the database on a small file system the test makes, filled up.

The alarm still starts, reaches a connected phone and is in the log (the disk reserve is
given back to it); a help request gets 503 and changes nothing; /readyz was red before the
disk was full; once space returns everything works again and verify-log passes.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
import requests

from harness import eventually, mount_small_disk, prepare_database

MIB = 1024 * 1024
DISK_MB = 40
RESERVE_MB = 4
MIN_FREE_MB = 12


@pytest.fixture
def small_disk(tmp_path) -> Path:
    folder = tmp_path / "disk"
    unmount = mount_small_disk(folder, DISK_MB)
    yield folder
    subprocess.run(unmount, check=False)


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Write a filler file until only `leave_bytes` are free (0: until the disk is full)."""
    filler = folder / f"filler-{len(list(folder.glob('filler-*')))}"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (MIB, 4096, 512):
            while not leave_bytes or free_bytes(folder) - size >= leave_bytes:
                try:
                    os.write(descriptor, bytes(size))
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    break
    finally:
        os.close(descriptor)
    return filler


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


@pytest.fixture
def server_on_small_disk(small_disk, live_servers, tmp_path):
    tokens = prepare_database(small_disk / "live.db", {"duty_manager": 1, "staff": 2})
    env = {"EXITNOW_DISK_RESERVE_MB": str(RESERVE_MB), "EXITNOW_MIN_FREE_MB": str(MIN_FREE_MB)}
    server = live_servers(small_disk / "live.db", env)
    server.output = tmp_path / "server.log"  # kept after the small disk is gone
    server.start()
    return server, tokens


def readyz(server) -> dict:
    answer = requests.get(server.url + "/readyz", timeout=10)
    return {"status": answer.status_code, **answer.json()}


def event_types(server, token) -> list[str]:
    answer = server.get("/api/sites/demo/events?limit=1000", token)
    assert answer.status_code == 200, answer.text
    return [entry["type"] for entry in answer.json()["events"]]


def test_alarm_starts_on_a_full_disk_and_other_commands_get_503(server_on_small_disk, connect):
    server, tokens = server_on_small_disk
    manager, staff = tokens["duty_manager"][0], tokens["staff"][0]
    reserve = server.db_path.parent / "disk_reserve"
    assert reserve.stat().st_size == RESERVE_MB * MIB
    phone, console = connect(server.url, staff), connect(server.url, manager)
    assert readyz(server)["status"] == 200
    assert console.disk == []  # no banner while there is room

    fill(server.db_path.parent, leave_bytes=(MIN_FREE_MB - 4) * MIB)
    low = eventually(lambda: (lambda r: r if r["status"] == 503 else None)(readyz(server)))
    assert low["checks"]["disk_space"] is False  # red before the disk is full
    assert low["disk"]["database_free_mb"] < MIN_FREE_MB
    assert console.wait_until(lambda c: c.disk and c.disk[-1]["low"], timeout=15)
    assert console.disk[-1]["reserve_used"] is False
    assert phone.disk == []  # the banner is for responders only
    fill(server.db_path.parent)  # now full

    backup = server.post("/api/sites/demo/backup-requests", staff, {"location": "till 3"})
    assert backup.status_code == 503, backup.text
    assert "the server's disk is full" in backup.json()["detail"]
    assert backup.headers["Content-Type"] == "application/problem+json"

    started = server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    assert started.status_code == 201, started.text
    assert phone.wait_for_event("incident.started") is not None
    assert not reserve.exists()  # given back to the alarm
    status = requests.get(server.url + "/status/demo.json", timeout=10).json()
    assert status["state"] == "closed"  # the public notice is on disk too

    help_request = server.post("/api/sites/demo/help-requests", staff, {"location": "stairs"})
    assert help_request.status_code == 503, help_request.text
    assert "the server's disk is full" in help_request.json()["detail"]
    acknowledged = server.post("/api/sites/demo/incidents/current/acknowledge", staff)
    assert acknowledged.status_code == 200, acknowledged.text

    types = event_types(server, manager)
    assert "incident.started" in types and "alarm.acknowledged" in types
    assert "help.requested" not in types and "backup.requested" not in types
    assert readyz(server)["checks"]["database"] is False
    assert console.wait_until(lambda c: c.disk[-1]["reserve_used"], timeout=15)
    late = connect(server.url, manager)  # a console opened now sees the banner at once
    assert late.wait_until(lambda c: c.disk and c.disk[-1]["reserve_used"])

    for filler in server.db_path.parent.glob("filler-*"):
        filler.unlink()
    eventually(lambda: readyz(server)["status"] == 200)
    assert reserve.stat().st_size == RESERVE_MB * MIB  # held again
    assert console.wait_until(lambda c: not c.disk[-1]["low"] and not c.disk[-1]["reserve_used"])
    help_request = server.post("/api/sites/demo/help-requests", staff, {"location": "stairs"})
    assert help_request.status_code == 201, help_request.text
    ended = server.post(
        "/api/sites/demo/incidents/current/all-clear", manager, {"reason": "false_alarm"}
    )
    assert ended.status_code == 200, ended.text
    verified = server.cli("verify-log")
    assert verified.returncode == 0, verified.stderr


def test_all_clear_and_receipts_are_kept_when_the_disk_fills_mid_incident(
    server_on_small_disk, connect
):
    server, tokens = server_on_small_disk
    manager, staff = tokens["duty_manager"][0], tokens["staff"]
    started = server.post("/api/sites/demo/incidents", manager, {"kind": "evacuation"})
    assert started.status_code == 201, started.text
    phone = connect(server.url, staff[1])
    fill(server.db_path.parent)

    safe = server.post("/api/sites/demo/incidents/current/safe", staff[0])
    assert safe.status_code == 200, safe.text
    zone = server.post("/api/sites/demo/zones/grocery/clear", staff[0])
    assert zone.status_code == 503, zone.text
    ended = server.post(
        "/api/sites/demo/incidents/current/all-clear", manager, {"reason": "resolved"}
    )
    assert ended.status_code == 200, ended.text
    assert phone.wait_for_event("incident.ended") is not None
    types = event_types(server, manager)
    assert "staff.safe" in types and "incident.ended" in types
    assert "zone.cleared" not in types


def test_metrics_give_the_free_space_and_the_reserve(tmp_path):
    from server import create_app
    from server.basics.settings import Settings

    settings = Settings(
        db_path=str(tmp_path / "exitnow.db"),
        public_dir=str(tmp_path / "public"),
        async_mode="threading",
        secret_key="test",
        disk_reserve_mb=1,
        testing=True,
    )
    app = create_app(settings)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    free = os.statvfs(tmp_path)
    line = next(
        x for x in text.splitlines() if x.startswith('exitnow_disk_free_bytes{folder="database"}')
    )
    assert abs(float(line.split()[-1]) - free.f_bavail * free.f_frsize) < 64 * MIB
    assert "exitnow_disk_reserve_bytes 1.048576e+06" in text
    assert "exitnow_disk_min_free_bytes 2.68435456e+08" in text
    app.extensions["exitnow"].store.close()


def test_every_command_the_reserve_keeps_is_in_the_fault_table_of_the_operations_page():
    from harness import REPO
    from server.commands import using_reserve

    row = next(
        line
        for line in (REPO / "docs" / "operations.md").read_text().splitlines()
        if line.startswith("| the disk is full |")
    )
    assert set(using_reserve()) == {
        "start_incident",
        "end_incident",
        "record_delivery",
        "acknowledge",
        "report_safe",
        "account_person",
        "receive_alarm_signal",
        "confirm_pre_alarm",
        "expire_pre_alarm",
    }
    assert all(f"`{name}`" in row for name in using_reserve())
