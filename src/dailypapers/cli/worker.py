"""``dailypapers worker``: run the site's periodic jobs until stopped (SIGTERM or Ctrl-C).

Harvests arXiv after each announcement and embeds papers that have no vector yet (see
``dailypapers.worker``). Run one beside each site on SQLite (``dailypapers serve`` starts one
itself there), or any number on any machines against one PostgreSQL database.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Annotated

import typer

from dailypapers.cli import common
from dailypapers.worker.loop import run_until_signalled
from dailypapers.worker.registry import JOBS


def _stop_with_parent(stop: threading.Event) -> None:
    """Set ``stop`` once the parent process has gone (``serve`` killed without cleaning up)."""
    parent = os.getppid()

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker(
    with_parent: Annotated[
        bool,
        typer.Option("--with-parent", hidden=True, help="Stop when the parent process ends."),
    ] = False,
) -> None:
    """Run the background jobs (harvest arXiv, embed new papers) until SIGTERM or Ctrl-C."""
    settings = common.settings()
    # The tokenizer's thread pool reads this once: keep it within the embedding's threads.
    os.environ.setdefault("RAYON_NUM_THREADS", str(settings.worker_embed_threads))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("dailypapers").setLevel(logging.INFO)
    stop = threading.Event()
    if with_parent:
        _stop_with_parent(stop)
    with common.store() as store:
        typer.echo(f"dailypapers worker: jobs {', '.join(kind.name for kind in JOBS)}")
        run_until_signalled(store, settings, JOBS, stop)
