"""The job kinds the worker runs, each with its schedule: adding a job is one entry here.

A kind has a name (stored with each run), what it does (``dailypapers stats`` and the README
say it), a schedule built from the settings (``None``: only run when asked, by another job
with ``JobContext.trigger``), and the function that runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dailypapers.alerts.jobs import ALERTS, alerts_job
from dailypapers.digest.jobs import DIGEST, FORGET, forget_unconfirmed_job, send_digests_job
from dailypapers.settings import Settings
from dailypapers.worker.context import JobContext
from dailypapers.worker.jobs import EMBED, HARVEST, embed_backlog, harvest_arxiv
from dailypapers.worker.schedule import Every, Schedule, Weekly


@dataclass(frozen=True)
class JobKind:
    name: str
    what: str
    schedule: Callable[[Settings], Schedule | None]
    run: Callable[[JobContext], dict[str, int]]


def _digest_schedule(settings: Settings) -> Schedule:
    return Weekly.parse(
        settings.worker_harvest_days, settings.mail_send_time, settings.worker_timezone
    )


def _harvest_schedule(settings: Settings) -> Schedule:
    return Weekly.parse(
        settings.worker_harvest_days, settings.worker_harvest_time, settings.worker_timezone
    )


JOBS: tuple[JobKind, ...] = (
    JobKind(
        HARVEST,
        "harvest arXiv over OAI-PMH after each announcement",
        _harvest_schedule,
        harvest_arxiv,
    ),
    JobKind(
        EMBED,
        "embed papers without a vector, newest first, and update the search index",
        lambda settings: Every(settings.worker_embed_every),
        embed_backlog,
    ),
    JobKind(
        DIGEST,
        "send the daily and weekly digests to subscribers who have not had them",
        _digest_schedule,
        send_digests_job,
    ),
    JobKind(
        ALERTS,
        "match saved-search alerts against new papers and mail the email alerts",
        lambda _settings: Every(3600.0),
        alerts_job,
    ),
    JobKind(
        FORGET,
        "forget digest subscriptions left unconfirmed for 7 days",
        lambda _settings: Every(3600.0),
        forget_unconfirmed_job,
    ),
)
