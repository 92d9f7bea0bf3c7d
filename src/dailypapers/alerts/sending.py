"""Mailing email alerts' matches exactly once, through ``alert_matches`` as an outbox.

:func:`send_alerts` claims the due matches of a few alerts at a time under a lease
(:mod:`dailypapers.store.alerts`), sends one mail per alert listing its papers with why each
matched, and marks that mail's rows sent in one transaction right after the server accepted
it. As with the digest (:mod:`dailypapers.digest.outbox`): a sender killed between the
server's "250 OK" and that commit leaves its rows ``sending``; they are taken again when the
lease (``DAILYPAPERS_MAIL_LEASE_SECONDS`` plus the batch's time) expires and sent again with
the same Message-ID (made from the alert and the rows' ids), the one window no outbox can
close alone. A temporary failure puts the rows back with a doubling back-off; a 5xx marks
them bounced. Each mail has a one-click ``List-Unsubscribe`` (https and mailto), which
deletes the alert.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.policy import SMTP
from html import escape
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import RowMapping

from dailypapers.alerts.matching import why
from dailypapers.alerts.service import Alert
from dailypapers.digest.compose import base_url
from dailypapers.digest.dkim import sign_bytes
from dailypapers.digest.outbox import Pacer, SendAborted, default_owner
from dailypapers.digest.subscriptions import MAX_BOUNCES
from dailypapers.mail import MailError, build_message, open_sender, sender_address, site_domain
from dailypapers.mail.sender import Sender
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import alerts as sql
from dailypapers.store.batches import utc_now

log = logging.getLogger(__name__)

ALERTS_PER_CLAIM = 10
MAX_ATTEMPTS = 6
MAX_PAPERS_PER_MAIL = 100
SALT = "dailypapers-alert-unsubscribe"


def unsubscribe_token(settings: Settings, alert_id: int, user_id: int) -> str:
    return URLSafeSerializer(settings.secret_key, salt=SALT).dumps({"a": alert_id, "u": user_id})


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, int] | None:
    """The (alert, member) an alert's unsubscribe token names; None when it is not one."""
    try:
        payload = URLSafeSerializer(settings.secret_key, salt=SALT).loads(token[:2000])
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not {"a", "u"} <= payload.keys():
        return None
    return int(payload["a"]), int(payload["u"])


def unsubscribe(store: Store, settings: Settings, token: str) -> bool | None:
    """Delete the alert a token names: True done, False already gone, None not a token."""
    named = read_unsubscribe_token(settings, token)
    if named is None:
        return None
    with store.write() as connection:
        return sql.delete_alert(connection, named[0], named[1])


@dataclass
class SendReport:
    counts: dict[str, int] = field(default_factory=dict)
    next_retry: datetime | None = None

    def add(self, outcome: str, count: int = 1) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + count

    def line(self) -> str:
        return "alert mails: " + ", ".join(
            f"{self.counts.get(name, 0)} {name}" for name in ("sent", "retry", "bounced")
        )


