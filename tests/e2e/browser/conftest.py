"""Browser tests: a real `onhand serve` with the demo tenant, driven by Debian's Chromium.

The server is a separate process on a free 127.0.0.1 port with its own SQLite file loaded by
`onhand demo --no-serve`. Chromium is the system package (`apt-get install chromium`); the
tests never download a browser. Without chromium they skip, and under CI they fail.
Screenshots go to the pytest temporary folder, and also to `ONHAND_SCREENSHOTS` when set
(`ONHAND_SCREENSHOTS=docs/img` refreshes the pictures of docs/dashboard.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from ports import free_port

IN_CI = bool(os.environ.get("CI"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless",
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@dataclass
class Server:
    base: str
    admin: str
    storefront: str
    database_url: str
    shop_port: int  # a shop page served from http://127.0.0.1:<port> may embed the badge
    public: str  # the token a web page may show (availability only)
    log: Path  # the server's output, quoted when a test sees a server error

    def warnings(self) -> list[str]:
        """What the server logged at warning level or above (why a request failed)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line[:400] for line in text.splitlines() if re.search(r"warn|error|Trace", line)]

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base}/v1/demo",
            headers={"Authorization": f"Bearer {self.admin}"},
            timeout=30,
        )

    def sign_in_link(self, view: str = "", query: str = "") -> str:
        path = f"/dashboard/{view}" if view else "/dashboard"
        return f"{self.base}{path}{'?' + query if query else ''}#token={self.admin}&tenant=demo"


def _onhand() -> list[str]:
    return [sys.executable, "-m", "onhand.cli"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)
    return path


def _environment(url: str, shop_port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": url,
        "ONHAND_LOG_LEVEL": "warning",
        "ONHAND_CORS_ORIGINS": json.dumps([f"http://127.0.0.1:{shop_port}"]),
    }
    env.pop("ONHAND_REDIS_URL", None)
    env.pop("ONHAND_NATS_URL", None)
    return env


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`onhand demo --no-serve` once per session (10 s): the folder of its SQLite file and key,
    and the tokens it printed. Each server starts on a copy of the folder."""
    folder = tmp_path_factory.mktemp("demo-data")
    loaded = subprocess.run(
        [*_onhand(), "demo", "--no-serve"],
        env=_environment(f"sqlite:///{folder / 'console.db'}", 0),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    tokens = dict(re.findall(r"(admin|storefront|public) token\s+(onh_\S+)", loaded.stdout))
    return folder, tokens


# Package scope: Playwright's sync API keeps an event loop running in the main thread while it
# is open, so it must close before the rest of the suite calls asyncio.run().
@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    chromium_path: str,
    demo_folder: tuple[Path, dict[str, str]],
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("console")
    shutil.copytree(demo_folder[0], folder, dirs_exist_ok=True)
    tokens = demo_folder[1]
    url = f"sqlite:///{folder / 'console.db'}"
    shop_port = free_port()
    env = _environment(url, shop_port)
    port = free_port()
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [*_onhand(), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError((folder / "server.log").read_text())
        time.sleep(0.2)
    yield Server(
        base,
        tokens["admin"],
        tokens["storefront"],
        url,
        shop_port,
        tokens["public"],
        folder / "server.log",
    )
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Console:
    """One browser tab on the console, collecting every console error and page error."""

    page: Any
    server: Server
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # 4xx answers, for a failure's message

    def open(self, view: str = "", query: str = "") -> None:
        self.page.goto(self.server.sign_in_link(view, query))
        self.ready(view)

    def ready(self, view: str = "") -> None:
        sel = f'.view-root[data-state="ready"]{f"[data-view={view!r}]" if view else ""}'
        self.page.wait_for_selector(sel, timeout=20_000)

    def overflow(self) -> int:
        """How many pixels the page is wider than the window (0 when nothing sticks out)."""
        return int(self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))

    def width(self, name: str) -> None:
        w, h = WIDTHS[name]
        self.page.set_viewport_size({"width": w, "height": h})


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def shoot(screenshots: Path):  # type: ignore[no-untyped-def]
    copies = os.environ.get("ONHAND_SCREENSHOTS")

    def save(console: Console, name: str) -> Path:
        path = screenshots / f"{name}.png"
        console.page.screenshot(path=str(path), full_page=False)
        if copies:
            Path(copies).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(copies) / path.name)
        return path

    return save


@pytest.fixture
def console(browser: Any, server: Server) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    tab = Console(page, server)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))

    def answered(r: Any) -> None:
        if r.status >= 400:
            (tab.errors if r.status >= 500 else tab.refused).append(
                f"{r.status} {r.request.method} {r.url}"
            )

    page.on("response", answered)
    page.set_default_timeout(15_000)
    yield tab
    context.close()
    assert tab.errors == [], (
        f"console errors: {tab.errors}; 4xx answers: {tab.refused}; "
        f"the server logged: {server.warnings()}"
    )


@pytest.fixture
def shop_page(server: Server) -> Iterator[dict[str, str]]:
    """A shop's product page on another origin, embedding the badge: set `page["html"]`."""
    page = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", server.shop_port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield page
    httpd.shutdown()
    httpd.server_close()
