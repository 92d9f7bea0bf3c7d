"""Opening the database: SQLite in WAL mode with one writer at a time, or PostgreSQL.

SQLite readers use ordinary deferred transactions; writers start with ``BEGIN IMMEDIATE`` so a
second writer waits (up to the busy timeout) instead of failing half-way through a batch.
PostgreSQL needs neither trick. Everything else in the store takes a ``Connection`` from
:meth:`Store.read` or :meth:`Store.write`.

SQLite read connections are kept between transactions (:attr:`Store.READERS_KEPT` of them):
every uncached page reads in one transaction, and taking a connection from SQLAlchemy's pool
and giving it back (checkout, the reset's rollback, checkin: some 140 Python calls) cost
more than SQLite's ``BEGIN`` and ``COMMIT``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Reads through a memory map of the database file, up to this many bytes, instead of a
# read() into each connection's own page cache (2 MB by default): a page of papers reads rows
# spread over the file, and every page missing from that small cache was a system call and
# a copy. The map shares the operating system's page cache, so the kept readers add no
# memory of their own. A file larger than the map reads its tail as before.
SQLITE_MMAP_BYTES = 1 << 30


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a bare ``postgresql://`` URL (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_engine(url: str, *, immediate: bool, begins: bool = True) -> Engine:
    """An engine of the SQLite database at ``url`` (WAL, foreign keys, busy timeout); its
    transactions begin with ``BEGIN IMMEDIATE`` (writes) or ``BEGIN``, or, not ``begins``,
    with what the caller sent on the driver's connection first."""
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    if not begins:
        return engine

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if immediate:  # may wait for, or fail on, the lock: SQLAlchemy wraps the error
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # A reader's BEGIN takes no lock: on the driver's connection, as SQLAlchemy's
        # execution (its context, events and result) cost twice SQLite's BEGIN itself, a
        # fifth of the 80 us every uncached page pays for its read transaction.
        connection.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]

    return engine


class Store:
    """A database, opened for reading and for (serialised) writing."""

    # SQLite read connections kept open between read transactions, at most (the pool's size).
    READERS_KEPT = 5

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.read_engine = sqlite_engine(self.url, immediate=False)
            self.write_engine = sqlite_engine(self.url, immediate=True)
        else:
            self.read_engine = self.write_engine = create_engine(self.url, pool_pre_ping=True)
        # Idle SQLite read connections, out of the pool (see the module): a list's pop and
        # append are atomic, so threads share it without a lock.
        self._readers: list[Connection] = []

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (sees one consistent snapshot)."""
        if not self.is_sqlite:
            with self.read_engine.connect() as connection:
                # PostgreSQL's default (READ COMMITTED) gives each statement its own snapshot,
                # so a page's count and its rows could disagree during an ingest; a SQLite
                # read transaction keeps one snapshot already.
                connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
            return
        # A kept connection, else a new one (see the module); one whose transaction ended in
        # an error is closed, not kept.
        try:
            connection = self._readers.pop()
        except IndexError:
            connection = self.read_engine.connect()
        try:
            with connection.begin():
                yield connection
        except BaseException:
            connection.close()
            raise
        if len(self._readers) < self.READERS_KEPT:
            self._readers.append(connection)
        else:
            connection.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction; committed on success, rolled back on error."""
        with self.write_engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        while True:
            try:
                self._readers.pop().close()
            except IndexError:
                break
        self.read_engine.dispose()
        self.write_engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the database at ``url``, bringing its schema up to date first by default."""
    store = Store(url)
    if migrate:
        from dailypapers.store.migrate import upgrade

        upgrade(store)
    return store
