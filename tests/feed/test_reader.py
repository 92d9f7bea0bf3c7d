"""The site's one read path: a reader sees one snapshot, and loads search hits in their order.

On SQLite and on a real PostgreSQL server (the ``store`` fixture runs each test on both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dailypapers.feed.reader import Reader, change_stamp, read
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers

DAY = date(2025, 1, 6)


@dataclass(frozen=True)
class Hit:
    id: str
    score: float


def _add(store: Store, *ids: str, upvotes: int = 0) -> None:
    records = [
        make_record(pid, f"Paper {pid}", first_listed_on=DAY, hf_upvotes=upvotes,
                    authors=["Ada Lovelace"], categories=["cs.CL"])
        for pid in ids
    ]  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, records)


def _everything(reader: Reader) -> tuple[int, int, list[str]]:
    page = reader.period(DAY, DAY, limit=10)
    author = reader.author("Ada Lovelace", limit=10)
    return page.total, author.total, [entry.id for entry in reader.entries(["2501.00003"])]


def test_a_reader_reads_one_snapshot_while_a_writer_writes(store: Store) -> None:
    _add(store, "2501.00001", "2501.00002")
    stamp = change_stamp(store)
    with read(store) as reader:
        before = _everything(reader)
        _add(store, "2501.00003")  # committed by another connection in the middle of a page
        after = _everything(reader)
        assert reader.latest_day() == DAY
    assert before == after == (2, 2, [])
    with read(store) as reader:
        assert _everything(reader) == (3, 3, ["2501.00003"])
    assert change_stamp(store) != stamp


def test_hits_are_loaded_in_their_order_without_the_missing(store: Store) -> None:
    _add(store, "2501.00001", "2501.00002")
    hits = [Hit("2501.00002", 0.9), Hit("2501.99999", 0.8), Hit("2501.00001", 0.7)]
    with read(store) as reader:
        found = reader.found(hits)
        assert reader.entry("2501.99999") is None
        paper = reader.paper("2501.00001")
    assert [(hit.score, entry.id) for hit, entry in found] == [
        (0.9, "2501.00002"),
        (0.7, "2501.00001"),
    ]
    assert found[0][1].authors == ("Ada Lovelace",)
    assert paper is not None and paper.title == "Paper 2501.00001"
