"""The worker's digest jobs (registered in ``worker/registry.py``).

``forget_unconfirmed_job``: deletes subscriptions left unconfirmed for 7 days (hourly).
"""

from __future__ import annotations

from dailypapers.digest.subscriptions import forget_unconfirmed
from dailypapers.worker.context import JobContext

FORGET = "subscriptions"


def forget_unconfirmed_job(context: JobContext) -> dict[str, int]:
    return {"forgotten": forget_unconfirmed(context.store)}
