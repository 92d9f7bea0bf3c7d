"""`dailypapers ingest rss`: both arXiv feed formats, replayed by a real HTTP server.

The RSS 2.0 capture (2026-09-24) has new, cross and replace items; the RSS 1.0/RDF capture
(cs, 2018-08-30) has 111 new items and 74 "UPDATED" ones.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.rss import fetch_feed
from dailypapers.ingest.run import SourceUnusable, Summary, ingest
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper, upsert_papers
from tests.support.replay import ReplayServer, Response

NEW_FORMAT = "layareader_new-format_rss_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed.xml"
OLD_FORMAT = "nimrss_old-format_rdf_cs_2018-08-30.rdf.xml"
COMBINED = ["cs.LG", "cs.AI", "cs.CL", "stat.ML"]

# Written by us: an item with no arXiv id between two good ones, in the RSS 2.0 shape.
MALFORMED = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
     version="2.0"><channel><title>cs.CL updates on arXiv.org</title>
<pubDate>Mon, 03 Mar 2025 00:00:00 -0500</pubDate>
<item><title>A Good Paper</title><link>https://arxiv.org/abs/2503.00001</link>
<description>arXiv:2503.00001v1 Announce Type: new
Abstract: We test. Code: https://github.com/ours/good</description>
<category>cs.CL</category><arxiv:announce_type>new</arxiv:announce_type>
<dc:creator>Ada Example, Bo Sample</dc:creator></item>
<item><title>No Identifier</title><description>Just text.</description></item>
<item><title></title><description>arXiv:2503.00003v1 Announce Type: new
Abstract: No title.</description></item>
<item><title>Replaced Paper</title><description>arXiv:2502.00004v2 Announce Type: replace-cross
Abstract: Second version.</description><category>cs.LG</category>
<arxiv:announce_type>replace-cross</arxiv:announce_type><dc:creator>Cy Author</dc:creator></item>
</channel></rss>
"""


def capture(shared_data: Path, name: str) -> bytes:
    return (shared_data / "arxiv-responses" / "rss" / name).read_bytes()


def serve(replay: ReplayServer, categories: list[str], body: bytes) -> None:
    headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
    replay.add("/rss/" + "+".join(categories), Response(200, body, headers))


def run(store: Store, replay: ReplayServer, categories: list[str]) -> Summary:
    fetcher = Fetcher(retries=0)
    try:
        return ingest(
            store, "rss", "test", fetch_feed(categories, fetcher, replay.base_url + "/rss")
        )
    finally:
        fetcher.close()


def test_new_format_new_cross_and_replace(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, COMBINED, capture(shared_data, NEW_FORMAT))
    assert run(store, replay, COMBINED).line() == "4 new, 0 updated, 0 unchanged, 0 skipped"
    assert [path for path, _query in replay.requests] == ["/rss/cs.LG+cs.AI+cs.CL+stat.ML"]
    with store.read() as connection:
        drift = get_paper(connection, "2609.26811")
        signal = get_paper(connection, "2609.26820")
        cross = get_paper(connection, "2205.06398")
        replaced = get_paper(connection, "2009.13987")
    assert drift and signal and cross and replaced
    assert drift.title == "The Drift Contract: Spectral Updates for Depth-Robust Local Learning"
    assert (drift.version, drift.authors, drift.categories) == (1, ("Fabien Polly",), ("cs.LG",))
    assert drift.abstract is not None and drift.abstract.startswith("Local learning trains")
    assert drift.first_listed_on == date(2026, 9, 24)
    assert signal.authors == ("Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan")
    assert signal.categories == ("cs.LG", "cs.AI")
    assert cross.first_listed_on == date(2026, 9, 24)  # a cross-list is listed that day too
    assert (cross.version, cross.doi) == (2, "10.1093/bioinformatics/btac431")
    assert cross.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert replaced.first_listed_on is None  # a replacement was listed before
    assert replaced.version == 3
    assert replaced.categories == ("cs.LG", "math.MG", "stat.ML")
    assert replaced.authors == ("Michael Joswig", "Marek Kaluba", "Lukas Ruff")
    assert replaced.abstract is not None and replaced.abstract.startswith("We introduce a class")


def test_replacement_updates_content_but_keeps_listing_day(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    earlier = make_record(
        "2009.13987v2", "Random Polytopes", abstract="Old abstract.",
        first_listed_on=date(2020, 9, 30),
    )  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, [earlier])
    serve(replay, COMBINED, capture(shared_data, NEW_FORMAT))
    assert run(store, replay, COMBINED).line() == "3 new, 1 updated, 0 unchanged, 0 skipped"
    with store.read() as connection:
        paper = get_paper(connection, "2009.13987")
    assert paper is not None
    assert (paper.version, paper.title) == (3, "Random Polytope Descriptors")
    assert paper.first_listed_on == date(2020, 9, 30)


