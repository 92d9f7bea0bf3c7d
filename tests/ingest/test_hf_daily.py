"""`dailypapers ingest hf-daily`: real Hugging Face captures and featured-paper records.

The /api/daily_papers array (30 items, 2026-06-12), a single /api/papers/{id} object, and the
9,130-line featured-records JSON Lines file, plus small bad files written here.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest import hf_daily
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import SourceUnusable, ingest
from dailypapers.paper import Link, make_record
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper, upsert_papers


@pytest.fixture
def daily(shared_data: Path) -> Path:
    return shared_data / "arxiv-responses" / "hf-api" / "sotawhat_daily_papers_2026-06-12.json"


@pytest.fixture
def single(shared_data: Path) -> Path:
    return shared_data / "arxiv-responses" / "hf-api" / "fastpaper_papers_2608.09888.json"


@pytest.fixture
def featured(shared_data: Path) -> Path:
    return shared_data / "hf-daily-papers" / "deepdiver_featured.jsonl"


def test_daily_papers_array(cli: CliRunner, store: Store, daily: Path) -> None:
    result = cli.invoke(app, ["ingest", "hf-daily", str(daily)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{daily}: 30 new, 0 updated, 0 unchanged, 0 skipped"
    with store.read() as connection:
        arena = get_paper(connection, "2606.13681")
        quiet = get_paper(connection, "2606.00467")
        comma = get_paper(connection, "2606.07867")
        in_abstract = get_paper(connection, "2606.12488")
        # 16 items have githubRepo; one more names its repository only in the abstract.
        assert count_papers(connection).with_code == 17
    assert arena and quiet and comma and in_abstract
    assert in_abstract.github_repo is None
    assert Link("code", "https://github.com/miccunifi/iamcl2r") in in_abstract.links
    assert arena.title == (
        "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments"
    )
    assert len(arena.authors) == 14
    assert arena.authors[:2] == ("Jundong Xu", "Qingchuan Li")
    assert arena.authors[-1] == "Zhiyuan Hu"
    assert (arena.hf_upvotes, arena.github_stars, arena.hf_comments) == (118, 9, 3)
    assert arena.github_repo == "https://github.com/Aiden0526/EvoArena"
    assert (arena.featured_on, arena.featured_by) == (date(2026, 6, 12), "Zhiyuan Hu")
    assert arena.submitted_at == datetime(2026, 6, 11)
    assert Link("code", "https://github.com/Aiden0526/EvoArena") in arena.links
    assert Link("project", "https://aiden0526.github.io/EvoArena/") in arena.links
    assert (quiet.hf_upvotes, quiet.github_repo, quiet.featured_by) == (0, None, "Rafal Kocielnik")
    assert quiet.abstract is not None and quiet.abstract.startswith("Large Language Models")
    assert comma.featured_by == "Chung-En, Sun"
    # The user name is kept beside the full name, with the avatar and account type.
    assert (quiet.featured_by_user, quiet.featured_by_type) == ("RKocielnik", "user")
    assert quiet.featured_by_avatar and quiet.featured_by_avatar.startswith("https://cdn-avatars.")


def test_single_paper_object(cli: CliRunner, store: Store, single: Path) -> None:
    result = cli.invoke(app, ["ingest", "hf-daily", str(single)])
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 unchanged, 0 skipped" in result.stdout
    with store.read() as connection:
        paper = get_paper(connection, "2608.09888")
    assert paper is not None
    assert paper.title == "BDH-CQ: In-Context Learning with Recurrent Latent Reasoning"
    assert paper.authors[:2] == ("Björn Engdahl", "Adrian Kosowski")
    assert paper.authors[4:6] == ("Przemysław Uznański", "Junlin Jiang")
    assert len(paper.authors) == 9
    assert (paper.hf_upvotes, paper.github_stars) == (782, 11184)
    assert (paper.featured_on, paper.featured_by) == (date(2026, 8, 11), "Jan Chorowski")
    assert paper.featured_by_user == "janchorowski"
    assert paper.submitted_at == datetime(2026, 8, 10)
    kinds = {link.kind: link.url for link in paper.links}
    assert kinds["code"] == "https://github.com/pathwaycom/arc-task-gen"
    assert kinds["project"].startswith("https://pathway.com/blog/")


def test_featured_records_json_lines(store: Store, featured: Path) -> None:
    summary = ingest(store, "hf-daily", str(featured), HfDailySource(featured))
    # 9,130 lines, 9,111 distinct ids: the 19 repeats change nothing.
    assert summary.line() == "9111 new, 0 updated, 19 unchanged, 0 skipped"
    with store.read() as connection:
        first = get_paper(connection, "2310.19909")
        repeated = get_paper(connection, "2404.03648")
        assert count_papers(connection).papers == 9111
    assert first is not None and repeated is not None
    assert first.title.startswith("Battle of the Backbones: A Large-Scale Comparison")
    assert first.featured_on == date(2023, 10, 30)
    assert first.authors == ()  # first_author alone would replace a full author list
    assert repeated.featured_on == date(2024, 4, 5)  # featured twice: the first day counts
    again = ingest(store, "hf-daily", str(featured), HfDailySource(featured))
    assert again.line() == "0 new, 0 updated, 9130 unchanged, 0 skipped"


def test_featuring_keeps_what_arxiv_gave(store: Store, tmp_path: Path) -> None:
    with store.write() as connection:
        upsert_papers(
            connection,
            [make_record("2310.19909v2", "Battle of the Backbones", authors=["A", "B", "C"])],
        )
    path = tmp_path / "featured.jsonl"
    line = {"date": "2023-10-30", "arxiv_id": "2310.19909", "title": "Battle of the Backbones",
            "first_author": "A", "hf_url": "https://huggingface.co/papers/2310.19909"}  # fmt: skip
    path.write_text(json.dumps(line) + "\n")
    assert ingest(store, "hf-daily", str(path), HfDailySource(path)).counts.updated == 1
    with store.read() as connection:
        paper = get_paper(connection, "2310.19909")
    assert paper is not None
    assert (paper.authors, paper.version, paper.featured_on) == (
        ("A", "B", "C"), 2, date(2023, 10, 30),
    )  # fmt: skip


def test_bad_items_are_skipped_with_their_position(
    cli: CliRunner, store: Store, tmp_path: Path
) -> None:
    items = [
        {"paper": {"id": "2606.00001", "title": "Good", "upvotes": 3}},
        {"paper": {"title": "No id"}},
        {"paper": {"id": "2606.00003", "title": "Bad votes", "upvotes": "many"}},
        "not an object",
        {"paper": {"id": "2606.00005", "title": "Bad day", "submittedOnDailyAt": "yesterday"}},
    ]
    path = tmp_path / "day.json"
    path.write_text(json.dumps(items, indent=2))
    result = cli.invoke(app, ["ingest", "hf-daily", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 unchanged, 4 skipped" in result.stdout
    assert "skipped day.json item 2: record has no arXiv id" in result.stderr
    assert "skipped day.json item 3: 'upvotes' is str, not int" in result.stderr
    assert "skipped day.json item 4: expected a JSON object, got str" in result.stderr
    assert "skipped day.json item 5: 'submittedOnDailyAt' is not an ISO date" in result.stderr


def test_bad_json_lines_are_skipped(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "featured.jsonl"
    path.write_text(
        '{"date": "2025-01-02", "arxiv_id": "2501.00001", "title": "One"}\n'
        "\n"
        '{"date": "2025-01-02", "arxiv_id": "2501.000'  # cut off mid-line
        '\n{"date": "2025-01-03", "arxiv_id": "2501.00003", "title": "Three"}\n'
    )
    summary = ingest(store, "hf-daily", str(path), HfDailySource(path))
    assert summary.line() == "2 new, 0 updated, 0 unchanged, 1 skipped"
    assert summary.skipped_records[0].where == "featured.jsonl line 3"
    assert summary.skipped_records[0].reason.startswith("invalid JSON")


def test_unusable_files_exit_1_in_one_line(cli: CliRunner, store: Store, tmp_path: Path) -> None:
    not_json = tmp_path / "page.html"
    not_json.write_text("<!doctype html>\n<html><body>Daily Papers</body></html>\n")
    half = tmp_path / "half.json"
    half.write_text('[{"paper": {"id": "2606.00001", "title": "Cut')
    for path, message in [
        (not_json, "no readable paper (invalid JSON"),
        (half, "not JSON ("),
        (tmp_path / "missing.json", "no such file"),
    ]:
        result = cli.invoke(app, ["ingest", "hf-daily", str(path)])
        assert result.exit_code == 1, path
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_huge_document_is_refused(
    daily: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hf_daily, "MAX_DOCUMENT_BYTES", 1024)
    with pytest.raises(SourceUnusable, match="a JSON document over .*JSON Lines"):
        HfDailySource(daily)


def test_second_cli_run_changes_nothing(
    cli: CliRunner, store: Store, daily: Path, single: Path
) -> None:
    assert cli.invoke(app, ["ingest", "hf-daily", str(daily), str(single)]).exit_code == 0
    again = cli.invoke(app, ["ingest", "hf-daily", str(daily), str(single)])
    assert f"{daily}: 0 new, 0 updated, 30 unchanged, 0 skipped" in again.stdout
    assert f"{single}: 0 new, 0 updated, 1 unchanged, 0 skipped" in again.stdout
