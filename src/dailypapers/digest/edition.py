"""Digest editions: the day's or the ISO week's top papers by the site's trending score.

An edition is named by its kind and period, ``daily/2026-06-12`` or ``weekly/2026-W24``:
that name is what the outbox keys deliveries on, and ``/digests/daily/2026-06-12`` is the
same edition on the web. Its papers are read through :class:`dailypapers.feed.reader.Reader`
in trending order, scored at the end of the period (midnight UTC after its last day), so an
edition reads the same whenever it is rendered, apart from votes cast since.

Subscribers who chose categories get the first papers of the edition in those categories
(:func:`for_categories`), so an edition holds a pool of ``POOL`` papers to pick from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args

from dailypapers.feed.periods import BadPeriod, parse_day, parse_week
from dailypapers.feed.reader import FeedEntry, Reader

Kind = Literal["daily", "weekly"]
KINDS: tuple[Kind, ...] = get_args(Kind)
POOL = 200  # papers an edition ranks, to fill subscribers' category choices


class EditionError(ValueError):
    """An edition that cannot be named (bad kind or period); the message says why."""


@dataclass(frozen=True)
class Edition:
    kind: Kind
    key: str  # 2026-06-12 or 2026-W24
    start: date
    end: date
    entries: tuple[FeedEntry, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.key}"

    @property
    def path(self) -> str:
        return f"/digests/{self.name}"

    @property
    def title(self) -> str:
        if self.kind == "daily":
            return f"Daily Papers, {self.start.strftime('%a %-d %b %Y')}"
        year, week, _ = self.start.isocalendar()
        return f"Daily Papers, week {week} of {year}"


def period_of(kind: str, key: str) -> tuple[Kind, date, date]:
    """The kind and days an edition's name covers; EditionError when it names none."""
    try:
        if kind == "daily":
            day = parse_day(key)
            return "daily", day, day
        if kind == "weekly":
            start, end = parse_week(key)
            return "weekly", start, end
    except BadPeriod as bad:
        raise EditionError(str(bad)) from None
    raise EditionError(f"an edition is daily or weekly, got {kind[:20]!r}")


def key_of(kind: Kind, day: date) -> str:
    """The name of the ``kind`` edition that ``day`` falls in."""
    if kind == "daily":
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def load_edition(reader: Reader, kind: str, key: str, *, pool: int = POOL) -> Edition:
    """The edition ``kind``/``key`` with its papers in trending order (none: an empty one)."""
    checked, start, end = period_of(kind, key)
    scored_at = datetime.combine(end + timedelta(days=1), time())
    page = reader.period(start, end, sort="trending", limit=pool, now=scored_at)
    return Edition(checked, key_of(checked, start), start, end, tuple(page.entries))


def latest_key(reader: Reader, kind: Kind, today: date) -> str | None:
    """The edition due by default: the newest day with papers (daily), the last whole ISO
    week before ``today``'s (weekly); None when the site has no papers yet."""
    if kind == "weekly":
        return key_of("weekly", today - timedelta(days=7))
    latest = reader.latest_day()
    return None if latest is None else key_of("daily", latest)


def for_categories(edition: Edition, categories: tuple[str, ...], size: int) -> list[FeedEntry]:
    """The first ``size`` papers of the edition in any of ``categories`` (empty: all)."""
    if not categories:
        return list(edition.entries[:size])
    wanted = set(categories)
    return [entry for entry in edition.entries if wanted & set(entry.categories)][:size]
