"""The real site on a free port, and Debian's Chromium driven by Playwright, for browser tests.

:class:`LiveServer` runs uvicorn in a background thread (with its own event loop, so
Playwright's sync API stays free to run in the test's thread) on a socket bound to a free port
of 127.0.0.1 before the thread starts, so there is no race for the port.
:func:`launch_chromium` starts ``/usr/bin/chromium`` (``apt-get install chromium``) headless;
the browsers Playwright downloads are never used. :class:`ScreenshotFolder` names where the
screenshots of the key pages go and says so at the end of the test run.

The browser tests' one fixture set (``tests/web/conftest.py`` imports the fixtures):

- ``live_site`` (per module): :func:`serve_site` over the 30 papers Hugging Face featured on
  2026-06-12 (real capture), as a :class:`Site` (``url``, ``store``, ``settings``); a module
  that needs another site (a replayed arXiv, no papers) serves its own with
  :func:`serve_site`;
- ``browser`` (per module): :func:`chromium`, ``expect`` waiting at most :data:`TIMEOUT_MS`;
- :func:`member_contexts`: one signed-in member's browser twice, with JavaScript and without.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from dailypapers.index.job import run_index
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.web.app import create_app
from tests.support.members import add_members, session_cookie

CHROMIUM = Path("/usr/bin/chromium")
FEATURED = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"  # in the shared data
TIMEOUT_MS = 30_000  # what ``expect`` and a page wait at most: room for a loaded CI machine
# No sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]


class LiveServer:
    """``app`` served by uvicorn on 127.0.0.1 while the ``with`` block runs; ``url`` is its root."""

    def __init__(self, app: FastAPI, *, timeout: float = 15.0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", int(self._socket.getsockname()[1])
        self.url = f"http://{self.host}:{self.port}"
        self._timeout = timeout
        # log_config=None leaves the test process's logging alone (errors reach pytest's capture).
        config = uvicorn.Config(
            app, log_level="warning", log_config=None, access_log=False, ws="none", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="live-server"
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the live server stopped while starting")
            if time.monotonic() > deadline:
                self._stop()
                raise TimeoutError(f"the live server did not start in {self._timeout} s")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=self._timeout)
        self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError(f"the live server did not stop in {self._timeout} s")


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; skips the test when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
    )


class ScreenshotFolder:
    """Where screenshots go; registered as a pytest plugin, it names the folder in the summary."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.taken: list[Path] = []

    def save(self, page: Page, name: str) -> Path:
        """A full-page PNG of ``page`` as ``name``.png."""
        target = self.path / f"{name}.png"
        page.screenshot(path=target, full_page=True)
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{target} is not a PNG"
        self.taken.append(target)
        return target

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.taken:
            terminalreporter.write_sep("-", "browser screenshots")
            terminalreporter.write_line(f"{len(self.taken)} saved in {self.path}")


@dataclass(frozen=True)
class Site:
    """A served site: its root URL, its store and its settings."""

    url: str
    store: Store
    settings: Settings


@contextmanager
def serve_site(
    settings: Settings, *, featured: bool = True, search_index: bool = False, **app: Any
) -> Iterator[Site]:
    """The site of ``settings`` on a free port while the block runs, the papers Hugging Face
    featured on 2026-06-12 ingested first (``featured``) and the search indexes built as
    ``dailypapers index`` would (``search_index``); ``app``: more of ``create_app``."""
    from tests.conftest import SHARED_DATA  # the conftest imports this module's LiveServer

    if featured and not (SHARED_DATA / FEATURED).is_file():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    store = open_store(settings.resolved_database_url)
    try:
        if featured:
            ingest(store, "hf", "capture", HfDailySource(SHARED_DATA / FEATURED))
        if search_index:
            run_index(store, settings)
        with LiveServer(create_app(store, settings, **app)) as server:
            yield Site(server.url, store, settings)
    finally:
        store.dispose()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium while the block runs; ``expect`` waits at most :data:`TIMEOUT_MS`."""
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def member_contexts(
    browser: Browser, site: Site, prefix: str = "reader", **options: Any
) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """A new member's signed-in browser twice: with JavaScript, then without (``options``:
    more of ``new_context``)."""
    (member,) = add_members(site.store, 1, prefix=f"{prefix}{datetime.now(UTC):%H%M%S%f}")
    cookie = session_cookie(site.store, member, site.url)
    made = [browser.new_context(base_url=site.url, java_script_enabled=js, **options)
            for js in (True, False)]  # fmt: skip
    try:
        for context in made:
            context.add_cookies([cookie])
            context.set_default_timeout(TIMEOUT_MS)
        yield made[0], made[1]
    finally:
        for context in made:
            context.close()


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Site]:
    """The site over the papers Hugging Face featured on 2026-06-12, one per test module."""
    from tests.support.site import site_settings  # it imports LiveServer from here

    settings = site_settings(tmp_path_factory.mktemp("browser-site"), models_dir)
    with serve_site(settings) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium for a test module (each test opens its own contexts)."""
    with chromium() as launched:
        yield launched
