"""Rate-limit counters in the store (SQLite and a real PostgreSQL server): a hit is taken
only while the sliding window has room, and saying so takes no ``RETURNING``."""

from __future__ import annotations

from dailypapers.store import open_store
from dailypapers.store.limits import read_hits, take_hit

BUCKET = "vote:account:x"


def _take(database_url: str, window: int, *, limit: int, previous: int, weight: float) -> bool:
    store = open_store(database_url)
    try:
        with store.write() as connection:
            return take_hit(connection, BUCKET, window, window + 120, limit=limit,
                            previous=previous, weight=weight, epsilon=1e-9)  # fmt: skip
    finally:
        store.dispose()


def _hits(database_url: str, *windows: int) -> dict[tuple[str, int], int]:
    store = open_store(database_url)
    try:
        with store.read() as connection:
            return read_hits(connection, [(BUCKET, window) for window in windows])
    finally:
        store.dispose()


def test_a_hit_is_taken_while_the_window_has_room_and_the_answer_says_so(
    database_url: str,
) -> None:
    """Three of a limit of three are counted (the first inserts the window's row, the
    others update it), the fourth is not and changes nothing; the next window's budget
    is the limit less the previous window's hits times their weight (3 x 0.5: one more
    fits, 4 - 1.5 = 2.5 rounds down to 2)."""
    taken = [_take(database_url, 60, limit=3, previous=0, weight=0.5) for _ in range(4)]
    assert taken == [True, True, True, False]
    assert _hits(database_url, 60) == {(BUCKET, 60): 3}
    later = [_take(database_url, 120, limit=4, previous=60, weight=0.5) for _ in range(3)]
    assert later == [True, True, False]
    assert _hits(database_url, 60, 120) == {(BUCKET, 60): 3, (BUCKET, 120): 2}


def test_no_room_at_all_inserts_no_row(database_url: str) -> None:
    """A window whose budget is spent by the previous one alone gets no row of zero hits."""
    assert _take(database_url, 60, limit=2, previous=0, weight=1.0)
    assert _take(database_url, 60, limit=2, previous=0, weight=1.0)
    assert not _take(database_url, 120, limit=2, previous=60, weight=1.0)
    assert _hits(database_url, 60, 120) == {(BUCKET, 60): 2}
