"""The worker's digest jobs (registered in ``worker/registry.py``).

``send_digests_job`` (on the harvest days at ``DAILYPAPERS_MAIL_SEND_TIME``, after the
harvest): sends the daily edition of the newest day with papers and the weekly edition of
the last whole ISO week, each to those who have not had it (the outbox makes a second run a
no-op); deliveries waiting on a back-off get a run of this job at their time.
``forget_unconfirmed_job`` (hourly): deletes subscriptions left unconfirmed for 7 days.
"""

from __future__ import annotations

from dailypapers.digest.compose import pick_edition
from dailypapers.digest.edition import KINDS
from dailypapers.digest.outbox import send_edition
from dailypapers.digest.subscriptions import forget_unconfirmed
from dailypapers.store.jobs import add_run
from dailypapers.worker.context import JobContext

FORGET = "subscriptions"
DIGEST = "digest"


def forget_unconfirmed_job(context: JobContext) -> dict[str, int]:
    return {"forgotten": forget_unconfirmed(context.store)}


def send_digests_job(context: JobContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in KINDS:
        edition = pick_edition(context.store, kind)
        if edition is None or not edition.entries:
            continue
        report = send_edition(context.store, context.settings, edition, check=context.check)
        for outcome, count in report.counts.items():
            counts[f"{kind}_{outcome}"] = count
        if report.next_retry is not None:
            with context.store.write() as connection:
                add_run(connection, DIGEST, report.next_retry)
    return counts
