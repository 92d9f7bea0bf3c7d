"""Upvotes in SQL: one row per member and paper, and each paper's count kept beside it.

A vote is a row of ``paper_votes`` keyed by (user, paper), so a member votes once per paper
however often the request arrives (a double click, a retry): the insert does nothing the
second time. The paper's ``local_upvotes`` moves by one in the same write transaction, and
only when a row was really added or removed, so the count is exact under any number of
concurrent voters: SQLite runs one writer at a time (``BEGIN IMMEDIATE``), and PostgreSQL's
``SET local_upvotes = local_upvotes + 1`` waits for the row lock and adds to the committed
value. Papers are keyed without version, so a vote stays on a paper's new version.

A suspended member's votes are kept but flagged ``counted = false`` and their papers counted
again (:func:`set_counted`); lifting the suspension counts them again.

Every change of the votes also moves the one row of ``vote_clock`` (:func:`vote_stamp`),
so what tells cached pages that votes changed is one row to read, not a count of them all.

Every function takes a connection of ``Store.write`` (writes) or ``Store.read`` (reads);
:mod:`dailypapers.community.votes` holds the rules around them.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Insert,
    Integer,
    String,
    bindparam,
    delete,
    event,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.batches import chunks
from dailypapers.store.db import SQLITE_BUSY_TIMEOUT_MS, Store, sqlite_engine
from dailypapers.store.driver import OnSqlite, changed, day, fetch, on_sqlite, sqlite_driver
from dailypapers.store.schema import paper_votes, papers, users, vote_clock


class WriterBusy(Exception):
    """Another connection holds SQLite's write lock right now (:func:`write_at_once`)."""


def _never_wait(dbapi_connection: Any, _record: Any) -> None:
    # After the store's own set-up of each connection (WAL, foreign keys, busy timeout).
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class _AtOnce:
    """The engine of :func:`write_at_once` and the connection each thread keeps open on it.

    The engine has the store's write engine's set-up, plus never waiting for the lock and no
    checkpoint at commit, set once per connection. (Set and reset around each vote on a
    shared connection, they were four more statements, each a release of the GIL that the
    loop then waited to get back behind the threads rendering pages.) The connection stays
    checked out: taking it from the pool and giving it back (a rollback to reset it) cost
    about as much as the vote's own statements."""

    def __init__(self, store: Store) -> None:
        self.engine = sqlite_engine(store.url, immediate=True, begins=False)
        event.listen(self.engine, "connect", _never_wait)
        self._kept = threading.local()

    def connection(self) -> tuple[Connection, sqlite3.Connection]:
        """This thread's connection, and SQLite's driver connection under it."""
        kept: tuple[Connection, sqlite3.Connection] | None = getattr(self._kept, "pair", None)
        if kept is None or kept[0].closed or kept[0].invalidated:
            connection = self.engine.connect()
            kept = self._kept.pair = (connection, sqlite_driver(connection))
        return kept


# One per store, made on the first write at once.
_AT_ONCE: weakref.WeakKeyDictionary[Store, _AtOnce] = weakref.WeakKeyDictionary()


def write_at_once(store: Store) -> AbstractContextManager[Connection]:
    """A write transaction of SQLite ``store`` that never waits, for a vote run on the
    server's event loop: :class:`WriterBusy` if another writer holds the lock now (run it
    in a thread instead, where waiting is harmless), and no checkpoint of the WAL at its
    commit (a checkpoint syncs the disk: :func:`checkpoint` does it in a thread, and the
    commits of other writes too). ``BEGIN IMMEDIATE`` is sent on the driver's connection
    (through SQLAlchemy's execution it cost more than SQLite's own work)."""
    if not store.is_sqlite:
        raise WriterBusy("only SQLite's writes are short enough for the event loop")
    at_once = _AT_ONCE.get(store)
    if at_once is None:
        at_once = _AT_ONCE[store] = _AtOnce(store)
    return _WriteAtOnce(*at_once.connection())


