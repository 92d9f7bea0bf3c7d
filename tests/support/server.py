"""A free port of 127.0.0.1, a real uvicorn server for one app (:class:`LiveServer`), for
tests that need real connections (keep-alive, raw Host headers) rather than an in-process
client, and a bounded wait for a ``dailypapers serve`` process to answer."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI

from tests.support.browser import LiveServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    """Return once ``base``/healthz answers 200; fail if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer within {seconds:g} s")


@contextmanager
def serving(app: FastAPI) -> Iterator[tuple[str, int]]:
    """Serve ``app`` until the block ends; yields (host, port)."""
    with LiveServer(app) as server:
        yield server.host, server.port
