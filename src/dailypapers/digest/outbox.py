"""Sending an edition exactly once to each subscriber, through the outbox in the store.

``send_edition`` queues a delivery row for every confirmed subscriber of the edition's
frequency (unique per subscription and edition: queueing twice queues nothing twice), then
claims due rows a few at a time under a lease, sends each over one SMTP connection at most
``DAILYPAPERS_MAIL_RATE`` a second, and marks each row sent in its own transaction right
after the server accepted it. So a run that is killed leaves every accepted message marked,
except at most the one between the server's "250 OK" and that commit; its row is taken
again when its lease expires, and the mail is sent again with the same Message-ID (the one
window that cannot be closed without the server's help).

Failures: a temporary one (4xx, a dropped connection, a timeout) puts the row back with a
back-off of ``DAILYPAPERS_MAIL_RETRY_SECONDS`` doubling per attempt, up to
``MAX_ATTEMPTS``; a 5xx reply marks the delivery bounced and counts a bounce against the
address (three stop its mail). A failure that is no one address's fault (no mail server, a
refused login, an untrusted certificate) stops the run and hands its rows back.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dailypapers.digest.assemble import PartsCache, assemble
from dailypapers.digest.compose import base_url
from dailypapers.digest.dkim import sign_bytes
from dailypapers.digest.edition import Edition
from dailypapers.digest.headers import (
    delivery_message_id,
    list_id,
    unsubscribe_mailto,
    unsubscribe_url,
)
from dailypapers.digest.subscriptions import MAX_BOUNCES, split_categories
from dailypapers.mail import MailError, open_sender
from dailypapers.mail.sender import Sender
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import outbox as sql
from dailypapers.store.batches import utc_now
from dailypapers.store.subscriptions import add_bounce

log = logging.getLogger(__name__)

BATCH = 20  # deliveries claimed per transaction
MAX_ATTEMPTS = 6


class SendAborted(Exception):
    """Sending cannot go on for anyone (the mail server or its settings); one line."""


@dataclass
class SendReport:
    edition: str
    queued: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    next_retry: datetime | None = None

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def line(self) -> str:
        parts = [f"{self.counts.get(name, 0)} {name}" for name in ("sent", "retry", "bounced")]
        parts += [f"{count} {name}" for name, count in self.counts.items()
                  if name not in ("sent", "retry", "bounced")]  # fmt: skip
        verb = "would send to" if self.dry_run else "queued"
        return f"{self.edition}: {verb} {self.queued}; " + ", ".join(parts)


class Pacer:
    """At most ``rate`` calls a second: :meth:`wait` sleeps until the next slot."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval, self.sleep, self.next_at = 1.0 / rate, sleep, time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            self.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def send_edition(
    store: Store,
    settings: Settings,
    edition: Edition,
    *,
    dry_run: bool = False,
    owner: str | None = None,
    check: Callable[[], None] = lambda: None,
) -> SendReport:
    """Queue ``edition`` for its subscribers and send what is due (see the module)."""
    report = SendReport(edition.name, dry_run=dry_run)
    if not edition.entries:
        return report
    if dry_run:
        with store.read() as connection:
            report.queued = sql.unsent_count(connection, edition.name, edition.kind)
        return report
    with store.write() as connection:
        report.queued = sql.enqueue(connection, edition.name, edition.kind, utc_now())
    _drain(store, settings, edition, report, owner or default_owner(), check)
    with store.read() as connection:
        report.next_retry = sql.next_retry(connection, edition.name)
    return report


def _drain(
    store: Store,
    settings: Settings,
    edition: Edition,
    report: SendReport,
    owner: str,
    check: Callable[[], None],
) -> None:
    pacer = Pacer(settings.mail_rate)
    parts = PartsCache(settings, base_url(settings), edition, list_id(settings, edition))
    lease = timedelta(seconds=BATCH / settings.mail_rate + settings.mail_lease_seconds)
    with open_sender(settings) as sender:
        while True:
            check()
            now = utc_now(precise=True)
            with store.write() as connection:
                batch = sql.claim(connection, edition.name, owner, now=now,
                                  lease_until=now + lease, limit=BATCH)  # fmt: skip
            if not batch:
                return
            for index, delivery in enumerate(batch):
                try:
                    check()
                    pacer.wait()
                    report.add(_deliver(store, settings, sender, parts, delivery, owner))
                except BaseException:
                    with store.write() as connection:
                        sql.release(connection, [item.id for item in batch[index:]], owner)
                    raise


def _deliver(
    store: Store,
    settings: Settings,
    sender: Sender,
    parts: PartsCache,
    delivery: sql.Claimed,
    owner: str,
) -> str:
    """Send one delivery and record the outcome; its name for the report."""
    shared = parts.get(split_categories(delivery.categories))
    if not shared.shown:
        return _finish(store, delivery, owner, "empty")
    subscription_id, key = delivery.subscription_id, delivery.email_key
    url = unsubscribe_url(settings, base_url(settings), subscription_id, key)
    message_id = delivery_message_id(settings, parts.edition, subscription_id)
    data = assemble(
        shared, to=delivery.email, message_id=message_id, unsubscribe_url=url,
        unsubscribe_mailto=unsubscribe_mailto(settings, url),
    )  # fmt: skip
    try:
        signed = sign_bytes(settings, data, shared.names)
        sender.send_bytes(signed, sender=parts.sender, recipients=(delivery.email,))
    except MailError as error:
        return _failed(store, settings, delivery, owner, error)
    return _finish(store, delivery, owner, "sent", message_id=message_id)


def _finish(
    store: Store,
    delivery: sql.Claimed,
    owner: str,
    status: str,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> str:
    # To the microsecond: the fault trials measure the time from the server's acceptance to
    # this commit (the window in which a kill sends a mail twice).
    now = utc_now(precise=True)
    with store.write() as connection:
        kept = sql.finish(connection, delivery.id, owner, status=status, now=now,
                          message_id=message_id, error=error)  # fmt: skip
    if not kept:
        log.warning("delivery %d was taken over by another sender", delivery.id)
    return status


def _failed(
    store: Store, settings: Settings, delivery: sql.Claimed, owner: str, error: MailError
) -> str:
    if error.temporary:
        if delivery.attempts >= MAX_ATTEMPTS:
            return _finish(store, delivery, owner, "failed", error=str(error))
        wait = settings.mail_retry_seconds * 2 ** (delivery.attempts - 1)
        later = utc_now(precise=True) + timedelta(seconds=wait)
        with store.write() as connection:
            sql.retry_later(connection, delivery.id, owner, not_before=later, error=str(error))
        return "retry"
    if error.code is not None and 500 <= error.code < 600 and "login" not in str(error):
        with store.write() as connection:
            add_bounce(connection, delivery.subscription_id, MAX_BOUNCES)
        return _finish(store, delivery, owner, "bounced", error=str(error))
    raise SendAborted(str(error))
