"""`dailypapers ingest arxiv`: OAI-PMH harvesting against a replay of real arXiv captures.

The captures are read from ``shared/data/arxiv-responses/oai-pmh`` (see PROVENANCE.md there)
and served by a real HTTP server; database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest import http as source_http
from dailypapers.ingest import oaipmh
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.oai_records import OAI, parse_page, parse_record, split_author_string
from dailypapers.ingest.run import SourceUnusable, Summary, ingest
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper
from dailypapers.store.runs import last_runs, load_state
from tests.support.replay import ReplayServer, Response

RAW_PAGE = "saelim_ListRecords_arXivRaw_from-2014-10-01_trimmed_with_resumptionToken.xml"
RAW_TOKEN = "726959|1001"  # the resumptionToken at the end of RAW_PAGE
LAST_PAGE = "hepcrawl_ListRecords_arXiv_set-physics-hep-ex_2017-12-14.xml"
DC_PAGE = "atomiklabs_ListRecords_oai_dc_set-cs_2024-01-25_trimmed_with_resumptionToken.xml"
RETRY_RECORDING = "paperhive_nock_oaipmh-listrecords---should-list-identifiers-from-arxiv.json"
FIRST_PAGE_QUERY = {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}
# Hop-by-hop and length headers of a recording; the replay server writes its own.
_DROPPED_HEADERS = {"content-length", "transfer-encoding", "connection"}


@pytest.fixture
def captures(shared_data: Path) -> Path:
    return shared_data / "arxiv-responses" / "oai-pmh"


class Sleeps(list[float]):
    """A ``sleep`` for the fetcher that records the wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def xml(captures: Path, name: str, edit: Iterable[tuple[str, str]] = ()) -> Response:
    body = (captures / name).read_text(encoding="utf-8")
    for old, new in edit:
        assert old in body, old
        body = body.replace(old, new)
    return Response(200, body.encode(), {"Content-Type": "text/xml; charset=utf-8"})


def recording(captures: Path, name: str) -> list[Response]:
    """The exchanges of a nock recording (JSON: status, rawHeaders, response) as responses."""
    responses = []
    for exchange in json.loads((captures / name).read_text(encoding="utf-8")):
        raw = exchange["rawHeaders"]
        headers = {
            k: v for k, v in zip(raw[::2], raw[1::2], strict=True)
            if k.lower() not in _DROPPED_HEADERS
        }  # fmt: skip
        responses.append(Response(exchange["status"], exchange["response"].encode(), headers))
    return responses


def serve_two_pages(replay: ReplayServer, captures: Path, second: Response | None = None) -> None:
    """The arXivRaw page with a resumptionToken, then (for that token) the last page."""
    replay.add("/oai", xml(captures, RAW_PAGE), query=FIRST_PAGE_QUERY)
    replay.add("/oai", second or xml(captures, LAST_PAGE), query={"resumptionToken": RAW_TOKEN})


def run_harvest(
    store: Store,
    replay: ReplayServer,
    *,
    categories: Iterable[str],
    prefix: str = "arXivRaw",
    start: date | None = date(2014, 10, 1),
    retries: int = 2,
    sleeps: Sleeps | None = None,
) -> Summary:
    fetcher = Fetcher(retries=retries, sleep=sleeps if sleeps is not None else Sleeps())
    harvest = oaipmh.arxiv_harvest(
        store, fetcher, base_url=f"{replay.base_url}/oai", categories=categories,
        prefix=prefix, start=start, today=date(2026, 1, 15),
    )  # fmt: skip
    try:
        return ingest(store, "arxiv", "test", harvest)
    finally:
        fetcher.close()


def stored_ids(store: Store) -> list[str]:
    with store.read() as connection:
        rows = connection.exec_driver_sql("SELECT arxiv_id FROM papers ORDER BY arxiv_id").all()
    return [row[0] for row in rows]


def state(store: Store, key: str) -> dict[str, Any] | None:
    with store.read() as connection:
        return load_state(connection, key)


