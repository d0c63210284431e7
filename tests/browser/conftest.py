"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, the real server on the
demo site with the people a test needs, and a plain host page on its own origin for the
embeddable banner."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness import prepare_database


@pytest.fixture
def context(browser):
    """A fresh browser profile per test (cookies, cache, offline switch)."""
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def new_phone(browser):
    """new_phone() -> a fresh browser profile the size of a phone, with a touch screen
    (390×844, `tap()`); each person needs their own (their own session cookie). All close at
    the end."""
    made = []

    def make():
        made.append(browser.new_context(**PHONE))
        return made[-1]

    yield make
    for phone in made:
        phone.close()


SCREENSHOTS = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory, request) -> Path:
    """The folder the browser run saves its screenshots in, for a person to look at: named at
    the end of the run."""
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    request.config.stash[SCREENSHOTS] = folder
    return folder


def pytest_terminal_summary(terminalreporter, config):
    folder = config.stash.get(SCREENSHOTS, None)
    if folder is not None and any(folder.iterdir()):
        terminalreporter.write_sep("-", f"screenshots of the screens: {folder}")


@pytest.fixture
def server_with(tmp_path, live_servers):
    """server_with({role: count}) -> (the real server, started, on the demo site with those
    people, their tokens {role: [token, ...]})."""

    def start(people: dict[str, int]):
        db_path = tmp_path / "site.db"
        tokens = prepare_database(db_path, people)
        return live_servers(db_path).start(), tokens

    return start


@pytest.fixture
def live(server_with):
    """The real server on the demo site with a duty manager: (server, the manager's token)."""
    server, tokens = server_with({"duty_manager": 1})
    return server, tokens["duty_manager"][0]


@pytest.fixture
def host_page():
    """host_page(html, headers=None) -> the URL of a page with that HTML (and those extra
    headers, e.g. a Content-Security-Policy), on an origin of its own."""
    servers = []

    def serve(html: str, headers: dict | None = None) -> str:
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/shop.html"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
