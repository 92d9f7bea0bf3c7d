"""Editions picked by the commands and the worker, and digest messages built from them.

``pick_edition`` names the edition due (or the one a ``--date`` falls in) and loads it
through the feed's reader; ``digest_message`` is one subscriber's mail of it.
"""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage

from dailypapers.digest.edition import Edition, Kind, for_categories, key_of, latest_key
from dailypapers.digest.edition import load_edition as _load
from dailypapers.digest.render import RenderedDigest, render_digest
from dailypapers.feed.reader import read
from dailypapers.mail import build_message
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.batches import utc_now

DEFAULT_BASE = "http://127.0.0.1:8000"  # links when DAILYPAPERS_SITE_URL is not set


def base_url(settings: Settings) -> str:
    return (settings.site_url or DEFAULT_BASE).rstrip("/")


def pick_edition(store: Store, kind: Kind, day: date | None = None) -> Edition | None:
    """The ``kind`` edition ``day`` falls in, else the one due now; None without papers."""
    with read(store) as reader:
        key = key_of(kind, day) if day else latest_key(reader, kind, utc_now().date())
        return None if key is None else _load(reader, kind, key)


def render_for(
    settings: Settings, edition: Edition, categories: tuple[str, ...], unsubscribe: str | None
) -> RenderedDigest:
    entries = for_categories(edition, categories, settings.digest_papers)
    return render_digest(base_url(settings), edition, entries, unsubscribe)


def digest_message(
    settings: Settings,
    edition: Edition,
    to: str,
    *,
    categories: tuple[str, ...] = (),
    unsubscribe: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    rendered = render_for(settings, edition, categories, unsubscribe)
    extra = dict(headers or {})
    if settings.mail_reply_to:
        extra["Reply-To"] = settings.mail_reply_to
    return build_message(
        settings, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html,
        message_id=message_id, headers=extra,
    )  # fmt: skip
