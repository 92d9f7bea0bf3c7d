"""Store tests, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, datetime

from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper, upsert_papers


def _paper(version: int = 1, title: str = "A Paper", **fields: object):
    values: dict[str, object] = {
        "version": version,
        "abstract": "We study things. Code: https://github.com/org/repo.",
        "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
        "categories": ["cs.CL", "cs.AI"],
        "submitted_at": datetime(2025, 3, 1, 12, 0),
    }
    values.update(fields)
    return make_record("2503.00001", title, **values)


def test_new_then_unchanged_then_updated(store: Store) -> None:
    with store.write() as connection:
        first = upsert_papers(connection, [_paper()])
    with store.write() as connection:
        again = upsert_papers(connection, [_paper()])
    with store.write() as connection:
        newer = upsert_papers(connection, [_paper(version=2, title="A Better Paper")])
    assert (first.new, again.unchanged, newer.updated) == (1, 1, 1)
    with store.read() as connection:
        paper = get_paper(connection, "2503.00001")
        counts = count_papers(connection)
    assert paper is not None
    assert paper.version == 2
    assert paper.title == "A Better Paper"
    assert paper.authors == ("Ada Lovelace", "Alan Turing", "Grace Hopper")
    assert paper.categories == ("cs.CL", "cs.AI")
    assert (counts.papers, counts.authors, counts.with_code) == (1, 3, 1)


def test_older_version_does_not_overwrite_newer(store: Store) -> None:
    with store.write() as connection:
        upsert_papers(connection, [_paper(version=3, abstract="Third version.")])
        counts = upsert_papers(
            connection, [_paper(version=1, abstract="First.", first_listed_on=date(2025, 3, 3))]
        )
    with store.read() as connection:
        paper = get_paper(connection, "2503.00001")
    assert counts.updated == 1  # the listing date is new information
    assert paper is not None
    assert (paper.version, paper.abstract) == (3, "Third version.")
    assert paper.first_listed_on == date(2025, 3, 3)


def test_a_read_record_is_the_record_written(store: Store) -> None:
    """Every field back with its type (the read runs on the driver's cursor, whose SQLite
    values are text for dates and times)."""
    record = _paper(
        submitted_at=datetime(2025, 3, 1, 9, 30, 5, 120000), updated_at=datetime(2025, 3, 4, 8),
        featured_on=date(2025, 3, 5), featured_by="Ada", hf_upvotes=7, github_stars=12,
        hf_comments=2, featured_by_user="ada", featured_by_type="user",
        featured_by_avatar="https://example.org/ada.png", journal_ref="J. 1", doi="10.1/x",
        comment="12 pages",
    )  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, [record])
    with store.read() as connection:
        assert get_paper(connection, "2503.00001") == record
        assert get_paper(connection, "2503.99999") is None
