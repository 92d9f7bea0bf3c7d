"""The hot read statements of the pages, run on the database driver's own cursor.

They are written once in SQLAlchemy Core (so one definition serves SQLite and PostgreSQL, and
the tests run both) and compiled once per dialect to their SQL text and the order of their
parameters (:func:`prepare`); :func:`fetch` then runs that text on the connection's DBAPI
cursor, inside the same transaction, and returns the driver's plain tuples. That skips what
SQLAlchemy does on every execution (the compiled-cache lookup, the execution context, result
metadata and row objects), which cost a daily page more CPU than SQLite's own work
(BENCHMARKS.md, "Web CPU: uncached pages").

The price is the types: values go in and come out as the driver has them. SQLite keeps dates
and times as ISO text, so date parameters are passed as that text (:func:`fetch` does it)
and :func:`day` and :func:`moment` read the columns back; PostgreSQL's driver gives
``date`` and ``datetime`` already, which both pass through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement as the driver takes it: its text and, for drivers with positional
    placeholders (SQLite's ``?``), the parameter names in their order (None: named, as
    psycopg's ``%(name)s``)."""

    sql: str
    order: tuple[str, ...] | None
    sqlite: bool
    # Values the statement binds itself (a literal SQLAlchemy made a parameter of).
    defaults: Mapping[str, Any]


_prepared: dict[tuple[int, str], tuple[ClauseElement, Prepared]] = {}


def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """``statement`` compiled for ``dialect``, once (kept for the process's life: call it
    only with statements built once, at import or in a bounded cache)."""
    key = (id(statement), dialect.name)
    found = _prepared.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    if any(bind.expanding for bind in compiled.binds.values()):
        raise ValueError("expanding IN lists are not supported: bind each value")
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    defaults = {name: value for name, value in compiled.params.items() if value is not None}
    prepared = Prepared(compiled.string, order, dialect.name == "sqlite", defaults)
    # The statement is kept with its text, so its id cannot be reused by another one.
    _prepared[key] = (statement, prepared)
    return prepared


@dataclass(frozen=True, slots=True)
class OnSqlite:
    """A statement as SQLite's driver connection runs it (``connection.execute(sql, args)``
    with ``args`` from a dict of its parameters, its own defaults added), for the busiest
    write (a vote): no look-up of its text, no cursor of the pool's, no check of each value
    (its caller passes text for dates and times, as :func:`fetch` would make them)."""

    sql: str
    args: Callable[[Mapping[str, Any]], tuple[Any, ...]]

    def run(self, driver: sqlite3.Connection, params: Mapping[str, Any]) -> sqlite3.Cursor:
        """The statement run on ``driver`` (:func:`sqlite_driver`) with ``params``."""
        return driver.execute(self.sql, self.args(params))


def sqlite_driver(connection: Connection) -> sqlite3.Connection:
    """SQLite's own connection under ``connection``, which :class:`OnSqlite` statements
    run on."""
    return cast(sqlite3.Connection, connection.connection.driver_connection)


def on_sqlite(statement: ClauseElement, dialect: Dialect) -> OnSqlite:
    """``statement`` compiled once for SQLite ``dialect`` (:func:`prepare`), to run on the
    driver connection (:class:`OnSqlite`)."""
    prepared = prepare(statement, dialect)
    if not prepared.sqlite or prepared.order is None:
        raise ValueError("only SQLite's positional statements run on its driver here")
    order, defaults = prepared.order, dict(prepared.defaults)
    named = [name for name in order if name not in defaults]
    fixed = tuple(defaults.get(name) for name in order)
    if not named:  # every value is the statement's own: the same arguments every time
        return OnSqlite(prepared.sql, lambda _params: fixed)
    pick = itemgetter(*order)  # a tuple of them, in C (one name: the value alone)
    if len(order) == 1:
        return OnSqlite(prepared.sql, lambda params: (pick(params),))
    if not defaults:
        return OnSqlite(prepared.sql, pick)
    return OnSqlite(prepared.sql, lambda params: pick({**defaults, **params}))


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite types store a date as "YYYY-MM-DD"; compare with the same text.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, datetime):
        raise TypeError("datetime parameters are not converted here; use SQLAlchemy")
    return value


def fetch(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` with ``params``, as the driver's tuples."""
    cursor = _executed(connection, statement, params)
    try:
        return cast(list[tuple[Any, ...]], cursor.fetchall())
    finally:
        cursor.close()


def changed(connection: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> int:
    """How many rows ``statement`` (an insert, update or delete) changed: the driver's row
    count, where a ``RETURNING`` clause would only say so (on SQLite it cost an update of a
    wide row as much again as the update itself)."""
    cursor = _executed(connection, statement, params)
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _executed(connection: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> Any:
    prepared = prepare(statement, connection.dialect)
    if prepared.defaults:
        params = {**prepared.defaults, **params}
    cursor = connection.connection.cursor()
    try:
        if prepared.order is None:
            cursor.execute(prepared.sql, params)
        elif prepared.sqlite:
            cursor.execute(prepared.sql, [_sqlite_value(params[n]) for n in prepared.order])
        else:
            cursor.execute(prepared.sql, [params[name] for name in prepared.order])
    except BaseException:
        cursor.close()
        raise
    return cursor


def day(value: date | str | None) -> date | None:
    """A date column as the driver gave it (SQLite: ``YYYY-MM-DD``), as a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def moment(value: datetime | str | None) -> datetime | None:
    """A date-time column as the driver gave it (SQLite: ISO text), as a naive datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
