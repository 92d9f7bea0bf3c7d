"""The feed queries, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Connection, Date, DateTime, Integer, select, text, update
from sqlalchemy.sql import visitors

from dailypapers import memo
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store import entries as entries_module
from dailypapers.store.driver import prepare
from dailypapers.store.entries import (
    FeedEntry,
    _page_statement,
    author_page,
    feed_entries,
    feed_order,
    feed_page,
    latest_day,
    neighbour_days,
    paper_claims,
    rank_inputs,
)
from dailypapers.store.papers import upsert_papers
from dailypapers.store.schema import author_links, claims, paper_submissions, papers, users
from dailypapers.store.submissions import add_submission, remove_submission
from dailypapers.store.votes import add_vote
from tests.support.members import add_members


def _fill(store: Store) -> None:
    records = [
        # The day is first_listed_on, else featured_on, else the submission date.
        make_record("2501.00001", "Listed", first_listed_on=date(2025, 1, 6),
                    featured_on=date(2025, 1, 9), hf_upvotes=3,
                    submitted_at=datetime(2025, 1, 3, 10), authors=["B b", "A a"],
                    categories=["cs.CL", "cs.AI"]),
        make_record("2501.00002", "Featured", featured_on=date(2025, 1, 6), hf_upvotes=10,
                    submitted_at=datetime(2025, 1, 2, 10), featured_by="Someone", hf_comments=4,
                    authors=["A a"],
                    github_repo="https://github.com/o/r", github_stars=40),
        make_record("2501.00003", "Submitted", submitted_at=datetime(2025, 1, 6, 23, 30)),
        make_record("2501.00004", "Other day", submitted_at=datetime(2025, 1, 8, 1)),
        make_record("2501.00005", "No day at all"),
    ]  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, records)


def test_a_day_by_upvotes_then_recency(store: Store) -> None:
    _fill(store)
    with store.read() as connection:
        page = feed_page(connection, date(2025, 1, 6), date(2025, 1, 6), limit=10)
    assert page.total == 3
    assert [e.id for e in page.entries] == ["2501.00002", "2501.00001", "2501.00003"]
    assert all(e.day == date(2025, 1, 6) for e in page.entries)
    listed = page.entries[1]
    assert listed.authors == ("B b", "A a")
    assert listed.categories == ("cs.CL", "cs.AI")
    featured = page.entries[0]
    assert (featured.featured_by, featured.github_stars) == ("Someone", 40)
    assert page.entries[2].hf_upvotes == 0  # no upvotes known


def _plan(connection: Connection, one_day: bool) -> str:
    """How the database runs a day's (or a range's) first page, as one text."""
    sqlite = connection.dialect.name == "sqlite"
    prepared = prepare(
        _page_statement("upvotes", False, False, sqlite, one_day), connection.dialect
    )
    day = date(2025, 1, 6)
    values: dict[str, object] = {"start": day, "end": day, "limit": 50, "offset": 0}
    cursor = connection.connection.cursor()
    if sqlite:  # SQLite's dates are ISO text (see store.driver)
        values.update(start=day.isoformat(), end=day.isoformat())
        cursor.execute(
            f"EXPLAIN QUERY PLAN {prepared.sql}", [values[n] for n in prepared.order or ()]
        )
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
    # A few rows make a sequential scan cheapest: forbid it and sorts, to ask whether the
    # index can give the order at all (it can only if its expressions are the query's).
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("SET LOCAL enable_sort = off")
    cursor.execute(f"EXPLAIN {prepared.sql}", values)
    return "\n".join(str(row[0]) for row in cursor.fetchall())


def test_a_days_page_is_read_from_the_day_order_index_without_a_sort(store: Store) -> None:
    _fill(store)
    with store.read() as connection:
        one_day, a_range = _plan(connection, True), _plan(connection, False)
    assert "ix_papers_feed_day_order" in one_day
    if store.is_sqlite:
        assert "TEMP B-TREE FOR ORDER BY" not in one_day
        assert "TEMP B-TREE FOR ORDER BY" in a_range  # a range of days sorts the rank index
    else:
        # The inner page's rows come from the index in order; only the outer join's
        # Sort (50 rows, by the keys the inner query returns) is left.
        assert "Index Scan using ix_papers_feed_day_order" in one_day


def test_recent_order_limit_offset_and_range(store: Store) -> None:
    _fill(store)
    with store.read() as connection:
        recent = feed_page(connection, date(2025, 1, 1), date(2025, 1, 31), limit=2, order="recent")
        rest = feed_page(
            connection, date(2025, 1, 1), date(2025, 1, 31), limit=2, offset=2, order="recent"
        )
        empty = feed_page(connection, date(2024, 1, 1), date(2024, 1, 31), limit=2)
    assert recent.total == rest.total == 4
    assert [e.id for e in recent.entries] == ["2501.00004", "2501.00003"]
    assert [e.id for e in rest.entries] == ["2501.00001", "2501.00002"]
    assert (empty.total, empty.entries) == (0, [])


def test_latest_day_rank_inputs_and_entries(store: Store) -> None:
    with store.read() as connection:
        assert latest_day(connection) is None
    _fill(store)
    with store.read() as connection:
        assert latest_day(connection) == date(2025, 1, 8)
        inputs = rank_inputs(connection, date(2025, 1, 6), date(2025, 1, 6))
        entries = feed_entries(connection, ["2501.00005", "nope", "2501.00001"])
    assert [(i.id, i.hf_upvotes, i.github_stars) for i in inputs] == [
        ("2501.00001", 3, 0), ("2501.00002", 10, 40), ("2501.00003", 0, 0),
    ]  # fmt: skip
    assert [e.id for e in entries] == ["2501.00005", "2501.00001"]
    assert entries[0].day is None


def test_category_neighbours_and_authors(store: Store) -> None:
    _fill(store)
    day = date(2025, 1, 6)
    with store.read() as connection:
        ai = feed_page(connection, day, day, limit=10, category="cs.AI")
        none = feed_page(connection, day, day, limit=10, category="math.AG")
        ranked = rank_inputs(connection, day, day, category="cs.CL")
        around_6 = neighbour_days(connection, day, day)
        around_7 = neighbour_days(connection, date(2025, 1, 7), date(2025, 1, 7))
        after_all = neighbour_days(connection, date(2025, 1, 8), date(2025, 1, 8))
        by_a = author_page(connection, "A a", limit=1)
        by_a_rest = author_page(connection, "A a", limit=5, offset=1)
        nobody = author_page(connection, "a A", limit=5)
    assert ([e.id for e in ai.entries], ai.total) == (["2501.00001"], 1)
    assert (none.entries, none.total) == ([], 0)
    assert [r.id for r in ranked] == ["2501.00001"]
    assert around_6 == (None, date(2025, 1, 8))
    assert around_7 == (date(2025, 1, 6), date(2025, 1, 8))
    assert after_all == (date(2025, 1, 6), None)
    # Newest first: 00001 was submitted on Jan 3, 00002 on Jan 2.
    assert ([e.id for e in by_a.entries], by_a.total) == (["2501.00001"], 2)
    assert [e.id for e in by_a_rest.entries] == ["2501.00002"]
    assert (nobody.entries, nobody.total) == ([], 0)


def test_comments_are_read_and_ranked(store: Store) -> None:
    _fill(store)
    with store.read() as connection:
        (entry,) = feed_entries(connection, ["2501.00002"])
        inputs = rank_inputs(connection, date(2025, 1, 6), date(2025, 1, 6))
    assert entry.num_comments == 4
    assert [i.num_comments for i in inputs] == [0, 4, 0]


def test_papers_of_one_submitter_over_any_range(store: Store) -> None:
    _fill(store)
    extra = make_record(
        "2501.00006", "Featured by a user", featured_on=date(2025, 1, 7),
        featured_by="Some One", featured_by_user="someone", featured_by_type="user",
    )  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, [extra])
    every_day = (date(1, 1, 1), date(9999, 12, 31))  # what the API asks when no period is given
    with store.read() as connection:
        mine = feed_page(connection, *every_day, limit=10, submitter="someone")
        by_full_name = feed_page(connection, *every_day, limit=10, submitter="Some One")
        other_day = feed_page(connection, date(2025, 1, 6), date(2025, 1, 6), limit=10,
                              submitter="someone")  # fmt: skip
        ranked = rank_inputs(connection, *every_day, submitter="someone")
    assert [e.id for e in mine.entries] == ["2501.00006"] and mine.total == 1
    entry = mine.entries[0]
    assert (entry.featured_by, entry.featured_by_user, entry.featured_by_type) == (
        "Some One", "someone", "user",
    )  # fmt: skip
    assert by_full_name.total == other_day.total == 0
    assert [candidate.id for candidate in ranked] == ["2501.00006"]


def test_claims_links_and_submission_read_with_the_paper(store: Store) -> None:
    _fill(store)
    moment = datetime(2025, 1, 6, 14, 3, 7, 123456)
    with store.read() as connection:
        assert paper_claims(connection, "2501.00001") == paper_claims(connection, "nope")
        assert paper_claims(connection, "2501.00001").approved == {}
        assert not paper_claims(connection, "2501.00001").has_links
    with store.write() as connection:
        connection.execute(
            users.insert(),
            [
                {"id": id_, "username": name, "username_key": name.lower(), "role": "user",
                 "upvotes_public": False, "created_at": moment}
                for id_, name in ((1, "Bee"), (2, "Ay"), (3, "Other"))
            ],
        )  # fmt: skip
        connection.execute(
            claims.insert(),
            [
                {"paper_id": "2501.00001", "author_name": name, "user_id": user,
                 "status": status, "created_at": moment}
                for name, user, status in (("B b", 1, "approved"), ("A a", 2, "approved"),
                                           ("A a", 3, "pending"))
            ],
        )  # fmt: skip
        connection.execute(
            author_links.insert().values(
                paper_id="2501.00001", code_url="javascript:alert(1)",
                project_url="https://example.org/p", set_by=1, set_at=moment,
            )
        )  # fmt: skip
        connection.execute(
            paper_submissions.insert().values(
                paper_id="2501.00002", user_id=2, note=None, created_at=moment
            )
        )
    with store.read() as connection:
        found = paper_claims(connection, "2501.00001")
        entries = {e.id: e for e in feed_entries(connection, ["2501.00001", "2501.00002"])}
    assert found.approved == {"B b": "Bee", "A a": "Ay"}  # the pending claim is not shown
    assert found.has_links
    assert (found.code_url, found.project_url) == (None, "https://example.org/p")
    assert entries["2501.00002"].submitted_here_at == moment
    assert entries["2501.00002"].note == ""
    assert (entries["2501.00001"].submitted_here_at, entries["2501.00001"].note) == (None, None)


def test_kept_entries_are_the_rows_built_afresh(store: Store) -> None:
    """Entries are kept with their papers' stamps: the same without the memo, and a changed
    paper (an upvote, a new title) is read as it is now."""
    _fill(store)
    ids = ["2501.00001", "2501.00002", "2501.00003"]
    memo.clear_all()
    with store.read() as connection:
        cold = feed_entries(connection, ids)
        warm = feed_entries(connection, ids)
        with memo.set_aside():
            again = feed_entries(connection, ids)
    assert cold == warm == again and warm[0] is cold[0] and again[0] is not cold[0]
    with store.write() as connection:
        upsert_papers(connection, [make_record("2501.00002", "Retitled", hf_upvotes=11)])
    with store.read() as connection:
        changed = feed_entries(connection, ids)
    assert (changed[1].title, changed[1].hf_upvotes) == ("Retitled", 11)
    assert changed[0] is cold[0]  # unchanged, still kept
    # The changed paper's entry took its place: one kept entry a paper.
    assert len(entries_module._entry_memo) == len(ids)
    with store.read() as connection:
        assert feed_entries(connection, ids)[1] is changed[1]


def test_a_page_is_in_the_databases_order_through_every_tie(store: Store) -> None:
    """A day's page in the order ORDER BY gives: upvotes, then submission time (none counts
    as the oldest), then id, all descending; on SQLite the rows are put in that order in
    Python (``_in_order``), so ties and ids of both arXiv styles are checked."""
    day = date(2025, 2, 3)
    shapes = [
        ("2502.00010", 5, datetime(2025, 2, 1, 9)), ("2502.00009", 5, datetime(2025, 2, 1, 9)),
        ("hep-th/9901001", 5, datetime(2025, 2, 1, 9)), ("2502.00011", 5, None),
        ("2502.00001", 7, datetime(2025, 1, 1)), ("2502.00002", 0, None),
        ("2502.00003", 5, datetime(2025, 2, 1, 9, 0, 1)),
    ]  # fmt: skip
    with store.write() as connection:
        upsert_papers(
            connection,
            [
                make_record(pid, pid, first_listed_on=day, hf_upvotes=votes, submitted_at=at)
                for pid, votes, at in shapes
            ],
        )
    with store.read() as connection:
        by_votes = feed_page(connection, day, day, limit=10)
        recent = feed_page(connection, day, day, limit=10, order="recent")
        middle = feed_page(connection, day, day, limit=3, offset=2)
        by_sql = connection.exec_driver_sql(
            "SELECT arxiv_id FROM papers ORDER BY hf_upvotes + local_upvotes DESC, "
            "COALESCE(submitted_at, '1970-01-01 00:00:00') DESC, arxiv_id DESC"
        ).scalars()
        expected = list(by_sql)
    assert [e.id for e in by_votes.entries] == [
        "2502.00001", "2502.00003", "hep-th/9901001", "2502.00010", "2502.00009",
        "2502.00011", "2502.00002",
    ] == expected  # fmt: skip
    assert [e.id for e in recent.entries] == [
        "2502.00003", "hep-th/9901001", "2502.00010", "2502.00009", "2502.00001",
        "2502.00011", "2502.00002",
    ]  # fmt: skip
    assert [e.id for e in middle.entries] == expected[2:5] and middle.total == 7


def test_a_pages_order_is_the_ids_of_its_page_and_its_total(store: Store) -> None:
    """``feed_order`` (what a cached list is checked against) gives the ids ``feed_page``
    shows, in its order, and its total: both sorts, a day and a range, a category, an
    offset, ties, and a page past the end."""
    _fill(store)
    day, ties = date(2025, 2, 3), [("2502.00010", 5), ("2502.00009", 5), ("hep-th/9901001", 5)]
    with store.write() as connection:
        upsert_papers(connection, [
            make_record(pid, pid, first_listed_on=day, hf_upvotes=votes, categories=["cs.CL"],
                        submitted_at=datetime(2025, 2, 1, 9))
            for pid, votes in ties
        ])  # fmt: skip
    asked = [
        (date(2025, 1, 6), date(2025, 1, 6), {}),
        (day, day, {}),
        (date(2025, 1, 1), date(2025, 2, 28), {"order": "recent"}),
        (date(2025, 1, 1), date(2025, 2, 28), {"offset": 2}),
        (date(2025, 1, 1), date(2025, 2, 28), {"category": "cs.CL"}),
        (date(2025, 1, 1), date(2025, 2, 28), {"offset": 20}),
    ]
    with store.read() as connection:
        for start, end, options in asked:
            page = feed_page(connection, start, end, limit=3, **options)  # type: ignore[arg-type]
            found = feed_order(connection, start, end, limit=3, **options)  # type: ignore[arg-type]
            assert found == (tuple(e.id for e in page.entries), page.total), (start, options)


def _entry_columns() -> set[str]:
    """The names of the papers' columns an entry is read from (``_COLUMNS``)."""
    return {
        element.name
        for column in entries_module._COLUMNS
        for element in visitors.iterate(column)
        if isinstance(element, Column) and element.table is papers
    }


