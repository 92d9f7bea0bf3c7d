"""The worker's ``alerts`` job (registered in ``worker/registry.py``): match every saved-search
alert against the papers new since its last run, then mail the email alerts' matches.

It runs after each embedding run that embedded something (``worker/jobs.py`` triggers it, so
new papers are matched by meaning as well as by words) and hourly besides (a site without
new papers does nothing; mail waiting on a back-off goes out).
"""

from __future__ import annotations

from dailypapers.alerts.sending import send_alerts
from dailypapers.alerts.service import run_alerts
from dailypapers.worker.context import JobContext

ALERTS = "alerts"


def alerts_job(context: JobContext) -> dict[str, int]:
    found = run_alerts(context.store, context.settings)
    context.check()
    sent = send_alerts(context.store, context.settings, check=context.check)
    return {
        "papers": found.papers,
        "matches": found.new,
        **{f"mail_{name}": count for name, count in sent.counts.items()},
    }