# --- sets and parsing, no database -----------------------------------------------------


def test_sets_are_archives_each_harvested_once() -> None:
    categories = ["cs.AI", "cs.CL", "hep-th", "astro-ph.CO", "physics.optics", "math.AG",
                  "q-bio.NC", "math.MP", "stat.ML", "eess.SP", "q-fin.ST", "econ.EM"]  # fmt: skip
    assert oaipmh.sets_for(categories) == [
        "cs", "physics:hep-th", "physics:astro-ph", "physics:physics", "math", "q-bio",
        "stat", "eess", "q-fin", "econ",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown arXiv archive 'bio'"):
        oaipmh.set_for("bio.XX")
    with pytest.raises(ValueError, match="not an arXiv category"):
        oaipmh.set_for("68T45")


def test_arxiv_raw_author_strings() -> None:
    assert split_author_string("D.V. Shetty, S.J. Yennello, and G.A. Souliotis") == [
        "D.V. Shetty", "S.J. Yennello", "G.A. Souliotis",
    ]  # fmt: skip
    assert split_author_string("Valeria M. Rosa and Patricio S. letelier") == [
        "Valeria M. Rosa", "Patricio S. letelier",
    ]  # fmt: skip
    # Affiliations carry commas of their own; "Andrea" is not an "and".
    assert split_author_string(
        "A. Andrea (1, 2), B. Brandt ((1) MIT, Cambridge, (2) CERN, Geneva)"
    ) == ["A. Andrea", "B. Brandt"]


def test_oai_dc_page_parses(captures: Path) -> None:
    page = parse_page((captures / DC_PAGE).read_bytes())
    assert (page.token, page.complete_list_size) == ("6960524|1001", 1162)
    assert page.response_date == date(2024, 1, 27)
    records = [parse_record(element) for element in page.records]
    assert [r.arxiv_id for r in records] == [
        "1303.2033", "2401.14034", "2401.14036", "2401.14038", "2401.14040",
    ]  # fmt: skip
    first = records[0]
    assert first.title == "Extended Fourier analysis of signals"
    assert first.authors == ("Vilnis Liepins",)
    assert first.comment == "32 pages, 9 figures"
    assert first.abstract is not None and first.abstract.startswith("This summary of the")
    assert (first.submitted_at, first.updated_at) == (datetime(2013, 3, 8), datetime(2024, 1, 23))
    assert records[1].authors[:2] == ("Chuankun Li", "Shuai Li")


def test_arxiv_raw_get_record_versions(captures: Path) -> None:
    root = fromstring((captures / "saelim_GetRecord_arXivRaw_1302.2146.xml").read_bytes())
    record = parse_record(root.find(f"{OAI}GetRecord/{OAI}record"))
    assert record.arxiv_id == "1302.2146"
    assert record.version == 2
    assert record.submitted_at is not None and record.updated_at is not None
    assert record.submitted_at < record.updated_at


# --- harvests written to the store (SQLite and PostgreSQL) --------------------------------


def test_arxiv_raw_two_pages(store: Store, replay: ReplayServer, captures: Path) -> None:
    serve_two_pages(replay, captures)
    summary = run_harvest(store, replay, categories=["math"])
    # Page 1 has two math papers among six; page 2 (hep-ex) has none.
    assert summary.line() == "2 new, 0 updated, 0 unchanged, 0 skipped"
    assert stored_ids(store) == ["0704.0716", "0704.0874"]
    first, second = (query for _path, query in replay.requests)
    assert first == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "math",
                     "from": "2014-10-01"}  # fmt: skip
    assert second == {"verb": "ListRecords", "resumptionToken": RAW_TOKEN}
    with store.read() as connection:
        paper = get_paper(connection, "0704.0716")
    assert paper is not None
    assert paper.title == "Limit distributions and scaling functions"
    assert paper.authors == ("Christoph Richard",)
    assert paper.categories == ("math-ph", "math.MP")
    assert paper.version == 4
    assert paper.submitted_at == datetime(2007, 4, 5, 12, 45, 3)
    assert paper.updated_at == datetime(2008, 11, 14, 9, 7, 25)
    assert paper.comment is not None and paper.comment.endswith("v4 slightly expanded")
    assert paper.journal_ref == (
        "Polygons, polyominoes and polycubes, 247-299, Lecture Notes in Phys., 775, "
        "Springer, Dordrecht, 2009"
    )
    assert paper.abstract is not None and paper.abstract.startswith("We discuss the asymptotic")
    # The list is complete: no resumable state left, next default "from" = the server's date.
    assert state(store, "oai:arXivRaw:math") is None
    assert state(store, "oai-done:math") == {"next_from": "2015-01-06"}


