"""The real site on a free port, and Debian's Chromium driven by Playwright, for browser tests.

:class:`LiveServer` runs uvicorn in a background thread (with its own event loop, so
Playwright's sync API stays free to run in the test's thread) on a socket bound to a free port
of 127.0.0.1 before the thread starts, so there is no race for the port.
:func:`launch_chromium` starts ``/usr/bin/chromium`` (``apt-get install chromium``) headless;
the browsers Playwright downloads are never used. :class:`ScreenshotFolder` names where the
screenshots of the key pages go and says so at the end of the test run.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
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
