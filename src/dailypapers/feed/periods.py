"""Periods of the feed, all in one place: the day, ISO week or month a request names, as
[start, end], and the window of days trending looks at.

``parse_period`` reads the API's ``date=|week=|month=``; the pages' paths use ``parse_day``,
``parse_week`` and ``parse_month``; a malformed one raises :class:`BadPeriod` with a message
that says what was expected (the web layer turns it into a 4xx).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Literal

_WEEK_RE = re.compile(r"(\d{4})-W(\d{2})")
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


Window = Literal["day", "week", "month"]
WINDOW_DAYS: dict[Window, int] = {"day": 1, "week": 7, "month": 30}


class BadPeriod(ValueError):
    """A date, week or month that cannot be read; the message says what was expected."""


class TooManyPeriods(BadPeriod):
    """More than one of date, week and month was given."""


# The shapes as the API's schema states them (an empty value is "not given"). A value of the
# right shape may still name no real period (2026-02-30, 2026-W53, year 0000).
DAY_PATTERN = r"^(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))?$"
WEEK_PATTERN = r"^(\d{4}-W(0[1-9]|[1-4]\d|5[0-3]))?$"
MONTH_PATTERN = r"^(\d{4}-(0[1-9]|1[0-2]))?$"


def parse_day(text: str) -> date:
    # The regex first: fromisoformat also takes forms (20260612, 2026-W24-1) we do not offer.
    try:
        if _DAY_RE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise BadPeriod(f"date must be YYYY-MM-DD, got {text[:40]!r}")


def parse_week(text: str) -> tuple[date, date]:
    match = _WEEK_RE.fullmatch(text)
    try:
        if match:
            start = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return start, start + timedelta(days=6)
    except (ValueError, OverflowError):  # OverflowError: the last week of 9999 ends in 10000
        pass
    raise BadPeriod(f"week must be YYYY-Www (ISO week), got {text[:40]!r}")


def parse_month(text: str) -> tuple[date, date]:
    match = _MONTH_RE.fullmatch(text)
    if match and 1 <= int(match[2]) <= 12 and int(match[1]) >= 1:
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    raise BadPeriod(f"month must be YYYY-MM, got {text[:40]!r}")


def parse_period(day: str | None, week: str | None, month: str | None) -> tuple[date, date] | None:
    """The range asked for, or None when none was given; at most one may be given.

    An empty value (``?date=``, as an empty form field sends it) counts as not given.
    """
    day, week, month = (value or None for value in (day, week, month))
    given = [value for value in (day, week, month) if value is not None]
    if len(given) > 1:
        raise TooManyPeriods("give at most one of date, week and month")
    if day is not None:
        one = parse_day(day)
        return one, one
    if week is not None:
        return parse_week(week)
    if month is not None:
        return parse_month(month)
    return None


def window_range(latest: date, window: Window) -> tuple[date, date]:
    """The days a trending window covers, ending on ``latest`` (the newest day with papers)."""
    return latest - timedelta(days=WINDOW_DAYS[window] - 1), latest