def test_arxiv_format_fields(store: Store, replay: ReplayServer, captures: Path) -> None:
    replay.add("/oai", xml(captures, LAST_PAGE), query={"set": "physics:hep-ex"})
    summary = run_harvest(store, replay, categories=["hep-ex"], prefix="arXiv")
    assert summary.line() == "3 new, 0 updated, 0 unchanged, 0 skipped"
    with store.read() as connection:
        sipm = get_paper(connection, "1706.05371")
        rpv = get_paper(connection, "1706.09418")
    assert sipm is not None and rpv is not None
    assert sipm.title == (
        "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid Xenon Detectors"
    )
    assert len(sipm.authors) == 13
    assert sipm.authors[:3] == ("Tyler Anderson", "Jacob Cutter", "Navneet Dhaliwal")
    assert sipm.authors[-1] == "Mani Tripathi"
    assert sipm.categories == ("physics.ins-det", "hep-ex")  # primary first
    assert (sipm.submitted_at, sipm.updated_at) == (datetime(2017, 6, 16), datetime(2017, 12, 12))
    assert sipm.version is None  # the arXiv format has dates, not version numbers
    assert rpv.authors[2] == "Manuel E. Krauss"
    assert (rpv.journal_ref, rpv.doi) == (
        "Eur. Phys. J. C (2017) 77:856", "10.1140/epjc/s10052-017-5414-4",
    )  # fmt: skip
    assert rpv.comment is not None and "NLO corrections" in rpv.comment


def test_sets_and_category_filter(store: Store, replay: ReplayServer, captures: Path) -> None:
    """math.AG + hep-ex: the math set (two pages) and physics:hep-ex, each asked once."""
    replay.add("/oai", xml(captures, RAW_PAGE), query={"set": "math"})
    replay.add("/oai", xml(captures, LAST_PAGE), query={"resumptionToken": RAW_TOKEN})
    replay.add("/oai", xml(captures, LAST_PAGE), query={"set": "physics:hep-ex"})
    summary = run_harvest(store, replay, categories=["math.AG", "hep-ex"])
    # 0704.0716 (math-ph, math.MP) is in the math set but not in math.AG: left out.
    assert stored_ids(store) == ["0704.0874", "1706.05371", "1706.09418", "1707.00874"]
    # The hep-ex papers came again with their own set: the second time they are unchanged.
    assert summary.line() == "4 new, 0 updated, 3 unchanged, 0 skipped"
    sets = [query.get("set") for _path, query in replay.requests]
    assert sets == ["math", None, "physics:hep-ex"]


def test_second_run_changes_nothing(store: Store, replay: ReplayServer, captures: Path) -> None:
    serve_two_pages(replay, captures)
    run_harvest(store, replay, categories=["math", "hep-ex"])
    with store.read() as connection:
        before = connection.exec_driver_sql("SELECT arxiv_id, content_hash FROM papers").all()
    again = run_harvest(store, replay, categories=["math", "hep-ex"])
    with store.read() as connection:
        after = connection.exec_driver_sql("SELECT arxiv_id, content_hash FROM papers").all()
    assert (again.counts.new, again.counts.updated, again.skipped) == (0, 0, 0)
    assert again.counts.unchanged > 0
    assert sorted(before) == sorted(after) and len(after) == 5