class _WriteAtOnce:
    """:func:`write_at_once`'s transaction (a class: a generator's context manager cost a
    vote several microseconds more)."""

    __slots__ = ("connection", "driver")

    def __init__(self, connection: Connection, driver: sqlite3.Connection) -> None:
        self.connection = connection
        self.driver = driver

    def __enter__(self) -> Connection:
        driver = self.driver
        if driver.in_transaction:  # one under way on this thread (a write inside one)
            raise WriterBusy("a write at once is under way on this thread")
        try:
            driver.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise WriterBusy(str(error)) from None
        return self.connection

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: Any
    ) -> None:
        _end(self.connection, self.driver, commit=kind is None)


def _end(connection: Connection, driver: sqlite3.Connection, *, commit: bool) -> None:
    """Commit or roll back :func:`write_at_once`'s transaction: on the driver (SQLAlchemy's
    commit around SQLite's cost a vote a tenth of what its statements did), unless a
    statement run through SQLAlchemy began its side of the transaction (its engine sends no
    ``BEGIN``: this is the same transaction), which then ends it, so that it knows."""
    if connection.in_transaction():
        if commit:
            connection.commit()
        else:
            connection.rollback()
    elif not driver.in_transaction:
        return  # SQLite rolled it back itself (an error that ends the transaction)
    elif commit:
        try:
            driver.commit()
        except BaseException:
            driver.rollback()  # never leave the kept connection in a transaction
            raise
    else:
        driver.rollback()


# A checkpoint that finds more frames than this in the WAL (1 GB of 4 kB pages) has the next
# write start it again. A restart holds the write lock while it copies and syncs, 100 to
# 200 ms under sustained voting: at 64 MB it came every 10 to 20 s at 400 to 650 votes/s and
# put the votes' p99 at 120 to 220 ms (BENCHMARKS.md, "Cheaper votes, session 12"), so it is
# a guard of the disk, not the everyday way the WAL starts again. It does not wait for
# readers still in the WAL; the next checkpoint tries again.
WAL_RESTART_FRAMES = 262_144
CHECKPOINT_WAIT_MS = 0


def checkpoint(store: Store) -> None:
    """Copy SQLite's WAL into the database (what the commits of :func:`write_at_once` leave
    undone) as far as no reader needs it, without holding writers back; in a thread.

    Once the WAL is long (``WAL_RESTART_FRAMES``), the checkpoint also has the next write
    start it again from its beginning (``RESTART``): with votes coming all the time a
    passive checkpoint never found it all copied when the next write began, so it was never
    started again and grew by up to 40 kB a vote (340 MB in 40 s of votes under load), each commit
    extending the file. On a site whose votes pause now and then, a passive checkpoint
    catches up and the WAL starts again by itself; the restart holds the write lock while it
    copies what came since and syncs the disk (a vote meanwhile runs in a thread, which
    waits), so it is kept for a WAL past 1 GB. It gives up at once when readers are still
    in the WAL (``CHECKPOINT_WAIT_MS``); the next checkpoint tries again."""
    if not store.is_sqlite:
        return
    with store.write_engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        _busy, logged, _copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if logged < WAL_RESTART_FRAMES:
            return
        raw.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            raw.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def votes_since(paper_id: ColumnElement[Any]) -> ColumnElement[int]:
    """The counted upvotes of ``paper_id`` cast at or after ``:since`` (a bound parameter),
    as a correlated subquery: one probe of the (paper, time) index per paper ranked."""
    return (
        select(func.count())
        .where(
            paper_votes.c.paper_id == paper_id,
            paper_votes.c.counted == true(),
            paper_votes.c.created_at >= bindparam("since", type_=DateTime),
        )
        .scalar_subquery()
    )


def _insert_vote(connection: Connection) -> Insert:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(paper_votes).on_conflict_do_nothing()
    return statement


def _move_count(connection: Connection, paper_id: str, by: int) -> None:
    connection.execute(
        update(papers)
        .where(papers.c.arxiv_id == paper_id)
        .values(local_upvotes=papers.c.local_upvotes + by)
    )


