"""Mail that comes back to the site: unsubscribe requests sent to the ``List-Unsubscribe``
mailto, and bounce reports (DSN, RFC 3464) of mail it sent.

``dailypapers mail receive`` reads one RFC 5322 message on standard input (an MTA pipes the
site's From address to it: README, "Mail set-up") and :func:`handle` decides:

* a delivery status report (``multipart/report; report-type=delivery-status``) whose action
  is ``failed`` with a 5.x.x status, about a message the site sent (found by the
  ``Message-ID`` of the returned headers): a digest's counts a bounce against the address
  (three stop its mail, as a 5xx reply does), an alert's marks its papers bounced. A delay
  (4.x.x) is noted and ignored.
* otherwise the subject's ``unsubscribe TOKEN`` (the mailto's subject) unsubscribes the
  digest subscription or deletes the alert the token names (again: nothing to do, done).

The outcome is an exit code an MTA understands (sysexits): 0 done, 67 ``EX_NOUSER`` (no or
an unknown token, a report about mail the site did not send: the MTA bounces it to the
sender), 65 ``EX_DATAERR`` (not a message, a report that cannot be read), and one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message

from dailypapers.alerts.sending import unsubscribe as unsubscribe_alert
from dailypapers.digest.links import LinkError
from dailypapers.digest.subscriptions import MAX_BOUNCES, unsubscribe
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import alerts as alert_sql
from dailypapers.store.outbox import subscription_of_message
from dailypapers.store.subscriptions import add_bounce

EX_OK, EX_DATAERR, EX_NOUSER = 0, 65, 67
MAX_BYTES = 10_000_000
_TOKEN = re.compile(r"\bunsubscribe\s+([A-Za-z0-9._\-]+)", re.I)


@dataclass(frozen=True)
class Outcome:
    code: int
    line: str


def handle(store: Store, settings: Settings, data: bytes) -> Outcome:
    """Act on one incoming message (see the module)."""
    if not data.strip() or len(data) > MAX_BYTES:
        return Outcome(EX_DATAERR, "not a mail message (empty or too large)")
    message = message_from_bytes(data, policy=policy.default)
    if not message.keys():
        return Outcome(EX_DATAERR, "not a mail message (no header fields)")
    if message.get_content_type() == "multipart/report":
        return _report(store, message)
    subject = str(message.get("Subject", ""))
    found = _TOKEN.search(subject)
    if found is None:
        return Outcome(EX_NOUSER, "no 'unsubscribe TOKEN' in the subject")
    return _unsubscribe(store, settings, found.group(1))


def _unsubscribe(store: Store, settings: Settings, token: str) -> Outcome:
    try:
        gone = unsubscribe(store, settings, token)
        return Outcome(EX_OK, "unsubscribed from the digest" if gone else "already unsubscribed")
    except LinkError:
        pass
    deleted = unsubscribe_alert(store, settings, token)
    if deleted is None:
        return Outcome(EX_NOUSER, "unknown unsubscribe token")
    return Outcome(EX_OK, "alert deleted" if deleted else "alert already deleted")


def _fields(part: Message) -> list[Message]:
    """The field blocks of a ``message/delivery-status`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    return []


def _original_id(report: Message) -> str | None:
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" or kind == "message/global":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return str(inner[0].get("Message-ID", "")).strip() or None
        if kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            raw = raw if isinstance(raw, bytes) else str(part.get_payload()).encode()
            headers = message_from_bytes(raw, policy=policy.default)
            return str(headers.get("Message-ID", "")).strip() or None
    return None


def _report(store: Store, message: Message) -> Outcome:
    status = next(
        (p for p in message.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if status is None:
        return Outcome(EX_DATAERR, "a report without a delivery-status part")
    recipients = [block for block in _fields(status) if block.get("Action")]
    if not recipients:
        return Outcome(EX_DATAERR, "a delivery-status part without a recipient's Action")
    failed = [
        block for block in recipients
        if str(block["Action"]).strip().lower() == "failed"
        and str(block.get("Status", "")).strip().startswith("5")
    ]  # fmt: skip
    if not failed:
        return Outcome(EX_OK, "delivery report without a permanent failure: ignored")
    original = _original_id(message)
    if original is None:
        return Outcome(EX_DATAERR, "a bounce report without the returned Message-ID")
    with store.write() as connection:
        subscription = subscription_of_message(connection, original)
        if subscription is not None:
            count = add_bounce(connection, subscription, MAX_BOUNCES)
            return Outcome(EX_OK, f"bounce counted for a digest subscriber ({count} so far)")
        if alert_sql.bounce_message(connection, original):
            return Outcome(EX_OK, "bounce recorded for an alert mail")
    return Outcome(EX_NOUSER, f"bounce report for a message not sent here: {original[:100]}")