def message_id(settings: Settings, alert_id: int, match_ids: Sequence[int]) -> str:
    key = f"{alert_id}:{','.join(map(str, sorted(match_ids)))}"
    mac = hmac.new(settings.secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()[:20]
    return f"<alert.{alert_id}.{mac}@{site_domain(settings)}>"


def compose(
    settings: Settings,
    alert: Alert,
    to: str,
    claimed: Sequence[sql.ClaimedMatch],
    papers: Mapping[str, RowMapping],
) -> tuple[bytes, str]:
    """The signed mail of one alert's matches, and its Message-ID."""
    base = base_url(settings)
    url = f"{base}/alerts/unsubscribe?token={unsubscribe_token(settings, alert.id, alert.user_id)}"
    token = url.split("token=", 1)[1]
    mailto = f"mailto:{sender_address(settings).addr_spec}?subject={quote('unsubscribe ' + token)}"
    lines, items = [], []
    for match in claimed:
        paper = papers.get(match.paper_id)
        title = paper["title"] if paper is not None else match.paper_id
        reason = why(tuple(w for w in match.words.split(",") if w), match.similarity)
        link = f"{base}/papers/{match.paper_id}"
        lines.append(f"- {title}\n  {link}\n  ({reason})")
        items.append(
            f'<li><a href="{escape(link)}">{escape(str(title))}</a><br>'
            f'<small style="color:#555">{escape(reason)}</small></li>'
        )
    count = len(claimed)
    subject = f"{count} new paper{'s' if count != 1 else ''} for your alert “{alert.name}”"
    search = base + alert.search_url()
    text = (
        f"New papers for your saved search “{alert.query}”:\n\n" + "\n\n".join(lines)
        + f"\n\nThe search: {search}\nManage your alerts: {base}/alerts\n"
        f"Stop this alert: {url}\n"
    )  # fmt: skip
    html = (
        f'<div style="font-family:sans-serif"><p>New papers for your saved search '
        f"“{escape(alert.query)}”:</p><ul>{''.join(items)}</ul>"
        f'<p><a href="{escape(search)}">The search</a> · <a href="{escape(base)}/alerts">'
        f'Manage your alerts</a> · <a href="{escape(url)}">Stop this alert</a></p></div>'
    )
    mid = message_id(settings, alert.id, [m.id for m in claimed])
    headers = {
        "List-Id": f"Daily Papers alert <alert-{alert.id}.alerts.{site_domain(settings)}>",
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "list",
        "Auto-Submitted": "auto-generated",
    }
    message = build_message(
        settings, to=to, subject=subject, text=text, html=html, message_id=mid, headers=headers
    )
    names = tuple(message.keys())
    # SMTP policy: CRLF, and long headers (List-Unsubscribe) folded under 998 characters.
    return sign_bytes(settings, message.as_bytes(policy=SMTP), names), mid


def send_alerts(
    store: Store,
    settings: Settings,
    *,
    owner: str | None = None,
    check: Callable[[], None] = lambda: None,
) -> SendReport:
    """Send every due alert mail (see the module); a second run sends nothing."""
    owner = owner or default_owner()
    report = SendReport()
    pacer = Pacer(settings.mail_rate)
    lease = timedelta(seconds=ALERTS_PER_CLAIM / settings.mail_rate + settings.mail_lease_seconds)
    with store.read() as connection:
        if not any(sql.status_counts(connection).get(s) for s in ("due", "sending")):
            return report
    with open_sender(settings) as sender:
        while True:
            check()
            now = utc_now(precise=True)
            with store.write() as connection:
                claimed = sql.claim(connection, owner, now=now, lease_until=now + lease,
                                    alerts_limit=ALERTS_PER_CLAIM)  # fmt: skip
            if not claimed:
                break
            groups: dict[int, list[sql.ClaimedMatch]] = {}
            for match in claimed:
                groups.setdefault(match.alert_id, []).append(match)
            done: list[int] = []
            try:
                for alert_id, matches in groups.items():
                    check()
                    pacer.wait()
                    _deliver(store, settings, sender, alert_id, matches, owner, report)
                    done += [m.id for m in matches]
            except BaseException:
                with store.write() as connection:
                    sql.release(connection, [m.id for m in claimed if m.id not in done], owner)
                raise
    with store.read() as connection:
        report.next_retry = sql.next_retry(connection)
    return report


def _deliver(
    store: Store,
    settings: Settings,
    sender: Sender,
    alert_id: int,
    matches: list[sql.ClaimedMatch],
    owner: str,
    report: SendReport,
) -> None:
    ids = [m.id for m in matches]
    with store.read() as connection:
        row = sql.alert_by_id(connection, alert_id)
        user = sql.owner_address(connection, alert_id)
        papers = sql.papers_of(connection, [m.paper_id for m in matches])
        bounced = sql.bounced_mails(connection, row["user_id"]) if row is not None else 0
    if row is None or user is None or bounced >= MAX_BOUNCES:
        # Deleted, the address no longer confirmed, or it bounced three mails: as for the
        # digest, no more mail goes to it.
        reason = "the address bounced" if bounced >= MAX_BOUNCES else "no confirmed address"
        with store.write() as connection:
            sql.finish(connection, ids, owner, status="failed", now=utc_now(), error=reason)
        report.add("failed")
        return
    alert = Alert.from_row(row)
    for start in range(0, len(matches), MAX_PAPERS_PER_MAIL):
        part = matches[start : start + MAX_PAPERS_PER_MAIL]
        _send_part(store, settings, sender, alert, user, part, papers, owner, report)


def _send_part(
    store: Store,
    settings: Settings,
    sender: Sender,
    alert: Alert,
    to: str,
    part: list[sql.ClaimedMatch],
    papers: Mapping[str, RowMapping],
    owner: str,
    report: SendReport,
) -> None:
    ids = [m.id for m in part]
    data, mid = compose(settings, alert, to, part, papers)
    try:
        sender.send_bytes(data, sender=sender_address(settings).addr_spec, recipients=(to,))
    except MailError as error:
        _failed(store, settings, part, owner, error, report, mid)
        return
    # To the microsecond, like the digest: the window between acceptance and this commit.
    with store.write() as connection:
        kept = sql.finish(connection, ids, owner, status="sent", now=utc_now(precise=True),
                          message_id=mid)  # fmt: skip
    if kept != len(ids):
        log.warning(
            "alert %d: %d of %d matches were taken over", alert.id, len(ids) - kept, len(ids)
        )
    report.add("sent")


def _failed(
    store: Store,
    settings: Settings,
    part: list[sql.ClaimedMatch],
    owner: str,
    error: MailError,
    report: SendReport,
    message_id: str,
) -> None:
    ids = [m.id for m in part]
    attempts = max(m.attempts for m in part)
    with store.write() as connection:
        if error.temporary and attempts < MAX_ATTEMPTS:
            later = utc_now(precise=True) + timedelta(
                seconds=settings.mail_retry_seconds * 2 ** (attempts - 1)
            )
            sql.retry_later(connection, ids, owner, not_before=later, error=str(error))
            report.add("retry")
            return
        if error.code is not None and 500 <= error.code < 600 and "login" not in str(error):
            sql.finish(connection, ids, owner, status="bounced", now=utc_now(),
                       message_id=message_id, error=str(error))  # fmt: skip
            report.add("bounced")
            return
        if error.temporary:
            sql.finish(connection, ids, owner, status="failed", now=utc_now(), error=str(error))
            report.add("failed")
            return
    raise SendAborted(str(error))