def test_old_rdf_format(store: Store, replay: ReplayServer, shared_data: Path) -> None:
    serve(replay, ["cs"], capture(shared_data, OLD_FORMAT))
    assert run(store, replay, ["cs"]).line() == "185 new, 0 updated, 0 unchanged, 0 skipped"
    with store.read() as connection:
        quasar = get_paper(connection, "1808.09955")
        question = get_paper(connection, "1806.02908")
        updated = get_paper(connection, "1808.09902")
        listed = connection.exec_driver_sql(
            "SELECT first_listed_on, COUNT(*) FROM papers GROUP BY first_listed_on"
        ).all()
    assert quasar and question and updated
    assert quasar.title == (
        "QuasarNET: Human-level spectral classification and redshifting with Deep Neural Networks"
    )
    assert quasar.authors == ("Nicolas Busca", "Christophe Balland")
    assert quasar.categories == ("astro-ph.IM",)
    assert quasar.version == 1
    assert quasar.abstract is not None
    assert quasar.abstract.startswith("We introduce QuasarNET, a deep convolutional")
    assert "<" not in quasar.abstract and "  " not in quasar.abstract
    # The mailing of the evening of 30 August 2018 is arXiv's listing of 31 August.
    assert quasar.first_listed_on == date(2018, 8, 31)
    assert question.title.endswith("for online comment classification?")
    assert (updated.version, updated.categories, updated.first_listed_on) == (2, ("stat.ML",), None)
    days = {str(day)[:10] if day else None: n for day, n in listed}
    assert days == {"2018-08-31": 111, None: 74}


def test_malformed_items_are_skipped_with_their_position(
    store: Store, replay: ReplayServer
) -> None:
    serve(replay, ["cs.CL"], MALFORMED)
    summary = run(store, replay, ["cs.CL"])
    assert summary.line() == "2 new, 0 updated, 0 unchanged, 2 skipped"
    assert [s.where for s in summary.skipped_records] == ["item 2", "item 3"]
    assert "no title" in summary.skipped_records[1].reason
    with store.read() as connection:
        good = get_paper(connection, "2503.00001")
        replaced = get_paper(connection, "2502.00004")
    assert good is not None and replaced is not None
    assert good.first_listed_on == date(2025, 3, 3)
    assert good.authors == ("Ada Example", "Bo Sample")
    assert [link.url for link in good.links if link.kind == "code"] == [
        "https://github.com/ours/good"
    ]
    assert (replaced.version, replaced.first_listed_on) == (2, None)


def test_second_run_changes_nothing(store: Store, replay: ReplayServer, shared_data: Path) -> None:
    serve(replay, ["cs"], capture(shared_data, OLD_FORMAT))
    run(store, replay, ["cs"])
    assert run(store, replay, ["cs"]).line() == "0 new, 0 updated, 185 unchanged, 0 skipped"
    with store.read() as connection:
        assert count_papers(connection).papers == 185


def test_not_a_feed_is_unusable(store: Store, replay: ReplayServer) -> None:
    serve(replay, ["cs.CL"], b"Not Found: no such category")
    with pytest.raises(SourceUnusable, match="not an RSS or Atom feed"):
        run(store, replay, ["cs.CL"])


def test_cli_defaults_to_configured_categories(
    cli: CliRunner, store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    serve(replay, ["cs.AI", "cs.CL", "cs.CV", "cs.LG"], capture(shared_data, NEW_FORMAT))
    result = cli.invoke(app, ["ingest", "rss", "--base-url", replay.base_url + "/rss"])
    assert result.exit_code == 0, result.output
    feed = f"{replay.base_url}/rss/cs.AI+cs.CL+cs.CV+cs.LG"
    assert result.stdout.strip() == f"{feed}: 4 new, 0 updated, 0 unchanged, 0 skipped"


def test_cli_reports_skipped_items_and_exits_0(
    cli: CliRunner, store: Store, replay: ReplayServer
) -> None:
    serve(replay, ["cs.CL", "cs.LG"], MALFORMED)
    args = ["ingest", "rss", "cs.CL+cs.LG", "--base-url", replay.base_url + "/rss"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 new, 0 updated, 0 unchanged, 2 skipped" in result.stdout
    assert "skipped item 2: neither" in result.stderr
    assert "skipped item 3: 2503.00003: record has no title" in result.stderr


def test_cli_unusable_feed_and_bad_category(
    cli: CliRunner, store: Store, replay: ReplayServer
) -> None:
    serve(replay, ["cs.CL"], b"<html><body>Service Unavailable</body></html>")
    base = ["--base-url", replay.base_url + "/rss"]
    result = cli.invoke(app, ["ingest", "rss", "cs.CL", *base])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not an RSS or Atom feed" in result.stderr
    bad = cli.invoke(app, ["ingest", "rss", "cs.CL", "../etc", *base])
    assert bad.exit_code == 2 and "'../etc' is not an arXiv category" in bad.stderr