def _version(store: Store, paper_id: str) -> int:
    with store.read() as connection:
        query = select(papers.c.entry_version).where(papers.c.arxiv_id == paper_id)
        return int(connection.execute(query).scalar_one())


_NEW_VALUES = {Date: date(2030, 1, 1), DateTime: datetime(2030, 1, 1, 12), Integer: 12_345}


def test_every_column_an_entry_shows_draws_a_new_version_and_a_vote_does_not(
    store: Store,
) -> None:
    """Kept entries are checked by version alone: the database must move it with every
    column they show, whoever writes it (here plain UPDATEs), and only then."""
    _fill(store)
    shown = _entry_columns() - {"arxiv_id", "local_upvotes", "entry_version"}
    assert {"title", "abstract", "authors_json", "code_link", "local_comments"} <= shown
    paper = "2501.00002"
    for name in sorted(shown):
        column = papers.c[name]
        value = next((v for kind, v in _NEW_VALUES.items() if isinstance(column.type, kind)), "x")
        before = _version(store, paper)
        with store.write() as connection:
            connection.execute(
                update(papers).where(papers.c.arxiv_id == paper).values({name: value})
            )
        assert _version(store, paper) != before, name
    before, member = _version(store, paper), add_members(store, 1)[0]
    with store.write() as connection:  # the same words again, a vote, a column not shown
        connection.execute(update(papers).where(papers.c.arxiv_id == paper).values(title="x"))
        add_vote(connection, member, paper, datetime(2026, 1, 2))
        connection.execute(update(papers).where(papers.c.arxiv_id == paper).values(doi="10.1/x"))
    assert _version(store, paper) == before


