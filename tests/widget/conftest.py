"""Fixtures of the widget's browser tests: the built widget, the demo clinic page in front of
the session's assistant, and pages of it in Debian's Chromium (the `browser` fixture of
tests/conftest.py, one per module)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from support import ROOT, free_port, start_demo, stop

WIDGET_DIR = ROOT / "widget"
BUNDLE = WIDGET_DIR / "dist" / "clinic-chat.js"
AXE = WIDGET_DIR / "node_modules" / "axe-core" / "axe.min.js"
STORE_KEY = "clinicChat:v1"
WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """`expect(…)` waits as long as the pages do (Playwright's default is 5 s): the assistant on
    two busy cores, or socket.io's next attempt to reconnect, can take longer."""
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=None)  # back to Playwright's default


@pytest.fixture(scope="session")
def widget_bundle() -> Path:
    """The built widget, not older than its sources; axe-core beside it (`axe_core`)."""
    if not BUNDLE.exists() or not AXE.exists():
        pytest.fail(f"The widget is not built ({BUNDLE} or axe-core missing): run `make setup`")
    sources = [WIDGET_DIR / "build.mjs", WIDGET_DIR / "package-lock.json",
               *(WIDGET_DIR / "src").iterdir()]
    stale = [s.name for s in sources if s.stat().st_mtime > BUNDLE.stat().st_mtime]
    if stale:
        pytest.fail(f"The built widget is older than {', '.join(stale)}: run `make setup` "
                    "(or `node widget/build.mjs`)")
    return BUNDLE


@pytest.fixture(scope="session")
def axe_core(widget_bundle) -> Path:
    return AXE


@pytest.fixture(scope="session")
def demo(assistant, widget_bundle) -> Iterator[str]:
    """The demo clinic page's URL; its widget talks to the session's assistant."""
    url, process = start_demo(assistant.url)
    yield url
    stop([process])


class Widget:
    """The chat widget on one page, as a visitor uses it."""

    def __init__(self, page: Page, clinic_name: str) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=f"Chat with {clinic_name}")
        self.dialog = page.get_by_role("dialog")
        self.input = page.get_by_label("Your message")
        self.log = page.get_by_role("log")
        self.bot = page.locator(".message.bot .bubble")
        self.user = page.locator(".message.user .bubble")
        self.notices = page.locator(".message.notice .bubble")
        self.typing_dots = page.locator(".typing .dots")
        self.banner = page.locator("[data-clinic-chat] .status")

    def open(self) -> "Widget":
        """Open the chat with its launcher (a chat left open stays open after a reload)."""
        self.page.wait_for_selector("[data-clinic-chat]", state="attached")
        if not self.dialog.is_visible():
            self.launcher.click()
        expect(self.dialog).to_be_visible()
        return self

    def type_and_send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def ask(self, text: str) -> str:
        """Send a message, wait until the assistant has finished answering; its first reply."""
        before = self.bot.count()
        self.type_and_send(text)
        return self.wait_for_answer(before)

    def wait_for_answer(self, bot_before: int) -> str:
        expect(self.bot).not_to_have_count(bot_before)
        expect(self.typing_dots).to_have_count(0)
        return self.bot.nth(bot_before).inner_text()

    def stored(self) -> Dict[str, Any]:
        return json.loads(self.page.evaluate(f"sessionStorage.getItem('{STORE_KEY}')") or "null")

    def session_id(self) -> str:
        return self.stored()["sessionId"]


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    """A browser profile of its own; at the end nothing may be in localStorage or cookies,
    and no JavaScript dialog may have opened on any of its pages."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(WAIT_MS)
    dialogs: List[str] = []

    def watch(page: Page) -> None:
        def record(dialog) -> None:
            dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()
        page.on("dialog", record)

    context.on("page", watch)
    yield context
    try:
        for page in context.pages:
            assert page.evaluate("localStorage.length") == 0, f"localStorage used on {page.url}"
        assert context.cookies() == [], "the widget must not set cookies"
        assert dialogs == [], f"JavaScript dialogs opened: {dialogs}"
    finally:
        context.close()


@pytest.fixture
def new_widget(context, demo) -> Callable[..., Widget]:
    """Opens the demo page (or `url`) in a new tab of the test's browser profile."""
    from clinic.profile import current_profile

    def open_page(url: str = demo) -> Widget:
        page = context.new_page()
        page.goto(url)
        return Widget(page, current_profile().name)

    return open_page


@pytest.fixture
def widget(new_widget) -> Widget:
    """The demo page in a fresh browser profile."""
    return new_widget()


@pytest.fixture
def another_site() -> Iterator[Callable[[str], str]]:
    """Serves an HTML page on loopback (Chromium lets only loopback pages call loopback);
    returns its URL."""
    servers: List[ThreadingHTTPServer] = []

    def serve(html: str) -> str:
        body = html.encode("utf-8")

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


class TcpForwarder:
    """A loopback port that refuses connections until `start()`, then forwards them to
    `target_port`: an assistant that is unreachable, then comes back."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port, self.target_port = port, target_port
        self.listener: socket.socket | None = None
        self.sockets: List[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        for sock in [self.listener, *self.sockets]:
            if sock is not None:
                sock.close()


@pytest.fixture
def flaky_assistant(assistant) -> Iterator[TcpForwarder]:
    """A port for a demo page's widget: closed until `.start()`, then the assistant."""
    forwarder = TcpForwarder(free_port(), int(assistant.url.rsplit(":", 1)[1]))
    yield forwarder
    forwarder.stop()
