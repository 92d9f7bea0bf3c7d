"""Hostile and broken records, kept fixed: each is skipped with its line, the rest stored.

Run on SQLite and PostgreSQL (the ``store`` fixture), through the command a user runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.paper import MAX_CHARS, InvalidRecord, PaperRecord, make_record, web_url
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper

HOSTILE_LINKS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "https://",
    'https://example.org/"><script>',
    "http://exa mple.org",
]


def _listing(arxiv_id: str, **fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": arxiv_id, "title": f"Paper {arxiv_id}", "summary": "An abstract.",
        "authors": ["A. Author"], "categories": ["cs.CL"], "listing_dates": ["2026-06-12"],
    }  # fmt: skip
    return record | fields


def _paper(store: Store, arxiv_id: str) -> PaperRecord:
    with store.read() as connection:
        paper = get_paper(connection, arxiv_id)
    assert paper is not None, arxiv_id
    return paper


def test_hf_links_other_than_http_are_not_stored(
    cli: CliRunner, store: Store, tmp_path: Path
) -> None:
    items = [
        {"paper": {"id": f"2606.{i:05d}", "title": f"Paper {i}", "projectPage": link,
                   "githubRepo": link}}
        for i, link in enumerate(HOSTILE_LINKS, start=1)
    ]  # fmt: skip
    path = tmp_path / "day.json"
    path.write_text(json.dumps(items))
    result = cli.invoke(app, ["ingest", "hf-daily", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{len(HOSTILE_LINKS)} new" in result.stdout  # the papers stay, without the links
    for i in range(1, len(HOSTILE_LINKS) + 1):
        paper = _paper(store, f"2606.{i:05d}")
        assert paper.project_page is None and paper.github_repo is None
        assert {link.kind for link in paper.links} == {"abs", "pdf"}


def test_a_github_repo_without_scheme_is_kept_not_fatal(
    cli: CliRunner, store: Store, tmp_path: Path
) -> None:
    items = [
        {"paper": {"id": "2606.00001", "title": "Bare repo", "githubRepo": "github.com/a/b"}},
        {"paper": {"id": "2606.00002", "title": "Next one", "githubRepo": "no-host-here"}},
    ]
    path = tmp_path / "day.json"
    path.write_text(json.dumps(items))
    result = cli.invoke(app, ["ingest", "hf-daily", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.stdout
    first, second = _paper(store, "2606.00001"), _paper(store, "2606.00002")
    assert first.github_repo == "https://github.com/a/b"
    assert second.github_repo is None


def test_bad_lines_of_a_file_are_skipped_with_their_line(
    cli: CliRunner, store: Store, tmp_path: Path
) -> None:
    lines = [
        json.dumps(_listing("2606.00001")),
        '{"id": "2606.00002", "title": "\\ud800 lone", "summary": "x", "authors": ["\\udfff"]}',
        "[" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        json.dumps(_listing("2606.00005", authors="not a list")),
        json.dumps(_listing("2606.00006", categories="cs.CL")),
        json.dumps(_listing("2606.00007", title="T" * 1_000_000)),
        json.dumps(_listing("2606.00008", summary="S" * (MAX_CHARS["abstract"] + 1))),
        json.dumps(_listing("2606.00009", authors=[{"name": "x"}])),
        json.dumps(_listing("2606.00010", title="Title\x00 with\x07 NUL\x1b[31m and \x9b")),
        json.dumps(_listing("2606.00011", title=12345)),
        json.dumps(_listing("2606.00012")),
    ]
    path = tmp_path / "papers.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = cli.invoke(app, ["ingest", "file", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 new, 0 updated, 0 unchanged, 8 skipped" in result.stdout
    report = " ".join(result.stderr.split())  # as one line, however the console wrapped it
    for line in (3, 4, 5, 6, 7, 8, 9, 11):
        assert f"skipped papers.jsonl line {line}: " in report, line
    assert "nested too deeply" in report and "must be a list of texts" in report
    assert "longer than any real arXiv record" in report and "'title' is int" in report
    with store.read() as connection:
        assert count_papers(connection).papers == 4
    surrogate = _paper(store, "2606.00002")
    assert surrogate.title == "lone" and surrogate.authors == ()
    controls = _paper(store, "2606.00010")
    assert controls.title == "Title with NUL [31m and"


def test_a_directory_argument_says_so(cli: CliRunner, store: Store, tmp_path: Path) -> None:
    for command in ("file", "hf-daily"):
        result = cli.invoke(app, ["ingest", command, str(tmp_path)])
        assert result.exit_code == 1
        assert "is a directory" in result.stderr and "no such file" not in result.stderr
        missing = cli.invoke(app, ["ingest", command, str(tmp_path / "nope.jsonl")])
        assert missing.exit_code == 1 and "no such file" in missing.stderr


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_web_url_takes_only_http(link: str) -> None:
    assert web_url(link) is None
    record = make_record("2606.00001", "T", project_page=link, github_repo=link)
    assert record.project_page is None and record.github_repo is None


def test_web_url_keeps_real_links() -> None:
    for link in ("https://github.com/a/b", "http://example.org/x?y=1#z", "HTTPS://EX.org"):
        assert web_url(link) == link
    assert web_url("www.example.org/page") == "https://www.example.org/page"


def test_limits_are_above_every_real_record() -> None:
    # The measured maxima of the 74,728 real listings (see MAX_CHARS) fit with room to spare.
    measured = {"title": 226, "abstract": 3_488, "comment": 421, "author": 512}
    for name, longest in measured.items():
        assert MAX_CHARS[name] >= 4 * longest
    with pytest.raises(InvalidRecord, match="limit"):
        make_record("2606.00001", "T" * (MAX_CHARS["title"] + 1))