def test_a_pages_kept_entries_follow_every_writer(store: Store) -> None:
    """A day's page reads its papers' versions and whole rows only for papers it has no
    current entry of; whatever changed a paper, the page shows it as it is now."""
    _fill(store)
    day = date(2025, 1, 6)

    def page() -> list[FeedEntry]:
        with store.read() as connection:
            return feed_page(connection, day, day, limit=10).entries

    first = page()
    assert page()[0] is first[0]  # kept
    with store.write() as connection:  # SQL of its own, not the store's functions
        connection.execute(
            text("UPDATE papers SET title = 'By hand' WHERE arxiv_id = '2501.00001'")
        )
    assert [entry.title for entry in page()] == ["Featured", "By hand", "Submitted"]
    member = add_members(store, 1)[0]
    with store.write() as connection:
        add_vote(connection, member, "2501.00003", datetime(2026, 1, 2))
        add_submission(connection, "2501.00003", member, "Worth a read", datetime(2026, 1, 2))
    voted = page()[2]
    assert (voted.local_upvotes, voted.note) == (1, "Worth a read")
    assert voted.submitted_here_at == datetime(2026, 1, 2)
    assert voted.abstract is first[2].abstract  # the same version: the kept entry, copied
    # Deleted with its submission (arXiv never listed it), then stored again: other words.
    with store.write() as connection:
        assert remove_submission(connection, "2501.00003")
        again = make_record("2501.00003", "Stored again", submitted_at=datetime(2025, 1, 6, 9))
        upsert_papers(connection, [again])
    shown = page()[2]
    assert (shown.title, shown.local_upvotes, shown.note) == ("Stored again", 0, None)
    kept = page()
    with memo.set_aside():  # the same as a page built with nothing kept
        assert page() == kept
