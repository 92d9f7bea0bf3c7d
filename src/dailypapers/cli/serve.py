"""``dailypapers serve``: the web site, the JSON API and the feeds, on uvicorn.

Settings come from the environment (and ``.env``), read in each worker; the database is
migrated before the first worker starts, so the workers never race to do it.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from dailypapers.cli.common import settings, store

MAX_WORKERS = 64


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=MAX_WORKERS, help="Worker processes (each loads the index).")
    ] = 1,
) -> None:
    """Serve the site at http://HOST:PORT until interrupted."""
    settings()  # a bad setting stops here with one line, not in every worker
    with store():
        pass  # opening migrates the database
    typer.echo(f"dailypapers: serving on http://{host}:{port} (Ctrl-C to stop)")
    uvicorn.run(
        "dailypapers.web.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
