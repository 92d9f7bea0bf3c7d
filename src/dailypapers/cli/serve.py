"""``dailypapers serve``: the web site, the JSON API and the feeds, on uvicorn.

Settings come from the environment (and ``.env``), read in each worker; the database is
migrated before the first worker starts, so the workers never race to do it. By default on
SQLite (``DAILYPAPERS_SERVE_WORKER``) it also starts one background worker
(``dailypapers worker``) as a child process: one, whatever ``--workers`` says, so the
embedding of a backlog runs once; stopped with the server, and stopping by itself if the
server dies.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Annotated

import typer
import uvicorn

from dailypapers.cli.common import settings, store

MAX_WORKERS = 64
WORKER_STOP_SECONDS = 60.0  # a batch of embeddings finishes well within it


def start_background_worker() -> subprocess.Popen[bytes]:
    """``dailypapers worker`` as a child that stops when this process ends."""
    return subprocess.Popen([sys.executable, "-m", "dailypapers", "worker", "--with-parent"])


def stop_background_worker(child: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop between batches; kill it if it does not in time."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        child.wait(WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=MAX_WORKERS, help="Worker processes (each loads the index).")
    ] = 1,
) -> None:
    """Serve the site at http://HOST:PORT until interrupted."""
    config = settings()  # a bad setting stops here with one line, not in every worker
    with store():
        pass  # opening migrates the database
    background = start_background_worker() if config.runs_serve_worker else None
    typer.echo(f"dailypapers: serving on http://{host}:{port} (Ctrl-C to stop)")
    try:
        uvicorn.run(
            "dailypapers.web.app:serve_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    finally:
        if background is not None:
            stop_background_worker(background)
