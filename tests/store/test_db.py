"""Opening the database: SQLite's read connections kept between read transactions."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers


def _count(store: Store) -> int:
    with store.read() as connection:
        return int(connection.execute(text("SELECT count(*) FROM papers")).scalar_one())


def test_a_read_connection_is_kept_and_its_next_transaction_sees_new_writes(
    sqlite_store: Store,
) -> None:
    with sqlite_store.read() as first:
        pass
    assert _count(sqlite_store) == 0
    with sqlite_store.write() as connection:
        upsert_papers(connection, [make_record("2501.00001", "A Paper")])
    with sqlite_store.read() as again:
        assert again is first  # kept, not taken from the pool again
        assert again.connection.driver_connection.in_transaction  # type: ignore[union-attr]
    assert _count(sqlite_store) == 1  # a new transaction: a new snapshot


def test_a_read_that_fails_closes_its_connection(sqlite_store: Store) -> None:
    with pytest.raises(RuntimeError), sqlite_store.read() as failed:
        raise RuntimeError("the page failed")
    assert failed.closed
    with sqlite_store.read() as connection:
        assert connection is not failed
    assert _count(sqlite_store) == 0


def test_no_more_read_connections_are_kept_than_the_pool_holds(sqlite_store: Store) -> None:
    readers = [sqlite_store.read() for _ in range(Store.READERS_KEPT + 2)]
    opened = [reader.__enter__() for reader in readers]
    for reader in readers:
        reader.__exit__(None, None, None)
    assert len({id(connection) for connection in opened}) == Store.READERS_KEPT + 2
    assert sum(not connection.closed for connection in opened) == Store.READERS_KEPT
    sqlite_store.dispose()
    assert all(connection.closed for connection in opened)
