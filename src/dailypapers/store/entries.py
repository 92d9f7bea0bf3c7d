"""The papers as the site shows them (entries), in SQL: by ids, a range of days ranked a page
at a time, an author's papers, the days around a period; and what a paper's page shows of
its authors' claims.

A paper's feed day is its first arXiv listing, else its Hugging Face featuring, else its
submission date (:func:`dailypapers.paper.feed_day`); it is stored and indexed with the sort
keys, so a day's page is ranked from the index and reads only the shown papers' rows, on
SQLite and PostgreSQL alike.

Pages run these on every uncached request, so the statements are built once and the pages'
own run on the driver's cursor (:mod:`dailypapers.store.driver`); an entry reads only the
columns it shows, its authors, categories and code link among them (copies kept on the
paper's row, see ``schema.papers``) and a member's submission of it (note and time). A page
of a range is one query of its papers' stamps (their versions, upvotes and submissions; its
total by a scalar ``COUNT(*)``), and so is a read by ids; whole rows are read only for papers
whose kept entry is of another version (``_entry_memo``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import cache
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Label,
    Select,
    Subquery,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    true,
    union_all,
)

from dailypapers.memo import Memo
from dailypapers.paper import web_url
from dailypapers.store.batches import IN_CHUNK, chunks
from dailypapers.store.driver import day, fetch, moment
from dailypapers.store.schema import (
    RANK_RECENT,
    RANK_UPVOTES,
    author_links,
    authors,
    claims,
    paper_authors,
    paper_categories,
    paper_submissions,
    papers,
    users,
)
from dailypapers.store.votes import votes_since

Order = Literal["upvotes", "recent"]


# Not frozen: a frozen dataclass sets each of its 22 fields through object.__setattr__, six
# times the cost of a plain __init__ (4.4 against 0.7 us an entry, 0.2 ms of a daily page's
# 50). Treat it as immutable all the same (``dataclasses.replace`` makes a changed copy);
# hashable by its fields, as it was.
@dataclass(slots=True, unsafe_hash=True)
class FeedEntry:
    """One paper as the feed and the API show it."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    day: date | None
    hf_upvotes: int
    num_comments: int
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    submitted_at: datetime | None
    featured_on: date | None
    featured_by: str | None
    # The Hugging Face user who featured it: user name, avatar URL and account type.
    featured_by_user: str | None
    featured_by_avatar: str | None
    featured_by_type: str | None
    # The repository to show a "code" badge for: the given one, else one found in the text.
    code_url: str | None
    # Upvotes cast on this site (by members not suspended), beside the imported hf_upvotes.
    local_upvotes: int = 0
    # The note of the member who submitted it ("" for a submission without one, None for a
    # paper no member submitted): read with the paper, so a page needs no query for notes.
    note: str | None = None
    # When a member submitted it here (naive UTC; None if none did): the API's
    # ``submittedOnDailyAt``, read with the paper like the note.
    submitted_here_at: datetime | None = None

    @property
    def upvotes(self) -> int:
        """The count shown everywhere: imported from Hugging Face plus this site's own."""
        return self.hf_upvotes + self.local_upvotes


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[FeedEntry]
    total: int


@dataclass(frozen=True, slots=True)
class RankInput:
    """What trending needs of a paper: cheap to load for a whole month."""

    id: str
    hf_upvotes: int
    github_stars: int
    num_comments: int
    submitted_at: datetime | None
    day: date | None
    # This site's upvotes cast since the window began (``rank_inputs``'s ``since``).
    window_upvotes: int = 0


def _in_category(category: str | None) -> ColumnElement[bool]:
    """Papers listed in ``:category`` (any of their categories); every paper for None.

    A correlated EXISTS, so the planner walks the day's rows and probes each paper's few
    categories (``IN (papers of the category)`` made SQLite walk all 30,000 of cs.CL).
    """
    if category is None:
        return true()
    return exists().where(
        paper_categories.c.paper_id == papers.c.arxiv_id,
        paper_categories.c.category == bindparam("category"),
    )


