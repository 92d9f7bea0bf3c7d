"""Start a throwaway Redis server for the tests (Debian's ``redis-server`` package).

It listens on 127.0.0.1 on a free port, keeps nothing on disk and is stopped at the end.
Without the binary the tests that need it skip and say so, except under CI (``CI`` set),
where they fail: CI installs it (the Makefile's DEBIAN_PACKAGES).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.support.server import free_port

START_TIMEOUT = 30.0


@contextmanager
def start_redis() -> Iterator[str]:
    """Serve Redis until the block ends; yields its ``redis://127.0.0.1:PORT/0`` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "Redis is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root, port = Path(tempfile.mkdtemp(prefix="dailypapers-redis-")), free_port()
    command = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(root),
        "--protected-mode",
        "yes",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    message = f"redis-server did not start (exit {process.poll()})"
                    raise RuntimeError(message) from error
                time.sleep(0.05)
