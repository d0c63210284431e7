"""nginx serves the snapshot files at the app's URLs, and keeps the notice up when the app dies."""

from __future__ import annotations

import os
import signal

import pytest
import requests

from harness import (
    NGINX_CONFIG,
    REPO,
    connections_held,
    free_port,
    prepare_database,
    start_nginx,
)


@pytest.fixture
def nginx(tmp_path):
    """start(public_dir, app_port) -> nginx's base URL; nginx stops at the end."""
    processes = []

    def start(public_dir, app_port: int) -> str:
        process, url = start_nginx(tmp_path / "nginx", public_dir, app_port)
        processes.append(process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_nginx_keeps_serving_the_closed_notice_after_the_app_is_killed(
    tmp_path, live_servers, nginx
):
    db_path, public_dir = tmp_path / "site.db", tmp_path / "public"
    tokens = prepare_database(db_path, {"duty_manager": 1})
    app = live_servers(db_path, env={"EXITNOW_PUBLIC_DIR": str(public_dir)}).start()
    static = nginx(public_dir, app.port)
    assert (
        app.post(
            "/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"}
        ).status_code
        == 201
    )
    from_app = requests.get(app.url + "/status/demo.json", timeout=5)

    app.kill()

    status = requests.get(static + "/status/demo.json", timeout=5)
    assert status.status_code == 200
    assert status.content == from_app.content
    assert status.json()["state"] == "closed"
    assert status.headers["Access-Control-Allow-Origin"] == "*"
    assert "stale-while-revalidate" in status.headers["Cache-Control"]
    again = requests.get(
        static + "/status/demo.json", timeout=5, headers={"If-None-Match": status.headers["ETag"]}
    )
    assert again.status_code == 304
    swedish = requests.get(static + "/status/demo", timeout=5, headers={"Accept-Language": "sv"})
    assert "stängd" in swedish.text and '<html lang="sv">' in swedish.text
    english = requests.get(static + "/status/demo?lang=en", timeout=5)
    assert "closed" in english.text
    twiml = requests.post(static + "/phone/demo/fi.twiml", timeout=5)  # Twilio uses POST
    assert twiml.status_code == 200 and "suljettu" in twiml.text
    assert twiml.headers["Content-Type"].startswith("text/xml")
    banner = requests.get(static + "/embed/demo/banner.js", timeout=5)
    assert banner.status_code == 200 and '"state": "closed"' in banner.text
    assert requests.get(static + "/demo/.lock", timeout=5).status_code == 404


def test_a_browser_behind_nginx_gets_its_live_connection(tmp_path, live_servers, nginx):
    db_path, public_dir = tmp_path / "site.db", tmp_path / "public"
    prepare_database(db_path, {"staff": 1})
    app = live_servers(db_path, env={"EXITNOW_PUBLIC_DIR": str(public_dir)}).start()
    front = nginx(public_dir, app.port)
    # As Chromium opens it: the Engine.IO handshake with the page's own origin (port included).
    handshake = requests.get(
        f"{front}/socket.io/?EIO=4&transport=polling", headers={"Origin": front}, timeout=5
    )
    assert handshake.status_code == 200, handshake.text
    assert handshake.text.startswith("0{")
    foreign = requests.get(
        f"{front}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "http://evil.example"},
        timeout=5,
    )
    assert foreign.status_code == 400  # cross-site hijacking is still refused


def test_the_one_app_block_and_production_share_one_definition_of_the_public_channels():
    """deploy/nginx/one-app.conf and deploy/nginx/production.conf include the same snippets; neither
    has a copy of the public locations or of the proxy headers."""
    public = (NGINX_CONFIG.parent / "nginx-public.conf").read_text()
    for config in (NGINX_CONFIG, REPO / "deploy" / "nginx" / "production.conf"):
        text = config.read_text()
        for snippet in ("nginx-maps.conf", "nginx-public.conf", "nginx-proxy.conf"):
            assert f"include @NOTICES@/{snippet};" in text, (config, snippet)
        assert "try_files" not in text and "proxy_set_header" not in text, config
    assert "location ~ ^/status/" in public and "try_files" in public


def test_phones_that_connect_while_nginx_is_busy_wait_in_its_queue(tmp_path):
    """At the alarm a shop's phones all connect, and their TLS handshakes keep nginx's worker
    busy. nginx's own listen backlog on Linux is 511: the kernel drops the SYNs beyond it,
    and each such phone tries again a second or more later."""
    process, url = start_nginx(tmp_path / "nginx", tmp_path / "public", free_port())
    group = process.pid  # nginx runs in a session of its own: its master and its worker
    try:
        held = connections_held(
            int(url.rsplit(":", 1)[1]),
            800,
            lambda: os.killpg(group, signal.SIGSTOP),
            lambda: os.killpg(group, signal.SIGCONT),
        )
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert held == 800, f"{800 - held} of 800 phones' connections were dropped"