# The clock's tick; a vote's own (set_vote_stamped) reads the clock with the counts after it.
_MOVE_CLOCK = (
    update(vote_clock).where(vote_clock.c.id == 1).values(changes=vote_clock.c.changes + 1)
)
_TICK = _MOVE_CLOCK.returning(vote_clock.c.changes)


def _tick(connection: Connection) -> int:
    """The votes changed: move the clock :func:`vote_stamp` reads; its new value. Last in a
    vote's transaction (on PostgreSQL its row lock is held until the commit, briefly)."""
    rows = fetch(connection, _TICK, {})
    return int(rows[0][0]) if rows else 0


def add_vote(connection: Connection, user_id: int, paper_id: str, now: datetime) -> bool:
    """Record ``user_id``'s upvote of ``paper_id`` (a stored, canonical id) at ``now``.

    True if the vote is new; False if it was there already (nothing changes).
    """
    row = {"user_id": user_id, "paper_id": paper_id, "created_at": now, "counted": True}
    inserted = _insert_vote(connection).values(row)
    added = connection.execute(inserted.returning(paper_votes.c.paper_id)).first() is not None
    if added:
        _move_count(connection, paper_id, +1)
        _tick(connection)
    return added


def remove_vote(connection: Connection, user_id: int, paper_id: str) -> bool:
    """Take back ``user_id``'s upvote of ``paper_id``; False if there was none."""
    removed = connection.execute(
        delete(paper_votes)
        .where(paper_votes.c.user_id == user_id, paper_votes.c.paper_id == paper_id)
        .returning(paper_votes.c.counted)
    ).all()
    if removed and removed[0][0]:
        _move_count(connection, paper_id, -1)
    if removed:
        _tick(connection)
    return bool(removed)


def _vote_statements(dialect: Any) -> dict[str, Any]:
    """The statements of :func:`set_vote`, built once per dialect (the insert's ``ON
    CONFLICT`` is the dialect's own) and run on the driver's cursor (:mod:`.driver`). The
    insert and the count's update say what they changed by the driver's row count, not
    ``RETURNING``: on SQLite an ``UPDATE ... RETURNING`` of the wide papers row cost twice
    the update alone, more than the read of the counts after it."""
    user, paper = bindparam("user_id", type_=Integer), bindparam("paper_id", type_=String)
    source = select(user, papers.c.arxiv_id, bindparam("now", type_=DateTime), true())
    columns = ["user_id", "paper_id", "created_at", "counted"]
    mine = (paper_votes.c.user_id == user, paper_votes.c.paper_id == paper)
    moved = papers.c.local_upvotes + bindparam("by", type_=Integer)
    counts = (papers.c.hf_upvotes, papers.c.local_upvotes, papers.c.feed_day)
    return {
        "add": dialect.insert(paper_votes)
        .from_select(columns, source.where(papers.c.arxiv_id == paper))
        .on_conflict_do_nothing(),
        "remove": delete(paper_votes).where(*mine).returning(paper_votes.c.counted),
        "move": update(papers).where(papers.c.arxiv_id == paper).values(local_upvotes=moved),
        # The clock moved, said by the row count (no RETURNING: see above).
        "tick": _MOVE_CLOCK,
        # The counts and the clock, in one statement: after a vote's tick, or as they are.
        "state": select(*counts, _STAMP.scalar_subquery()).where(papers.c.arxiv_id == paper),
    }


_STAMP = select(vote_clock.c.changes).where(vote_clock.c.id == 1)
_VOTE = {"sqlite": _vote_statements(sqlite), "postgresql": _vote_statements(postgresql)}


class _OnSqlite(NamedTuple):
    """:func:`set_vote_stamped`'s statements for SQLite's driver connection."""

    add: OnSqlite
    remove: OnSqlite
    move: OnSqlite
    tick: OnSqlite
    state: OnSqlite


_ON_SQLITE = _OnSqlite(
    **{name: on_sqlite(statement, sqlite.dialect()) for name, statement in _VOTE["sqlite"].items()}
)