def test_503_retry_after_is_honoured(store: Store, replay: ReplayServer, captures: Path) -> None:
    replay.add("/oai", *recording(captures, RETRY_RECORDING), query={"verb": "ListRecords"})
    sleeps = Sleeps()
    summary = run_harvest(
        store, replay, categories=["cs.DM", "hep-th"], prefix="arXiv",
        start=date(2015, 1, 1), sleeps=sleeps,
    )  # fmt: skip
    assert sleeps == [10.0]  # what Retry-After asked for, not a back-off guess
    assert [r.status for r in replay.routes[0].responses] == [503, 200]
    # Both papers are in each set's answer (the replay ignores the set): new, then unchanged.
    assert summary.line() == "2 new, 0 updated, 2 unchanged, 0 skipped"
    with store.read() as connection:
        ks = get_paper(connection, "1412.8544")
        old_style = get_paper(connection, "hep-th/9504118")
    assert ks is not None and old_style is not None
    assert ks.authors == ("Sander Uijlen", "Bas Westerbaan")
    assert (ks.journal_ref, ks.doi) == ("EPTCS 172, 2014, pp. 154-164", "10.4204/EPTCS.172.11")
    assert ks.updated_at == ks.submitted_at == datetime(2014, 12, 29)  # only v1
    assert old_style.title == "Discrete Mathematics and Physics on the Planck-Scale"
    assert old_style.categories == ("hep-th",)


def test_no_records_match_is_an_empty_list(
    store: Store, replay: ReplayServer, captures: Path
) -> None:
    replay.add("/oai", xml(captures, "saelim_error_noRecordsMatch.xml"))
    summary = run_harvest(store, replay, categories=["cs.CL"])
    assert summary.line() == "0 new, 0 updated, 0 unchanged, 0 skipped"
    assert state(store, "oai-done:cs") == {"next_from": "2015-06-23"}
    with store.read() as connection:
        assert last_runs(connection)[0].status == "ok"


def test_bad_resumption_token_restarts_the_window_once(
    store: Store, replay: ReplayServer, captures: Path
) -> None:
    bad = xml(captures, "saelim_error_badResumptionToken.xml")
    serve_two_pages(replay, captures)
    replay.routes[0].responses.insert(0, bad)  # the token fails once, then works
    summary = run_harvest(store, replay, categories=["math"])
    assert summary.line() == "2 new, 0 updated, 2 unchanged, 0 skipped"
    asked = [query for _path, query in replay.requests]
    assert [q.get("resumptionToken") for q in asked] == [None, RAW_TOKEN, None, RAW_TOKEN]
    assert asked[2]["from"] == "2014-10-01"  # the window's start again
    assert state(store, "oai:arXivRaw:math") is None


def test_second_bad_resumption_token_is_unusable(
    store: Store, replay: ReplayServer, captures: Path
) -> None:
    serve_two_pages(replay, captures, xml(captures, "saelim_error_badResumptionToken.xml"))
    with pytest.raises(SourceUnusable, match="badResumptionToken") as raised:
        run_harvest(store, replay, categories=["math"])
    assert "illegal for this repository" in str(raised.value)
    assert len(replay.requests) == 4
    assert stored_ids(store) == ["0704.0716", "0704.0874"]  # page 1 was committed
    with store.read() as connection:
        assert last_runs(connection)[0].status == "failed"


