"""A free port of 127.0.0.1, and a real uvicorn server for one app (:class:`LiveServer`), for
tests that need real connections (keep-alive, raw Host headers) rather than an in-process
client."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from tests.support.browser import LiveServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[tuple[str, int]]:
    """Serve ``app`` until the block ends; yields (host, port)."""
    with LiveServer(app) as server:
        yield server.host, server.port
