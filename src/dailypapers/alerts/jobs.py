"""The worker's ``alerts`` job (registered in ``worker/registry.py``): match every saved-search
alert against the papers new since its last run, then mail the email alerts' matches.

It runs after each embedding run that embedded something (``worker/jobs.py`` triggers it, so
new papers are matched by meaning as well as by words) and hourly besides (a site without
new papers does nothing; mail waiting on a back-off goes out). Alerts saved while the web
process had no model get their query vector here, from the worker's model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dailypapers.alerts import service
from dailypapers.alerts.sending import send_alerts
from dailypapers.alerts.service import run_alerts
from dailypapers.index.dense.embedder import EmbedderError
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.alerts import runnable_alerts
from dailypapers.worker.context import JobContext
from dailypapers.worker.jobs import _embedder as worker_model

log = logging.getLogger(__name__)

ALERTS = "alerts"


def query_embedder(store: Store, settings: Settings) -> Callable[[str], Any] | None:
    """The worker's model (loaded once per process, shared with the embed job), only when
    some alert still lacks a query vector; None when no model can be loaded."""
    model = service.model_name(settings)
    with store.read() as connection:
        rows = runnable_alerts(connection)
    if all(row["vector"] is not None and row["model"] == model for row in rows):
        return None
    try:
        return worker_model(settings).embed_query
    except EmbedderError as error:
        log.warning("alerts without a query vector match by keyword only: %s", error)
        return None


def alerts_job(context: JobContext) -> dict[str, int]:
    found = run_alerts(
        context.store, context.settings, embed=query_embedder(context.store, context.settings)
    )
    context.check()
    sent = send_alerts(context.store, context.settings, check=context.check)
    return {
        "papers": found.papers,
        "matches": found.new,
        **{f"mail_{name}": count for name, count in sent.counts.items()},
    }
