"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, the real server on the
demo site with the people a test needs, and a plain host page on its own origin for the
embeddable banner."""

from __future__ import annotations

import re
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


class SocketLine:
    """The page's Socket.IO websocket, passed through Playwright (set up before the page
    opens): the frames the phone sent, its outgoing `action`s held back or let go, the
    server's acknowledgements lost, and the line cut while HTTP stays up (as behind a proxy that drops websockets)."""

    SOCKET = re.compile(r"/socket\.io/")

    def __init__(self, context):
        self.up = True
        self.sent: list[str] = []  # every frame the page sent, in order
        self.holding = False  # the phone's actions wait here, as on a slow network
        self.deaf = False  # the server's acknowledgements are lost on the way back
        self.held: list = []  # (server side, frame)
        self.refusals: list[str] = []  # CONNECT_ERROR frames answered instead of the next CONNECTs
        self.routes: list = []
        context.route_web_socket(self.SOCKET, self.route)
        context.route(re.compile(r"/socket\.io/.*transport=polling"), self.polling)

    def route(self, page_side) -> None:
        if not self.up:
            page_side.close()
            return
        server_side = page_side.connect_to_server()
        page_side.on_message(lambda frame: self.forward(server_side, frame))
        server_side.on_message(lambda frame: self.answer(page_side, frame))
        self.routes.append(page_side)

    def forward(self, server_side, frame) -> None:
        self.sent.append(frame)
        if self.holding and '"action"' in str(frame):
            self.held.append((server_side, frame))
        else:
            server_side.send(frame)

    def answer(self, page_side, frame) -> None:
        if self.refusals and str(frame).startswith("40"):  # 40: the namespace's CONNECT
            page_side.send(self.refusals.pop(0))
        elif not (self.deaf and str(frame).startswith("43")):  # 43: an acknowledgement
            page_side.send(frame)

    def let_go(self) -> None:
        self.holding = False
        for server_side, frame in self.held:
            server_side.send(frame)
        self.held.clear()

    def polling(self, route) -> None:
        if self.up:
            route.continue_()
        else:
            route.abort()

    def actions(self) -> list[str]:
        """The commands of the `action` frames the page sent."""
        return re.findall(r'"action",\{"command":"(\w+)"', "".join(map(str, self.sent)))

    def cut(self) -> None:
        """Down, and refused on every reconnection until the test ends."""
        self.up = False
        for page_side in self.routes:
            page_side.close()


@pytest.fixture
def socket_line(context) -> SocketLine:
    return SocketLine(context)
