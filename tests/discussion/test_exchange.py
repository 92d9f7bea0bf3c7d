"""A collection out and in: BibTeX, CSV and JSON exports imported again give the same ids in
the same order; ids are read from text (URLs, commas, spaces), BibTeX (``eprint``, ``url``,
``doi``) and our own exports; ids the store lacks are fetched from a real HTTP server
replaying a captured arXiv API answer, reported as not found when arXiv has no such paper,
and as unreachable (nothing stored) when arXiv answers 503."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dailypapers.discussion import collections as service
from dailypapers.discussion import exchange
from dailypapers.discussion.collections import Collection, CollectionError, Item
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store.entries import feed_entries
from tests.discussion.conftest import paper_ids
from tests.support.members import add_members
from tests.support.replay import ReplayServer, Response

API = "/api/query"
# The answer holds 1707.08567 and leaves out 0808.05394, which does not exist.
CAPTURE = "arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"


def _serve(replay: ReplayServer, shared_data: Path, status: int = 200) -> Settings:
    body = (shared_data / "arxiv-responses" / "api-atom" / CAPTURE).read_bytes()
    replay.add(API, Response(status, body, {"Content-Type": "application/atom+xml"}))
    return get_settings().model_copy(
        update={"arxiv_api_url": replay.base_url + API, "http_retries": 0}
    )


def _exports(store: Store) -> dict[str, Callable[[Collection, list[Item]], str]]:
    return {
        "bib": lambda _c, items: exchange.export_bibtex(store, items),
        "csv": lambda _c, items: exchange.export_csv(items),
        "json": lambda c, items: json.dumps(exchange.export_json(c, items, "ada")),
    }


@pytest.mark.parametrize("kind", ["bib", "csv", "json"])
def test_export_then_import_gives_the_same_ids_in_order(papers: Store, kind: str) -> None:
    (ada,) = add_members(papers, 1)
    ids = paper_ids(papers, 12)
    order = ids[5:] + ids[:5][::-1]  # not the order they were stored or ranked in
    source = service.create_collection(papers, ada, "Source")
    for paper in ids:
        service.add_paper(papers, ada, paper, source.id, note='a, "quoted" note\nover lines')
    service.reorder(papers, ada, source.id, order)
    text = _exports(papers)[kind](source, service.items_of(papers, source.id))
    target = service.create_collection(papers, ada, "Target")
    parsed = exchange.parse_ids(text)
    assert (parsed.ids, parsed.invalid) == (order, [])
    report = exchange.import_ids(papers, get_settings(), ada, target.id, parsed)
    assert (report.added, report.not_found, report.unreachable) == (order, [], [])
    assert [i.paper_id for i in service.items_of(papers, target.id)] == order
    again = exchange.import_ids(papers, get_settings(), ada, target.id, parsed)
    assert (again.added, again.already) == ([], order)


def test_ids_from_text_and_bibtex() -> None:
    text = "2401.00001, https://arxiv.org/abs/2401.00002v3\n 2401.00001 hep-th/9901001;nonsense"
    parsed = exchange.parse_ids(text)
    assert parsed.ids == ["2401.00001", "2401.00002", "hep-th/9901001"]
    assert parsed.invalid == ["nonsense"]
    bib = """
@comment{exported by hand}
@article{a, title={On {Things}}, eprint = {2401.00003v2}, archivePrefix = "arXiv"}
@misc{b,
  title = "By URL",
  url = {https://arxiv.org/pdf/2401.00004v1},
}
@inproceedings{c, doi = {10.48550/arXiv.2401.00005}, year = 2024}
@book{d, title = {No arXiv at all}, doi = {10.1234/abc}}
"""
    parsed = exchange.parse_ids(bib)
    assert parsed.ids == ["2401.00003", "2401.00004", "2401.00005"]
    assert parsed.invalid == ["@d (no arXiv eprint, url or doi)"]
    assert exchange.parse_ids('["2401.00006", {"paperId": "2401.00007"}]').ids == [
        "2401.00006", "2401.00007",
    ]  # fmt: skip
    with pytest.raises(CollectionError, match="cannot be read") as refused:
        exchange.parse_ids('{"items": [')
    assert refused.value.status == 400


def test_unknown_ids_are_fetched_from_arxiv_or_reported(
    papers: Store, replay: ReplayServer, shared_data: Path
) -> None:
    settings = _serve(replay, shared_data)
    (ada,) = add_members(papers, 1)
    first, second = paper_ids(papers, 2)
    reading = service.create_collection(papers, ada, "Mixed")
    parsed = exchange.parse_ids(f"{first} 1707.08567v1 0808.05394 {second} bogus")
    report = exchange.import_ids(papers, settings, ada, reading.id, parsed)
    assert report.added == [first, "1707.08567", second]
    assert (report.fetched, report.not_found, report.invalid) == (
        ["1707.08567"], ["0808.05394"], ["bogus"],
    )  # fmt: skip
    assert [i.paper_id for i in service.items_of(papers, reading.id)] == report.added
    with papers.read() as connection:
        (fetched,) = feed_entries(connection, ["1707.08567"])
    assert fetched.title.startswith("Proceedings of Workshop AEW10")  # as arXiv gave it
    assert [path for path, _query in replay.requests] == [API]


def test_arxiv_unreachable_is_reported_and_nothing_unknown_is_stored(
    papers: Store, replay: ReplayServer, shared_data: Path
) -> None:
    settings = _serve(replay, shared_data, status=503)
    (ada,) = add_members(papers, 1)
    (first,) = paper_ids(papers, 1)
    reading = service.create_collection(papers, ada, "Offline")
    parsed = exchange.parse_ids(f"1707.08567 {first}")
    report = exchange.import_ids(papers, settings, ada, reading.id, parsed)
    assert (report.added, report.unreachable) == ([first], ["1707.08567"])
    assert report.message is not None and "cannot be reached" in report.message
    with papers.read() as connection:
        assert feed_entries(connection, ["1707.08567"]) == []
