"""Browser fixtures: the program under uvicorn (no process managers: orders stay as placed),
the system's headless Chromium driven by Playwright (never a downloaded browser), and a page
per test that fails on any request to another host than 127.0.0.1 and records every script
error. Screenshots go to ``tests/artifacts/browser/`` (ignored by git).

Chromium comes from the Debian packages (``make browser-deps``); without it these tests fail
with a message saying so."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from composition.bootstrap import Container
from tests.conftest import container_of_its_own
from tests.e2e.conftest import running_server, token

CHROMIUM = os.environ.get("ECOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
LOCAL_HOSTS = {"127.0.0.1"}


@pytest.fixture(scope="session")
def console_container(database_url: str) -> Iterator[Container]:
    """A database of the console's own: the chain an auditor verifies in the browser is one no
    other test has tampered with (the audit tests break it on purpose)."""
    with container_of_its_own(database_url, "ecom_console") as c:
        yield c


@pytest.fixture(scope="session")
def console_url(console_container: Container) -> Iterator[str]:
    with running_server(console_container.url, ECOM_RUN_PROCESSES="0") as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser-deps` (Debian packages)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watched:
    """A page and what went wrong on it: script errors, console errors, foreign requests."""

    page: object
    base: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    expected_failures: set[str] = field(default_factory=set)  # URL parts whose 4xx is expected

    def sign_in(self, role: str, sub: str | None = None) -> None:
        self.page.goto(self.base + "/console")
        self.page.fill("#token", token(role, sub or f"browser-{role}"))
        self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_url("**/console/orders")

    def open(self, path: str, loaded: str | None = None) -> None:
        self.page.goto(self.base + path)
        if loaded:
            self.wait_loaded(loaded)

    def wait_loaded(self, loaded: str) -> None:
        try:
            self.page.wait_for_selector(f"body[data-loaded='{loaded}']", state="attached")
        except Exception:
            raise AssertionError(
                f"{loaded} did not load: {self.page.inner_text('#status')!r} {self.errors}"
            ) from None

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe_violations(self) -> list[dict]:
        """Serious and critical violations axe-core finds on the page as it is now."""
        self.page.evaluate(AXE.read_text() + "\n;0")  # evaluated, not a <script>: the CSP stays
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
        )
        return result

    def assert_clean(self) -> None:
        assert not self.foreign, f"requests left 127.0.0.1: {self.foreign}"
        assert not self.errors, f"errors in the browser console: {self.errors}"


@pytest.fixture
def watched(browser, console_url) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    w = Watched(page, console_url)

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("blob:", "data:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            w.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("pageerror", lambda exc: w.errors.append(f"pageerror: {exc}"))

    def console(message):
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if "Failed to load resource" in message.text and any(
            part in where for part in w.expected_failures
        ):
            return
        w.errors.append(f"{message.text} ({where})")

    page.on("console", console)
    try:
        yield w
    finally:
        context.close()