def _sqlite_time(now: datetime) -> str:
    """``now`` as SQLAlchemy's SQLite DateTime stores it ("%Y-%m-%d %H:%M:%S.%f"; the
    ``isoformat`` that spells it cost a fifth of ``strftime``, run with every vote)."""
    return now.isoformat(" ", "microseconds")


def set_vote(
    connection: Connection, user_id: int, paper_id: str, upvoted: bool, now: datetime
) -> tuple[int, int] | None:
    """Make ``user_id``'s upvote of ``paper_id`` be ``upvoted`` (cast at ``now``, naive
    UTC); the paper's (imported, local) upvotes after it, or None if there is no such paper
    (:func:`set_vote_stamped`)."""
    return set_vote_stamped(connection, user_id, paper_id, upvoted, now)[0]


def set_vote_stamped(
    connection: Connection, user_id: int, paper_id: str, upvoted: bool, now: datetime
) -> tuple[tuple[int, int] | None, int, date | None]:
    """:func:`set_vote`, the votes' clock (:func:`vote_stamp`) as the vote left it (moved
    only by a vote that changed a count), and the paper's feed day (the lists its vote may
    reorder), read by the same statements.

    The vote row is added (taken from the paper's own row, so an unknown paper adds nothing)
    or deleted; only when that changed a counted vote do the count move and the clock tick
    (on PostgreSQL both rows are then locked by this vote to its commit, so what the read
    after them sees is this vote's). Then one statement reads the counts and the clock
    (the clock's tick without ``RETURNING``, the counts and the clock read together: one
    statement less than reading each apart). They run on the driver's cursor (the vote is
    the busiest write).
    """
    params: dict[str, Any] = {"user_id": user_id, "paper_id": paper_id}
    if connection.dialect.name == "sqlite":
        rows = _vote_on_sqlite(sqlite_driver(connection), params, upvoted, _sqlite_time(now))
    else:
        rows = _vote_on(connection, params, upvoted, now)
    stamp = int(rows[0][3]) if rows else vote_stamp(connection)
    if not rows:
        return None, stamp, None
    return (rows[0][0] or 0, rows[0][1] or 0), stamp, day(rows[0][2])


def _vote_on(
    connection: Connection, params: dict[str, Any], upvoted: bool, now: datetime
) -> list[tuple[Any, ...]]:
    """:func:`set_vote_stamped`'s statements on the connection's cursor; the state read."""
    statements = _VOTE["postgresql"]
    if upvoted:
        moved = changed(connection, statements["add"], {**params, "now": now}) > 0
    else:
        removed = fetch(connection, statements["remove"], params)
        moved = bool(removed) and bool(removed[0][0])
    if moved:
        changed(connection, statements["move"], {**params, "by": 1 if upvoted else -1})
        changed(connection, statements["tick"], {})
    return fetch(connection, statements["state"], params)


def _vote_on_sqlite(
    driver: sqlite3.Connection, params: dict[str, Any], upvoted: bool, now: str
) -> list[tuple[Any, ...]]:
    """:func:`_vote_on` on SQLite's driver connection (:class:`~.driver.OnSqlite`: through
    the pool's cursor each statement cost a vote more Python than SQLite's own work)."""
    run = _ON_SQLITE
    if upvoted:
        params["now"] = now
        moved = run.add.run(driver, params).rowcount > 0
    else:
        removed = run.remove.run(driver, params).fetchall()
        moved = bool(removed) and bool(removed[0][0])
    if moved:
        params["by"] = 1 if upvoted else -1
        run.move.run(driver, params)
        run.tick.run(driver, params)
    rows: list[tuple[Any, ...]] = run.state.run(driver, params).fetchall()
    return rows


def paper_exists(connection: Connection, paper_id: str) -> bool:
    return (
        connection.scalar(select(papers.c.arxiv_id).where(papers.c.arxiv_id == paper_id))
        is not None
    )


