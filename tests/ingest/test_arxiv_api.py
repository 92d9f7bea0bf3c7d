"""`dailypapers ingest arxiv-ids`: real arXiv API captures replayed by a real HTTP server.

Covers the current and the 2016 Atom format, old-style ids, an HTTP 400 error entry, an id
the API silently drops, an empty answer, batching with the polite pause, and the CLI.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest.arxiv_api import fetch_papers
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.run import SourceUnusable, Summary, ingest
from dailypapers.paper import Link
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper
from tests.support.replay import ReplayServer, Response

API = "/api/query"
DROPPED = "arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"
ERROR_400 = "arxivpy_2026_error_400_idlist_abc.body.xml"
EMPTY = "arxivpy_2026_empty_idlist_0000.0000.body.xml"
OLD_IDLIST = "arxivpy_2016_idlist_1111.2011v2.xml"
OLD_SEARCH = "arxivpy_2016_search_au-del_maestro_AND_ti-checkerboard.xml"
SOTAWHAT = "sotawhat_2026_search_all-transformer_AND_cat-cs.LG_max5.xml"


def capture(shared_data: Path, name: str) -> bytes:
    return (shared_data / "arxiv-responses" / "api-atom" / name).read_bytes()


def serve(replay: ReplayServer, body: bytes, ids: str | None = None, status: int = 200) -> None:
    headers = {"Content-Type": "application/atom+xml; charset=utf-8"}
    replay.add(API, Response(status, body, headers), query={"id_list": ids} if ids else None)


def run(store: Store, replay: ReplayServer, ids: list[str], **options: float) -> Summary:
    fetcher = Fetcher(retries=0)
    try:
        items = fetch_papers(ids, fetcher, replay.base_url + API, **options)  # type: ignore[arg-type]
        return ingest(store, "arxiv-ids", "test", items)
    finally:
        fetcher.close()


def test_dropped_id_is_reported_not_found(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, capture(shared_data, DROPPED), ids="0808.05394,1707.08567")
    summary = run(store, replay, ["0808.05394", "1707.08567"])
    assert summary.line() == "1 new, 0 updated, 0 unchanged, 1 skipped"
    assert [(s.where, s.reason) for s in summary.skipped_records] == [("0808.05394", "not found")]
    assert replay.requests[0][1] == {
        "id_list": "0808.05394,1707.08567", "start": "0", "max_results": "2",
    }  # fmt: skip
    with store.read() as connection:
        paper = get_paper(connection, "1707.08567")
    assert paper is not None
    assert paper.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert paper.version == 1
    assert len(paper.authors) == 34
    assert paper.authors[:3] == ("Kees A. Schouhamer Immink", "Stan Baggen", "Ferdaous Chaabane")
    assert paper.authors[-2:] == ("Dirk Wübben", "Hirosuke Yamamoto")
    assert paper.categories == ("cs.IT",)
    assert (
        paper.comment == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )
    assert paper.submitted_at == datetime(2017, 7, 27, 8, 18, 33)
    assert paper.updated_at == datetime(2017, 7, 27, 8, 18, 33)
    assert paper.abstract is not None and paper.abstract.startswith("The 10th Asia-Europe")


def test_old_2016_format_with_every_field(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, capture(shared_data, OLD_IDLIST), ids="1111.2011v2")
    serve(replay, capture(shared_data, OLD_SEARCH), ids="cond-mat/0603029")
    # A versioned id given as a URL, and an old-style id: two requests, one per batch of 1.
    summary = run(
        store, replay, ["https://arxiv.org/abs/1111.2011v2", "cond-mat/0603029"],
        per_request=1, pause=0,
    )  # fmt: skip
    assert summary.line() == "2 new, 0 updated, 0 unchanged, 0 skipped"
    with store.read() as connection:
        bethe = get_paper(connection, "1111.2011")
        stripes = get_paper(connection, "cond-mat/0603029")
    assert bethe is not None and stripes is not None
    assert bethe.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert bethe.version == 2
    assert bethe.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert bethe.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert (bethe.comment, bethe.journal_ref, bethe.doi) == (
        "8 pages, 3 figures. Published version",
        "Phys. Rev. B 85, 115117 (2012)",
        "10.1103/PhysRevB.85.115117",
    )
    assert bethe.submitted_at == datetime(2011, 11, 8, 18, 48, 36)
    assert bethe.updated_at == datetime(2012, 4, 2, 12, 38, 54)
    assert bethe.abstract is not None and "\n" not in bethe.abstract
    assert bethe.links[:2] == (
        Link("abs", "https://arxiv.org/abs/1111.2011"),
        Link("pdf", "https://arxiv.org/pdf/1111.2011v2"),
    )
    assert stripes.version == 1
    assert stripes.categories == ("cond-mat.str-el", "cond-mat.supr-con")
    assert stripes.authors[0] == "Adrian Del Maestro"


def test_current_format_primary_category_first_and_project_link(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    ids = ["2606.13677", "2606.13591", "2606.13568", "2606.13515", "2606.13501"]
    serve(replay, capture(shared_data, SOTAWHAT), ids=",".join(ids))
    assert run(store, replay, ids).line() == "5 new, 0 updated, 0 unchanged, 0 skipped"
    with store.read() as connection:
        mana = get_paper(connection, "2606.13677")
        physics = get_paper(connection, "2606.13568")
        assert count_papers(connection).papers == 5
    assert mana is not None and physics is not None
    assert mana.categories == ("cs.RO", "cs.AI", "cs.CV", "cs.LG")
    assert mana.authors[:2] == ("Zhao-Heng Yin", "Guanya Shi")
    assert Link("project", "https://zhaohengyin.github.io/mana") in mana.links
    assert physics.categories == ("cs.LG", "math-ph")


def test_http_400_error_entry_is_reported(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, capture(shared_data, ERROR_400), status=400)
    summary = run(store, replay, ["2501.00001", "2501.00002"])
    assert summary.line() == "0 new, 0 updated, 0 unchanged, 1 skipped"
    (skipped,) = summary.skipped_records
    assert skipped.where == "ids 2501.00001, 2501.00002"
    assert skipped.reason == "arXiv API error: incorrect id format for abc"
    assert len(replay.requests) == 1  # a 400 is an answer, not a reason to retry


def test_empty_answer_and_text_that_is_no_id(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, capture(shared_data, EMPTY), ids="0000.0000")
    summary = run(store, replay, ["abc", "0000.0000", "arXiv:0000.0000", "  "])
    reports = [(s.where, s.reason) for s in summary.skipped_records]
    assert reports[0] == ("abc", "not an arXiv id: 'abc'")
    assert reports[1][1].startswith("not an arXiv id")
    assert reports[2] == ("0000.0000", "not found")  # asked once although given twice
    assert summary.line() == "0 new, 0 updated, 0 unchanged, 3 skipped"
    assert [query["id_list"] for _path, query in replay.requests] == ["0000.0000"]


def test_batches_pause_between_requests(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, capture(shared_data, EMPTY))
    waits: list[float] = []
    fetcher = Fetcher(retries=0, sleep=waits.append)
    ids = ["2501.00001", "2501.00002v3", "2501.00003"]
    items = list(fetch_papers(ids, fetcher, replay.base_url + API, per_request=2))
    fetcher.close()
    assert [q["id_list"] for _p, q in replay.requests] == ["2501.00001,2501.00002v3", "2501.00003"]
    assert waits == [3.0]
    assert [getattr(item, "where", None) for item in items] == ids


def test_second_run_changes_nothing(store: Store, replay: ReplayServer, shared_data: Path) -> None:
    ids = ["2606.13677", "2606.13591", "2606.13568", "2606.13515", "2606.13501"]
    serve(replay, capture(shared_data, SOTAWHAT), ids=",".join(ids))
    run(store, replay, ids)
    assert run(store, replay, ids).line() == "0 new, 0 updated, 5 unchanged, 0 skipped"


def test_a_page_that_is_no_feed_is_unusable(store: Store, replay: ReplayServer) -> None:
    serve(replay, b"<html><body><h1>Service temporarily unavailable</h1></body></html>")
    with pytest.raises(SourceUnusable, match="not an RSS or Atom feed"):
        run(store, replay, ["2501.00001"])


def test_cli_reports_skipped_and_exits_0(
    cli: CliRunner, store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, capture(shared_data, DROPPED), ids="0808.05394,1707.08567")
    args = ["ingest", "arxiv-ids", "0808.05394", "https://arxiv.org/abs/1707.08567", "abc"]
    result = cli.invoke(app, [*args, "--base-url", replay.base_url + API])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "arxiv-ids: 1 new, 0 updated, 0 unchanged, 2 skipped"
    assert "skipped abc: not an arXiv id" in result.stderr
    assert "skipped 0808.05394: not found" in result.stderr
    again = cli.invoke(app, [*args, "--base-url", replay.base_url + API])
    assert "0 new, 0 updated, 1 unchanged, 2 skipped" in again.stdout


def test_cli_unreachable_api_exits_1_in_one_line(
    cli: CliRunner, store: Store, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_HTTP_RETRIES", "0")
    get_settings.cache_clear()
    replay.add(API, Response(503, b"busy", {"Retry-After": "0"}))
    result = cli.invoke(
        app, ["ingest", "arxiv-ids", "2501.00001", "--base-url", replay.base_url + API]
    )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "HTTP 503" in result.stderr