def test_killed_harvest_resumes_from_stored_token(
    store: Store, replay: ReplayServer, captures: Path
) -> None:
    # The "kill": page 2 fails hard (no retries), so the run stops after page 1's commit.
    serve_two_pages(replay, captures, Response(500, b"Internal Server Error"))
    with pytest.raises(SourceUnusable, match="HTTP 500"):
        run_harvest(store, replay, categories=["math", "hep-ex"], retries=0)
    assert stored_ids(store) == ["0704.0716", "0704.0874"]
    saved = state(store, "oai:arXivRaw:math")
    assert saved is not None
    assert (saved["token"], saved["set"], saved["prefix"], saved["from"], saved["until"]) == (
        RAW_TOKEN, "math", "arXivRaw", "2014-10-01", None,
    )  # fmt: skip

    replay.add("/oai", xml(captures, LAST_PAGE), query={"resumptionToken": RAW_TOKEN})
    already = len(replay.requests)
    summary = run_harvest(store, replay, categories=["math", "hep-ex"])
    resumed = [query for _path, query in replay.requests[already:]]
    assert resumed[0] == {"verb": "ListRecords", "resumptionToken": RAW_TOKEN}
    # The math set finishes with page 2, then physics:hep-ex starts (and gets page 1 again).
    assert summary.counts.new == 3
    assert stored_ids(store) == [
        "0704.0716", "0704.0874", "1706.05371", "1706.09418", "1707.00874",
    ]  # fmt: skip
    assert state(store, "oai:arXivRaw:math") is None


def test_malformed_and_deleted_records(store: Store, replay: ReplayServer, captures: Path) -> None:
    edits = [
        ("<id>0704.0471</id>", "<id>0704.047I</id>"),  # record 1: a broken id
        ("<header>\n <identifier>oai:arXiv.org:0704.0874</identifier>",
         '<header status="deleted">\n <identifier>oai:arXiv.org:0704.0874</identifier>'),
    ]  # fmt: skip
    replay.add("/oai", xml(captures, RAW_PAGE, edits), query=FIRST_PAGE_QUERY)
    replay.add("/oai", xml(captures, LAST_PAGE), query={"resumptionToken": RAW_TOKEN})
    summary = run_harvest(store, replay, categories=["math"])
    assert summary.line() == "1 new, 0 updated, 0 unchanged, 1 skipped"
    (skipped,) = summary.skipped_records
    assert skipped.where == "math page 1 record 1"
    assert "not an arXiv id" in skipped.reason
    assert stored_ids(store) == ["0704.0716"]  # the deleted one is neither stored nor reported


