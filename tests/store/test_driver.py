"""The hot statements on the driver's cursor, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Date, bindparam, select
from sqlalchemy.dialects import postgresql

from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.driver import OnSqlite, day, fetch, moment, on_sqlite, prepare
from dailypapers.store.papers import upsert_papers
from dailypapers.store.schema import papers

_ON_DAY = select(papers.c.arxiv_id, papers.c.feed_day, papers.c.submitted_at).where(
    papers.c.feed_day == bindparam("day", type_=Date), papers.c.title != "x"
)


def test_rows_come_back_as_tuples_with_dates_read_back(store: Store) -> None:
    record = make_record(
        "2501.00001", "A Paper", first_listed_on=date(2025, 1, 6),
        submitted_at=datetime(2025, 1, 3, 10, 30, 15),
    )  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, [record])
    with store.read() as connection:
        rows = fetch(connection, _ON_DAY, {"day": date(2025, 1, 6)})
        none = fetch(connection, _ON_DAY, {"day": date(2025, 1, 7)})
    assert none == []
    [(pid, feed_day, submitted)] = rows
    assert (pid, day(feed_day), moment(submitted)) == (
        "2501.00001",
        date(2025, 1, 6),
        datetime(2025, 1, 3, 10, 30, 15),
    )
    assert day(None) is None and moment(None) is None


def test_list_parameters_are_refused(store: Store) -> None:
    statement = select(papers.c.arxiv_id).where(
        papers.c.arxiv_id.in_(bindparam("ids", expanding=True))
    )
    with pytest.raises(ValueError, match="expanding"):
        prepare(statement, store.read_engine.dialect)


def test_a_read_sees_one_snapshot_while_a_write_commits(store: Store) -> None:
    """A reader's transaction begins for real (on SQLite on the driver's connection, see
    store/db.py): a paper written meanwhile is not seen until the next read."""
    first = make_record("2501.00001", "A Paper", first_listed_on=date(2025, 1, 6))
    second = make_record("2501.00002", "Another", first_listed_on=date(2025, 1, 6))
    with store.write() as connection:
        upsert_papers(connection, [first])
    with store.read() as connection:
        before = fetch(connection, _ON_DAY, {"day": date(2025, 1, 6)})
        with store.write() as writer:
            upsert_papers(writer, [second])
        during = fetch(connection, _ON_DAY, {"day": date(2025, 1, 6)})
    with store.read() as connection:
        after = fetch(connection, _ON_DAY, {"day": date(2025, 1, 6)})
    assert [row[0] for row in before] == [row[0] for row in during] == ["2501.00001"]
    assert sorted(row[0] for row in after) == ["2501.00001", "2501.00002"]


def test_a_statement_on_sqlites_driver_takes_its_parameters_in_order(
    sqlite_store: Store,
) -> None:
    """``on_sqlite`` puts a dict's values in the order of the statement's placeholders,
    with the values the statement binds itself (a literal made a parameter)."""
    record = make_record("2501.00001", "A Paper", first_listed_on=date(2025, 1, 6))
    with sqlite_store.write() as connection:
        upsert_papers(connection, [record])
    dialect = sqlite_store.read_engine.dialect
    with_literal = select(papers.c.arxiv_id, papers.c.title).where(
        papers.c.title != bindparam("not_title"),
        papers.c.arxiv_id == bindparam("pid"),
        papers.c.local_upvotes >= 0,  # bound by the statement itself
    )
    alone = select(papers.c.title).where(papers.c.arxiv_id == bindparam("pid"))
    fixed = select(papers.c.arxiv_id).where(papers.c.arxiv_id != "x")
    with sqlite_store.read() as connection:
        driver = cast(sqlite3.Connection, connection.connection.driver_connection)
        for statement, params, expected in (
            (with_literal, {"pid": "2501.00001", "not_title": "B"}, [("2501.00001", "A Paper")]),
            (with_literal, {"pid": "2501.00001", "not_title": "A Paper"}, []),
            (alone, {"pid": "2501.00001"}, [("A Paper",)]),
            (fixed, {}, [("2501.00001",)]),
        ):
            run = on_sqlite(statement, dialect)
            assert _rows(driver, run, params) == expected
    with pytest.raises(ValueError, match="SQLite"):
        on_sqlite(alone, postgresql.dialect())  # type: ignore[no-untyped-call]


def _rows(driver: sqlite3.Connection, run: OnSqlite, params: dict[str, str]) -> list[Any]:
    return driver.execute(run.sql, run.args(params)).fetchall()