def upvotes_of(connection: Connection, paper_id: str) -> tuple[int, int] | None:
    """(imported, local) upvotes of ``paper_id``, or None if there is no such paper."""
    row = connection.execute(
        select(papers.c.hf_upvotes, papers.c.local_upvotes).where(papers.c.arxiv_id == paper_id)
    ).one_or_none()
    return None if row is None else (row[0] or 0, row[1] or 0)


def has_voted(connection: Connection, user_id: int, paper_id: str) -> bool:
    query = select(paper_votes.c.paper_id).where(
        paper_votes.c.user_id == user_id, paper_votes.c.paper_id == paper_id
    )
    return connection.scalar(query) is not None


_AMONG = select(paper_votes.c.paper_id).where(
    paper_votes.c.user_id == bindparam("user_id"),
    paper_votes.c.paper_id.in_(bindparam("ids", expanding=True)),
)


def voted_among(connection: Connection, user_id: int, ids: Collection[str]) -> frozenset[str]:
    """Which of ``ids`` ``user_id`` has upvoted: one query per page of cards (its primary key
    answers it), kept apart from the page itself so a rendering can be shared."""
    found: set[str] = set()
    for chunk in chunks(list(ids)):
        found.update(connection.scalars(_AMONG, {"user_id": user_id, "ids": list(chunk)}))
    return frozenset(found)


def voted_papers(connection: Connection, user_id: int, *, limit: int, offset: int = 0) -> list[str]:
    """Ids of the papers ``user_id`` upvoted, most recent vote first."""
    query = (
        select(paper_votes.c.paper_id)
        .where(paper_votes.c.user_id == user_id)
        .order_by(paper_votes.c.created_at.desc(), paper_votes.c.paper_id)
        .limit(limit)
        .offset(offset)
    )
    return list(connection.scalars(query))


def votes_of_user(connection: Connection, user_id: int) -> list[tuple[str, datetime]]:
    """Every upvote of ``user_id``: paper id and time, oldest first (their data export)."""
    query = (
        select(paper_votes.c.paper_id, paper_votes.c.created_at)
        .where(paper_votes.c.user_id == user_id)
        .order_by(paper_votes.c.created_at, paper_votes.c.paper_id)
    )
    return [(paper_id, created_at) for paper_id, created_at in connection.execute(query)]


def count_voted(connection: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(paper_votes).where(paper_votes.c.user_id == user_id)
    return connection.scalar(query) or 0


def recount(connection: Connection, ids: Sequence[str]) -> None:
    """Set the local count of each of ``ids`` from its counted vote rows."""
    counted = (
        select(func.count())
        .where(paper_votes.c.paper_id == papers.c.arxiv_id, paper_votes.c.counted == true())
        .scalar_subquery()
    )
    for chunk in chunks(list(ids)):
        connection.execute(
            update(papers).where(papers.c.arxiv_id.in_(list(chunk))).values(local_upvotes=counted)
        )
    if ids:
        _tick(connection)


def set_counted(connection: Connection, user_id: int, counted: bool) -> int:
    """Count ``user_id``'s votes (``counted``) or stop counting them (a suspension); the
    papers they voted on are counted again. Returns how many votes changed."""
    changed = connection.execute(
        update(paper_votes)
        .where(
            paper_votes.c.user_id == user_id,
            paper_votes.c.counted == (false() if counted else true()),
        )
        .values(counted=counted)
        .returning(paper_votes.c.paper_id)
    ).all()
    recount(connection, [row[0] for row in changed])
    return len(changed)


def is_suspended(connection: Connection, user_id: int) -> bool:
    suspended_at = connection.scalar(select(users.c.suspended_at).where(users.c.id == user_id))
    return suspended_at is not None


def vote_stamp(connection: Connection) -> int:
    """The votes' clock: it moves with every vote, retraction, suspension and deleted
    account's votes (read every few seconds to know when cached pages are stale, and by
    each vote of the site in its own write transaction). One row, whatever the votes."""
    rows = fetch(connection, _STAMP, {})
    return int(rows[0][0]) if rows else 0
