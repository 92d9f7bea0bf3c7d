"""Documents for the search index: every field, paging, and the incremental ``since``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.documents import iter_documents
from dailypapers.store.papers import upsert_papers


def test_iter_documents_pages_and_filters_by_time(store: Store) -> None:
    records = [
        make_record(
            f"2501.{n:05d}",
            f"Paper {n}",
            abstract=f"Abstract {n}." + (" https://github.com/a/b" if n % 2 else ""),
            authors=[f"Author {n}", "Shared Author"],
            categories=["cs.CL", "cs.AI"],
            first_listed_on=date(2025, 1, 1 + n % 20),
        )
        for n in range(25)
    ]
    with store.write() as connection:
        upsert_papers(connection, records)
    with store.read() as connection:
        documents = list(iter_documents(connection, page=7))
        later = list(iter_documents(connection, since=datetime.now() + timedelta(days=1)))
    assert [d.id for d in documents] == sorted(r.arxiv_id for r in records)
    third = documents[3]
    assert (third.title, third.abstract) == ("Paper 3", "Abstract 3. https://github.com/a/b")
    assert third.authors == ("Author 3", "Shared Author")
    assert third.categories == ("cs.CL", "cs.AI")
    assert (third.day, third.has_code, documents[4].has_code) == (date(2025, 1, 4), True, False)
    assert later == []


def test_feed_day_rule(store: Store) -> None:
    submitted = datetime(2025, 1, 1, 23, 0)
    records = [
        make_record("2501.00001", "Listed", first_listed_on=date(2025, 1, 3),
                    featured_on=date(2025, 1, 5), submitted_at=submitted),
        make_record("2501.00002", "Featured", featured_on=date(2025, 1, 5), submitted_at=submitted),
        make_record("2501.00003", "Submitted", submitted_at=submitted),
        make_record("2501.00004", "Undated"),
    ]  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, records)
    with store.read() as connection:
        days = [document.day for document in iter_documents(connection)]
    assert days == [date(2025, 1, 3), date(2025, 1, 5), date(2025, 1, 1), None]
