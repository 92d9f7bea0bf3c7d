"""``dailypapers worker``: run the site's periodic jobs until stopped (SIGTERM or Ctrl-C).

Harvests arXiv after each announcement and embeds papers that have no vector yet (see
``dailypapers.worker``). Run one beside each site on SQLite (``dailypapers serve`` starts one
itself there), or any number on any machines against one PostgreSQL database.
"""

from __future__ import annotations

import logging
import os

import typer

from dailypapers.cli import common
from dailypapers.worker.loop import run_until_signalled
from dailypapers.worker.registry import JOBS


def worker() -> None:
    """Run the background jobs (harvest arXiv, embed new papers) until SIGTERM or Ctrl-C."""
    settings = common.settings()
    # The tokenizer's thread pool reads this once: keep it within the embedding's threads.
    os.environ.setdefault("RAYON_NUM_THREADS", str(settings.worker_embed_threads))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("dailypapers").setLevel(logging.INFO)
    with common.store() as store:
        typer.echo(f"dailypapers worker: jobs {', '.join(kind.name for kind in JOBS)}")
        run_until_signalled(store, settings, JOBS)