@pytest.mark.parametrize("body", ["html", "truncated"])
def test_page_that_is_not_xml_is_unusable(
    store: Store, replay: ReplayServer, captures: Path, body: str
) -> None:
    if body == "html":  # arXiv's "Retry after" HTML page, with status 200
        content, problem = recording(captures, RETRY_RECORDING)[0].body, "not an OAI-PMH response"
    else:  # a page cut off half-way
        whole = (captures / RAW_PAGE).read_bytes()
        content, problem = whole[: len(whole) // 2], "not XML"
    replay.add("/oai", Response(200, content, {"Content-Type": "text/xml"}))
    sleeps = Sleeps()
    with pytest.raises(SourceUnusable, match=f"{problem} .*after 3 attempts") as raised:
        run_harvest(store, replay, categories=["cs.CL"], retries=2, sleeps=sleeps)
    assert f"{replay.base_url}/oai?verb=ListRecords" in str(raised.value)
    assert len(replay.requests) == 3 and len(sleeps) == 2
    assert stored_ids(store) == []


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """Make the CLI's fetcher record its waits instead of sleeping."""
    recorded = Sleeps()
    original = source_http.make_fetcher

    def recording_fetcher(settings: Settings, sleep: object = None) -> Fetcher:
        return original(settings, sleep=recorded)

    monkeypatch.setattr(source_http, "make_fetcher", recording_fetcher)
    return recorded


def test_cli_harvest_with_503(
    cli: CliRunner, store: Store, replay: ReplayServer, captures: Path, sleeps: Sleeps
) -> None:
    replay.add("/oai", *recording(captures, RETRY_RECORDING), query={"verb": "ListRecords"})
    args = ["ingest", "arxiv", "--base-url", f"{replay.base_url}/oai", "--categories", "cs.DM",
            "--from", "2015-01-01", "--until", "2015-01-03"]  # fmt: skip
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 unchanged, 0 skipped" in result.stdout
    assert sleeps == [10.0]
    assert replay.requests[-1][1] == {
        "verb": "ListRecords", "metadataPrefix": "arXiv", "set": "cs",
        "from": "2015-01-01", "until": "2015-01-03",
    }  # fmt: skip
    again = cli.invoke(app, args)
    assert "0 new, 0 updated, 1 unchanged, 0 skipped" in again.stdout
    # With --until given, the next default start is the day after it.
    assert state(store, "oai-done:cs") == {"next_from": "2015-01-04"}
    with store.read() as connection:
        assert count_papers(connection).papers == 1


def test_cli_default_from_and_resume_without_from(
    cli: CliRunner,
    store: Store,
    replay: ReplayServer,
    captures: Path,
    sleeps: Sleeps,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAILYPAPERS_HTTP_RETRIES", "0")
    monkeypatch.setenv("DAILYPAPERS_CATEGORIES", "math.AG,math.MP")
    monkeypatch.setattr(oaipmh, "_today", lambda: date(2026, 1, 15))
    serve_two_pages(replay, captures, Response(502, b"Bad Gateway"))
    args = ["ingest", "arxiv", "--base-url", f"{replay.base_url}/oai", "--metadata-prefix",
            "arXivRaw"]  # fmt: skip
    killed = cli.invoke(app, args)
    assert killed.exit_code == 1
    assert killed.stderr.strip().count("\n") == 0 and "HTTP 502" in killed.stderr
    assert replay.requests[0][1]["from"] == "2026-01-12"  # no state yet: 3 days back

    replay.add("/oai", xml(captures, LAST_PAGE), query={"resumptionToken": RAW_TOKEN})
    already = len(replay.requests)
    resumed = cli.invoke(app, args)  # no --from: the unfinished harvest goes on
    assert resumed.exit_code == 0, resumed.output
    assert replay.requests[already][1] == {"verb": "ListRecords", "resumptionToken": RAW_TOKEN}
    assert "0 new, 0 updated, 0 unchanged, 0 skipped" in resumed.stdout  # page 2 has no math
    assert stored_ids(store) == ["0704.0716", "0704.0874"]

    already = len(replay.requests)
    assert cli.invoke(app, args).exit_code == 0
    assert replay.requests[already][1]["from"] == "2015-01-06"  # the last response's date


def test_cli_oai_error_exits_1_with_one_line(
    cli: CliRunner, store: Store, replay: ReplayServer, captures: Path
) -> None:
    replay.add("/oai", xml(captures, "saelim_error_badArgument.xml"))
    url = f"{replay.base_url}/oai"
    result = cli.invoke(app, ["ingest", "arxiv", "--base-url", url, "--from", "2025-01-01"])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"error: {url}?verb=ListRecords")
    assert "OAI-PMH error badArgument: Verb 'ListRecords', illegal argument 'identifier'." in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-13-01"], "--from '2025-13-01': expected a date as YYYY-MM-DD"),
        (["--until", "yesterday"], "--until 'yesterday': expected a date"),
        (["--from", "2025-02-01", "--until", "2025-01-01"], "is after --until"),
        (["--metadata-prefix", "marc21"], "choose arXiv or arXivRaw"),
        (["--categories", "cs.CL,bio.XX"], "unknown arXiv archive 'bio'"),
    ],
)
def test_cli_bad_usage_exits_2(
    cli: CliRunner, args: list[str], message: str, replay: ReplayServer
) -> None:
    result = cli.invoke(app, ["ingest", "arxiv", "--base-url", f"{replay.base_url}/oai", *args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.strip().count("\n") == 0
    assert replay.requests == []


def test_cli_unreachable_server_exits_1(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps
) -> None:
    monkeypatch.setenv("DAILYPAPERS_HTTP_RETRIES", "1")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli.invoke(app, ["ingest", "arxiv", "--base-url", f"http://127.0.0.1:{port}/oai"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0
    assert "ConnectError" in result.stderr and "after 2 attempts" in result.stderr
    assert len(sleeps) == 1


def test_cli_help_documents_the_default_from(cli: CliRunner) -> None:
    result = cli.invoke(app, ["ingest", "arxiv", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "3 days ago" in result.stdout and "--metadata-prefix" in result.stdout
