"""Trending: a pure score from votes, GitHub stars, comments and age.

The formula, Hacker-News style::

    score = (upvotes + comments / 2 + log2(1 + stars) + 1) / (age_hours + 2) ** gravity

* ``upvotes`` are the upvotes of the window, each one point: the upvotes imported from
  Hugging Face (they carry no time; they were cast around the paper's day, which is in the
  window) plus this site's own upvotes cast since the window began (a day, week or month
  back), by members who are not suspended (:func:`window_upvotes`).
* ``comments`` count half a point each: the paper's Hugging Face comments, as imported, plus
  the comments on this site that readers see (not deleted, not hidden by a moderator, by
  members who are not suspended: :func:`all_comments`).
* ``stars`` are GitHub stars, log-scaled so a famous repository cannot drown out votes:
  1 star is 1 point, 1,023 stars are 10 points.
* ``age_hours`` is the time since the paper's feed day (or submission), never negative; the
  +2 keeps brand-new papers from dividing by (almost) zero.
* ``gravity`` (default 1.8, as Hacker News) is how fast age pulls a paper down.

The score is only meaningful for comparing papers at the same moment.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time

GRAVITY = 1.8


def window_upvotes(imported: int, local_in_window: int) -> int:
    """The upvotes trending counts: imported from Hugging Face plus this site's own upvotes
    cast within the window (a paper's total shown on its card counts every local upvote)."""
    return max(imported, 0) + max(local_in_window, 0)


def all_comments(imported: int | None, local_visible: int) -> int:
    """The comments trending counts (and the API's ``numComments``): imported from Hugging
    Face plus this site's visible ones (``papers.local_comments``; the store sums them the
    same way in SQL)."""
    return max(imported or 0, 0) + max(local_visible, 0)


def trending_score(
    upvotes: int,
    age_hours: float,
    *,
    stars: int = 0,
    comments: int = 0,
    gravity: float = GRAVITY,
) -> float:
    """The trending score of a paper (see the module docstring for the formula)."""
    points = max(upvotes, 0) + max(comments, 0) / 2 + math.log2(1 + max(stars, 0)) + 1
    decay: float = (max(age_hours, 0.0) + 2) ** gravity
    return points / decay


def age_hours(now: datetime, submitted_at: datetime | None, day: date | None) -> float:
    """Hours from the paper's day (midnight UTC), else its submission, to ``now`` (naive UTC)."""
    if day is not None:
        since = datetime.combine(day, time())
    elif submitted_at is not None:
        since = submitted_at
    else:
        return 0.0
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return max((now - since).total_seconds() / 3600, 0.0)