def _by_submitter(submitter: str | None) -> ColumnElement[bool]:
    """Papers featured by the Hugging Face user named ``:submitter``; every paper for None."""
    return true() if submitter is None else papers.c.featured_by_user == bindparam("submitter")


def _in_range(
    category: str | None = None, submitter: str | None = None, one_day: bool = False
) -> ColumnElement[bool]:
    """Days from ``:start`` to ``:end``, both included (and listed in ``:category``, and
    featured by ``:submitter``, if given). ``one_day``: the day ``:start`` alone, as an
    equality, which lets a day's page walk the day order index in order (a range cannot)."""
    start = bindparam("start", type_=Date)
    days = (
        papers.c.feed_day == start
        if one_day
        else papers.c.feed_day.between(start, bindparam("end", type_=Date))
    )
    return and_(
        days,
        _in_category(category),
        _by_submitter(submitter),
    )


def _ordering(order: Order) -> list[ColumnElement[Any]]:
    upvotes, recent = RANK_UPVOTES, RANK_RECENT  # the day order index's expressions
    keys = (
        [upvotes.desc(), recent.desc()] if order == "upvotes" else [recent.desc(), upvotes.desc()]
    )
    return [*keys, papers.c.arxiv_id.desc()]


# A paper's comments: imported from Hugging Face plus this site's visible ones (kept with
# each comment's write, store.comments), as upvotes are.
_COMMENTS = func.coalesce(papers.c.hf_comments, literal_column("0")) + papers.c.local_comments


