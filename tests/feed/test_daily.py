"""The shared feed reader: sorts, trending order at a given moment, categories, windows."""

from __future__ import annotations

from datetime import date, datetime

from dailypapers.feed.daily import period_page, trending_order
from dailypapers.feed.periods import window_range
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.entries import RankInput
from dailypapers.store.papers import upsert_papers

DAY = date(2025, 1, 6)


def _input(pid: str, upvotes: int, day: date, *, stars: int = 0, comments: int = 0) -> RankInput:
    return RankInput(pid, upvotes, stars, comments, None, day)


def test_trending_order_weighs_votes_against_age() -> None:
    now = datetime(2025, 1, 7, 12)
    candidates = [
        _input("old-popular", 30, date(2025, 1, 1)),
        _input("new-some", 5, date(2025, 1, 7)),
        _input("new-none", 0, date(2025, 1, 7)),
        _input("new-none-starred", 0, date(2025, 1, 7), stars=1000),
        _input("new-none-discussed", 0, date(2025, 1, 7), comments=4),
    ]
    assert trending_order(candidates, now) == [
        "new-none-starred", "new-some", "new-none-discussed", "new-none", "old-popular",
    ]  # fmt: skip
    tied = [_input("b", 1, DAY), _input("a", 1, DAY)]
    assert trending_order(tied, now) == ["a", "b"]


def test_window_range_ends_on_the_latest_day() -> None:
    assert window_range(DAY, "day") == (DAY, DAY)
    assert window_range(DAY, "week") == (date(2024, 12, 31), DAY)
    assert window_range(DAY, "month") == (date(2024, 12, 8), DAY)


def test_period_page_sorts_the_same_papers(sqlite_store: Store) -> None:
    records = [
        make_record("2501.00001", "Voted", first_listed_on=DAY, hf_upvotes=9,
                    submitted_at=datetime(2025, 1, 1), categories=["cs.CL"]),
        make_record("2501.00002", "Fresh", first_listed_on=DAY, hf_upvotes=1,
                    submitted_at=datetime(2025, 1, 5), categories=["cs.CV"]),
    ]  # fmt: skip
    with sqlite_store.write() as connection:
        upsert_papers(connection, records)

    def ids(**options: object) -> list[str]:
        with sqlite_store.read() as connection:
            page = period_page(connection, DAY, DAY, **options)  # type: ignore[arg-type]
        return [entry.id for entry in page.entries]

    assert ids() == ["2501.00001", "2501.00002"]
    assert ids(sort="recent") == ["2501.00002", "2501.00001"]
    assert ids(sort="trending", now=datetime(2025, 1, 6, 12)) == ["2501.00001", "2501.00002"]
    assert ids(sort="trending", category="cs.CV") == ["2501.00002"]
    assert ids(sort="upvotes", limit=1, offset=1) == ["2501.00002"]
    with sqlite_store.read() as connection:
        trending = period_page(connection, DAY, DAY, sort="trending", limit=1)
    assert trending.total == 2


def test_trending_counts_imported_and_the_windows_local_upvotes_alike() -> None:
    now = datetime(2025, 1, 6, 12)
    imported = RankInput("imported", 4, 0, 0, None, DAY)
    local = RankInput("local", 0, 0, 0, None, DAY, window_upvotes=5)
    neither = RankInput("neither", 0, 0, 0, None, DAY)
    assert trending_order([neither, imported, local], now) == ["local", "imported", "neither"]