def _submission(paper_id: ColumnElement[str]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The note ('' for none) and the time of a member's submission of ``paper_id``."""
    submitted = paper_submissions.c.paper_id == paper_id
    note = func.coalesce(paper_submissions.c.note, literal_column("''"))
    return (
        select(note).where(submitted).scalar_subquery(),
        select(paper_submissions.c.created_at).where(submitted).scalar_subquery(),
    )


# A paper's stamp, what a kept entry is checked against (see _entry_memo): its id, its
# upvotes cast here, a member's submission of it (note and time) and its entry version.
# Every row read of a paper starts with it.
_STAMP_COLUMNS = (
    papers.c.arxiv_id, papers.c.local_upvotes, *_submission(papers.c.arxiv_id),
    papers.c.entry_version,
)  # fmt: skip
_STAMP_LENGTH = len(_STAMP_COLUMNS)
_VERSION = _STAMP_LENGTH - 1  # where the entry version is in a stamp

# A whole row: the stamp, then the rest of what an entry shows, in the order
# _build_entries reads them.
_COLUMNS = (
    *_STAMP_COLUMNS, papers.c.title, papers.c.abstract, papers.c.feed_day,
    papers.c.hf_upvotes, _COMMENTS, papers.c.github_repo, papers.c.github_stars,
    papers.c.project_page, papers.c.submitted_at, papers.c.featured_on, papers.c.featured_by,
    papers.c.featured_by_user, papers.c.featured_by_avatar, papers.c.featured_by_type,
    papers.c.authors_json, papers.c.categories_json, papers.c.code_link,
)  # fmt: skip
_ID_NAMES = tuple(f"id{index}" for index in range(IN_CHUNK))


@cache
def _by_ids(count: int, whole: bool) -> Select[Any]:
    """The whole rows (``whole``) or the stamps of ``count`` ids (bound as ``:id0`` ...): one
    statement per count, since the driver takes no list parameters."""
    columns = _COLUMNS if whole else _STAMP_COLUMNS
    return select(*columns).where(papers.c.arxiv_id.in_([bindparam(n) for n in _ID_NAMES[:count]]))


_LATEST = select(func.max(papers.c.feed_day))


def _paged(where: ColumnElement[bool], order: Order, sqlite: bool) -> Select[Any]:
    """The narrow rows of one page of ``where`` in ``order``: each paper's stamp
    (``_STAMP_COLUMNS``), then the total of ``where``, then the sort keys (``_PAGE_KEYS``).

    The inner query sorts narrow rows (id and sort keys) and keeps the page's (a top-N sort,
    no window over all of them); only those papers' stamps are then read, and whole rows
    (abstracts and all) only for papers whose kept entry is of another version
    (:func:`_entries_of`). The total is counted apart, once.

    On SQLite (``sqlite``) the page's rows are found by their rowid, which the index gives
    the inner query for free (one B-tree search a row instead of two: the id's index, then
    the table), and put in order by :func:`_in_order` rather than by SQLite. PostgreSQL
    sorts them (its text order follows the database's collation, Python's would not).
    """
    rowid: ColumnElement[int] = literal_column("papers.rowid")
    inner = _top(where, order, [rowid.label("rid")] if sqlite else [])
    key_columns = [inner.c[f"k{index}"] for index in range(len(_PAGE_KEY_NAMES))]  # descending
    joined = rowid == inner.c.rid if sqlite else papers.c.arxiv_id == key_columns[-1]
    statement = select(*_STAMP_COLUMNS, _total(where), *key_columns)
    statement = statement.join_from(inner, papers, joined)
    return statement if sqlite else statement.order_by(*(c.desc() for c in key_columns))


_PAGE_KEY_NAMES = ("k0", "k1", "k2")  # a page's sort keys (_ordering), the id last


def _top(where: ColumnElement[bool], order: Order, more: list[Any]) -> Subquery:
    """The narrow rows of one page of ``where`` in ``order``: its sort keys (``k0`` ...,
    the id last) and ``more`` columns, sorted and cut to ``:limit`` from ``:offset``."""
    keys = _ordering(order)
    labelled = [key.element.label(name) for key, name in zip(keys, _PAGE_KEY_NAMES, strict=True)]
    return (
        select(*labelled, *more)
        .where(where)
        .order_by(*keys)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery()
    )


def _total(where: ColumnElement[bool]) -> Label[Any]:
    """How many papers ``where`` keeps, as a column of a page's rows (not correlated: the
    page's papers are a few, the count's all of them)."""
    count = select(func.count()).select_from(papers).where(where).correlate(None)
    return count.scalar_subquery().label("total")


@cache
def _order_statement(order: Order, by_category: bool, one_day: bool) -> Select[Any]:
    """The ids of one page of a range in ``order``, with the range's total (``_paged``'s
    inner query alone: no paper's row read)."""
    where = _range_where(by_category, False, one_day)
    inner = _top(where, order, [])
    key_columns = [inner.c[name] for name in _PAGE_KEY_NAMES]
    statement = select(key_columns[-1], _total(where)).select_from(inner)
    return statement.order_by(*(c.desc() for c in key_columns))


# Where a page row's total and sort keys are (after the stamp; see _paged).
_TOTAL = _STAMP_LENGTH
_PAGE_KEYS = itemgetter(_TOTAL + 1, _TOTAL + 2, _TOTAL + 3)


def _in_order(rows: list[tuple[Any, ...]], sqlite: bool) -> list[tuple[Any, ...]]:
    """A page's rows in their order: every sort key descending (see ``_ordering``). SQLite's
    keys are an integer and texts, which Python orders as SQLite does (its BINARY collation
    compares UTF-8 bytes, the order of code points); PostgreSQL's come sorted."""
    if sqlite:
        rows.sort(key=_PAGE_KEYS, reverse=True)  # already in order: one pass
    return rows


def _range_where(
    by_category: bool, by_submitter: bool, one_day: bool = False
) -> ColumnElement[bool]:
    return _in_range("" if by_category else None, "" if by_submitter else None, one_day)


@cache
def _page_statement(
    order: Order, by_category: bool, by_submitter: bool, sqlite: bool, one_day: bool
) -> Select[Any]:
    """One page of a range (of one day: see ``_in_range``); built once per shape."""
    return _paged(_range_where(by_category, by_submitter, one_day), order, sqlite)


@cache
def _count_statement(by_category: bool, by_submitter: bool) -> Select[Any]:
    return select(func.count()).select_from(papers).where(_range_where(by_category, by_submitter))


@cache
def _neighbours_statement(by_category: bool) -> Select[Any]:
    column, listed = papers.c.feed_day, _in_category("" if by_category else None)
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    before = select(func.max(column)).where(column < start, listed).scalar_subquery()
    after = select(func.min(column)).where(column > end, listed).scalar_subquery()
    return select(before, after)


# What an entry shows of a paper is one of its versions (``papers.entry_version``, which
# the database moves with every change of it) plus its upvotes cast here and a member's
# submission: the paper's stamp. Entries are kept with their stamps, by paper id: one whose
# stamp is the paper's is used as it is, one of the same version with other upvotes or
# submission is copied with them, any other is built anew from the paper's whole row. So a
# page reads its papers' stamps, and whole rows only for papers it has no current entry of
# (a day's page read 50 rows of 22 columns, abstracts and all: its statement was a third of
# the page's CPU, most of it building those rows' values in Python). Entries are
# treated as immutable (see FeedEntry); how many are kept: DAILYPAPERS_PAGE_MEMO_PAPERS.
_entry_memo: Memo[str, tuple[tuple[Any, ...], FeedEntry]] = Memo()


def _kept(stamps: Sequence[tuple[Any, ...]]) -> list[FeedEntry | None]:
    """The kept entries of the papers of ``stamps``, in order: None where none is current."""
    kept = _entry_memo.get
    found: list[FeedEntry | None] = []
    updated = []
    for stamp in stamps:
        pair = kept(stamp[0])
        if pair is None or pair[0][_VERSION] != stamp[_VERSION]:
            found.append(None)
        elif pair[0] == stamp:
            found.append(pair[1])
        else:  # the same version: only upvotes cast here or the submission moved
            entry = _with_stamp(pair[1], stamp)
            updated.append((stamp[0], (stamp, entry)))
            found.append(entry)
    if updated:
        _entry_memo.keep_all(updated)
    return found


def _with_stamp(entry: FeedEntry, stamp: tuple[Any, ...]) -> FeedEntry:
    _pid, local_upvotes, note, submitted_here, _version = stamp
    return replace(
        entry,
        local_upvotes=local_upvotes or 0,
        note=note,
        submitted_here_at=moment(submitted_here),
    )


def _built(rows: Sequence[Sequence[Any]]) -> list[FeedEntry]:
    """Entries built from whole rows (``_COLUMNS``, as the driver gives them), in their
    order, and kept with their stamps."""
    built = _build_entries(rows)
    _entry_memo.keep_all(
        (entry.id, (tuple(row[:_STAMP_LENGTH]), entry))
        for row, entry in zip(rows, built, strict=True)
    )
    return built


def _entries_of(connection: Connection, stamps: Sequence[tuple[Any, ...]]) -> list[FeedEntry]:
    """Entries of the papers of ``stamps``, in order: whole rows are read only for papers
    without a current kept entry (in the caller's transaction: one snapshot)."""
    found = _kept(stamps)
    missing = [stamps[index][0] for index, entry in enumerate(found) if entry is None]
    if not missing:
        return [entry for entry in found if entry is not None]
    read = {entry.id: entry for entry in _built(_rows_by_id(connection, missing, whole=True))}
    entries = [entry or read.get(stamp[0]) for entry, stamp in zip(found, stamps, strict=True)]
    return [entry for entry in entries if entry is not None]


def _page_of(connection: Connection, rows: list[tuple[Any, ...]]) -> FeedPage:
    """The page of ``rows`` (page rows, see ``_paged``; at least one): its entries, its total."""
    return FeedPage(_entries_of(connection, [row[:_STAMP_LENGTH] for row in rows]), rows[0][_TOTAL])


def _build_entries(rows: Sequence[Sequence[Any]]) -> list[FeedEntry]:
    """Entries of ``rows`` built anew."""
    # Every row's authors and categories (JSON arrays) decoded in one call, not two a row.
    lists = json.loads("[" + ",".join(f"{row[19] or '[]'},{row[20] or '[]'}" for row in rows) + "]")
    entries = []
    for index, row in enumerate(rows):
        (pid, local_upvotes, note, submitted_here, _version, title, abstract, feed_day,
         upvotes, comments, repo, stars, project, submitted, featured_on, featured_by,
         featured_by_user, featured_by_avatar, featured_by_type, _names, _categories,
         code) = row  # fmt: skip
        # Links are checked again on the way out: only http(s) links are ever rendered.
        repo, project = web_url(repo), web_url(project)
        entries.append(
            FeedEntry(
                pid,
                title,
                abstract or "",
                tuple(lists[2 * index]),
                tuple(lists[2 * index + 1]),
                day(feed_day),
                upvotes or 0,
                comments or 0,
                repo,
                stars,
                project,
                moment(submitted),
                day(featured_on),
                featured_by,
                featured_by_user,
                featured_by_avatar,
                featured_by_type,
                repo or web_url(code),
                local_upvotes or 0,
                note,
                moment(submitted_here),
            )  # fmt: skip
        )
    return entries


def feed_entries(connection: Connection, ids: Sequence[str]) -> list[FeedEntry]:
    """The papers of ``ids`` that exist, in the order of ``ids``: their stamps read first,
    their whole rows only for papers without a current kept entry."""
    return _entries_of(connection, _rows_by_id(connection, ids, whole=False))


def _rows_by_id(
    connection: Connection, ids: Sequence[str], *, whole: bool
) -> list[tuple[Any, ...]]:
    """The whole rows or the stamps of the papers of ``ids`` that exist, in that order."""
    rows: dict[str, tuple[Any, ...]] = {}
    for chunk in chunks(list(dict.fromkeys(ids))):
        params = dict(zip(_ID_NAMES, chunk, strict=False))
        rows.update((row[0], row) for row in fetch(connection, _by_ids(len(chunk), whole), params))
    return [row for pid in ids if (row := rows.get(pid)) is not None]


def feed_page(
    connection: Connection,
    start: date,
    end: date,
    *,
    limit: int,
    offset: int = 0,
    order: Order = "upvotes",
    category: str | None = None,
    submitter: str | None = None,
) -> FeedPage:
    """Papers whose feed day is in [start, end] (in ``category``, featured by the Hugging Face
    user ``submitter``), by upvotes then recency (or the reverse)."""
    shape = (category is not None, submitter is not None)
    params = {
        "start": start, "end": end, "category": category, "submitter": submitter,
        "limit": limit, "offset": offset,
    }  # fmt: skip
    sqlite = connection.dialect.name == "sqlite"
    statement = _page_statement(order, *shape, sqlite, start == end)
    rows = _in_order(fetch(connection, statement, params), sqlite)
    if rows:
        return _page_of(connection, rows)
    # A page past the end.
    return FeedPage([], fetch(connection, _count_statement(*shape), params)[0][0] or 0)


def feed_order(
    connection: Connection,
    start: date,
    end: date,
    *,
    limit: int,
    offset: int = 0,
    order: Order = "upvotes",
    category: str | None = None,
) -> tuple[tuple[str, ...], int]:
    """The ids of the page :func:`feed_page` reads (without a submitter), in its order, and
    the range's total: what a cached list is checked against (``web/list_order.py``)."""
    params = {"start": start, "end": end, "category": category, "limit": limit, "offset": offset}
    statement = _order_statement(order, category is not None, start == end)
    rows = fetch(connection, statement, params)
    if rows:
        return tuple(row[0] for row in rows), rows[0][1]
    return (), fetch(connection, _count_statement(category is not None, False), params)[0][0] or 0


@cache
def _rank_statement(by_category: bool, by_submitter: bool) -> Select[Any]:
    return select(
        papers.c.arxiv_id, papers.c.hf_upvotes, papers.c.github_stars, _COMMENTS,
        papers.c.submitted_at, papers.c.feed_day, votes_since(papers.c.arxiv_id),
    ).where(_range_where(by_category, by_submitter)).order_by(papers.c.arxiv_id)  # fmt: skip


def rank_inputs(
    connection: Connection,
    start: date,
    end: date,
    *,
    category: str | None = None,
    submitter: str | None = None,
    since: datetime | None = None,
) -> list[RankInput]:
    """Every paper of [start, end] (in ``category``, featured by ``submitter``) with just what
    a ranking function needs; its local upvotes counted from ``since`` (default: ``start``)."""
    params = {
        "start": start, "end": end, "category": category, "submitter": submitter,
        "since": since or datetime.combine(start, time()),
    }  # fmt: skip
    return [
        RankInput(pid, upvotes or 0, stars or 0, comments or 0, submitted, feed_day, window)
        for pid, upvotes, stars, comments, submitted, feed_day, window in connection.execute(
            _rank_statement(category is not None, submitter is not None), params
        )
    ]


def latest_day(connection: Connection) -> date | None:
    """The most recent feed day that has papers: what the feed shows when no day is asked."""
    return day(fetch(connection, _LATEST, {})[0][0])


def neighbour_days(
    connection: Connection, start: date, end: date, *, category: str | None = None
) -> tuple[date | None, date | None]:
    """The nearest days with papers (in ``category``) before ``start`` and after ``end``.

    None where there is none. Each is one indexed MAX/MIN (both in one statement), so
    "previous day" skips weekends and empty days for free.
    """
    params = {"start": start, "end": end, "category": category}
    [(before, after)] = fetch(connection, _neighbours_statement(category is not None), params)
    return day(before), day(after)


_MINE = papers.c.arxiv_id.in_(
    select(paper_authors.c.paper_id)
    .join(authors, authors.c.id == paper_authors.c.author_id)
    .where(authors.c.name == bindparam("name"))
)
_AUTHOR_PAGES = {sqlite: _paged(_MINE, "recent", sqlite) for sqlite in (False, True)}
_AUTHOR_COUNT = select(func.count()).select_from(papers).where(_MINE)


def author_page(connection: Connection, name: str, *, limit: int, offset: int = 0) -> FeedPage:
    """The papers of the author named exactly ``name``, newest first."""
    params = {"name": name, "limit": limit, "offset": offset}
    sqlite = connection.dialect.name == "sqlite"
    rows = _in_order(fetch(connection, _AUTHOR_PAGES[sqlite], params), sqlite)
    if rows:
        return _page_of(connection, rows)
    return FeedPage([], fetch(connection, _AUTHOR_COUNT, params)[0][0] or 0)


@dataclass(frozen=True, slots=True)
class PaperClaims:
    """What a paper's page shows of its authors' claims: the author names with an approved
    claim, each with the claiming member's user name, and the code and project links its
    confirmed authors set (http(s) only, checked again on the way out)."""

    approved: dict[str, str]
    has_links: bool
    code_url: str | None
    project_url: str | None


# Both in one statement on the driver (the page read them in three transactions of their
# own): the approved claims in the order they were made, then the links' row (key -1).
_PAPER_CLAIMS = union_all(
    select(claims.c.id, claims.c.author_name, users.c.username)
    .join_from(claims, users, users.c.id == claims.c.user_id)
    .where(claims.c.paper_id == bindparam("paper_id"), claims.c.status == "approved"),
    select(literal_column("-1"), author_links.c.code_url, author_links.c.project_url).where(
        author_links.c.paper_id == bindparam("paper_id")
    ),
)


def paper_claims(connection: Connection, paper_id: str) -> PaperClaims:
    """The approved authorship claims and the author-set links of ``paper_id``."""
    rows = sorted(fetch(connection, _PAPER_CLAIMS, {"paper_id": paper_id}))
    links = rows[0] if rows and rows[0][0] == -1 else None
    approved = {name: user for key, name, user in rows if key != -1}
    if links is None:
        return PaperClaims(approved, False, None, None)
    return PaperClaims(approved, True, web_url(links[1]), web_url(links[2]))
