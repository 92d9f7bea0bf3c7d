"""`dailypapers ingest file`: both JSON Lines formats, bad lines, idempotency, unusable files."""

from __future__ import annotations

import gzip
import shutil
import zlib
from datetime import date, datetime
from pathlib import Path

from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.paper import Link
from dailypapers.store import Store
from dailypapers.store.papers import count_papers, get_paper

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_snapshot_format(cli: CliRunner, store: Store) -> None:
    result = cli.invoke(app, ["ingest", "file", str(FIXTURES / "snapshot_sample.jsonl")])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 unchanged, 0 skipped" in result.stdout
    with store.read() as connection:
        paper = get_paper(connection, "2401.00001")
        old = get_paper(connection, "hep-th/9901001")
        fallback = get_paper(connection, "2401.00003")
    assert paper is not None and old is not None and fallback is not None
    assert paper.title == "Consistency Regularization for Self-Rewarding Language Models"
    assert paper.authors == ("Ada Example", "Bo Sample", "C. D. Tester Jr")
    assert paper.categories == ("cs.CL", "cs.LG")
    assert paper.version == 2
    assert paper.submitted_at == datetime(2024, 1, 1, 10, 0)
    assert paper.updated_at == datetime(2024, 2, 2, 11, 30)
    assert (paper.journal_ref, paper.doi) == ("Proc. Example Conf. 2024", "10.1234/example.2024.1")
    assert Link("code", "https://github.com/example-lab/crsr") in paper.links
    assert Link("project", "https://example-lab.github.io/crsr/") in paper.links
    assert old.categories == ("hep-th", "math-ph", "math.MP")
    assert fallback.authors == ("First Author", "Second Author")


def test_bad_lines_are_reported_and_skipped(cli: CliRunner, store: Store) -> None:
    path = FIXTURES / "listing_with_bad_lines.jsonl"
    result = cli.invoke(app, ["ingest", "file", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 new, 0 updated, 0 unchanged, 5 skipped" in result.stdout
    for line in (2, 4, 5, 6, 8):
        assert f"skipped listing_with_bad_lines.jsonl line {line}:" in result.stderr
    assert "no title" in result.stderr and "not an arXiv id" in result.stderr
    with store.read() as connection:
        paper = get_paper(connection, "2503.10001")
    assert paper is not None
    assert paper.first_listed_on == date(2025, 3, 18)
    assert paper.categories == ("cs.AI", "cs.LG")
    assert Link("code", "https://github.com/ours/listing") in paper.links


def test_second_run_changes_nothing(cli: CliRunner, store: Store, tmp_path: Path) -> None:
    packed = tmp_path / "sample.jsonl.gz"
    with open(FIXTURES / "snapshot_sample.jsonl", "rb") as plain, gzip.open(packed, "wb") as gz:
        shutil.copyfileobj(plain, gz)
    assert cli.invoke(app, ["ingest", "file", str(packed)]).exit_code == 0
    with store.read() as connection:
        before = connection.exec_driver_sql("SELECT arxiv_id, updated_at FROM papers").all()
    again = cli.invoke(app, ["ingest", "file", str(FIXTURES / "snapshot_sample.jsonl")])
    assert "0 new, 0 updated, 3 unchanged, 0 skipped" in again.stdout
    with store.read() as connection:
        after = connection.exec_driver_sql("SELECT arxiv_id, updated_at FROM papers").all()
        assert count_papers(connection).papers == 3
    assert sorted(before) == sorted(after)


def test_forced_format_rejects_the_other(cli: CliRunner, store: Store) -> None:
    path = FIXTURES / "snapshot_sample.jsonl"
    result = cli.invoke(app, ["ingest", "file", "--format", "listing", str(path)])
    # Forced to "listing", snapshot records have no usable fields: the file is unusable.
    assert result.exit_code == 1
    assert "error:" in result.stderr
    bad = cli.invoke(app, ["ingest", "file", "--format", "csv", str(path)])
    assert bad.exit_code == 2 and "--format 'csv'" in bad.stderr


def test_missing_file_exits_1_with_one_line(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["ingest", "file", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.jsonl'}: no such file"]


def test_not_json_lines_exits_1(cli: CliRunner, tmp_path: Path, store: Store) -> None:
    pretty = tmp_path / "array.json"
    pretty.write_text('[\n  {"id": "2501.00001",\n   "title": "x"}\n]\n')
    binary = tmp_path / "paper.pdf"
    binary.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress((FIXTURES / "snapshot_sample.jsonl").read_bytes())[:-30])
    for path in (pretty, binary):
        result = cli.invoke(app, ["ingest", "file", str(path)])
        assert result.exit_code == 1, result.output
        assert result.stderr.strip().splitlines()[-1].startswith(f"error: {path}")
    cut = cli.invoke(app, ["ingest", "file", str(truncated)])
    assert cut.exit_code == 1 and "damaged after line" in cut.stderr


def test_a_truncated_gz_keeps_the_records_before_the_damage(
    cli: CliRunner, tmp_path: Path, store: Store, shared_data: Path
) -> None:
    listing = shared_data / "arxiv-daily-listings" / "papers.jsonl.gz"
    with gzip.open(listing, "rb") as whole:
        lines = [whole.readline() for _ in range(400)]
    packed = gzip.compress(b"".join(lines))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    # What a reader can get out of the first half: the whole lines before the damage.
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(packed[: len(packed) // 2])
    whole_lines = readable.count(b"\n")
    assert 50 < whole_lines < 400

    result = cli.invoke(app, ["ingest", "file", str(cut)])
    assert result.exit_code == 1, result.output
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"error: {cut}: damaged after line {whole_lines}")
    assert f"{whole_lines} new" in message
    with store.read() as connection:
        assert count_papers(connection).papers == whole_lines
    stats = cli.invoke(app, ["stats", "--json"])
    import json

    assert json.loads(stats.stdout)["last_runs"]["file"]["status"] == "failed"


def test_stats_reports_the_run(cli: CliRunner, store: Store) -> None:
    cli.invoke(app, ["ingest", "file", str(FIXTURES / "listing_with_bad_lines.jsonl")])
    result = cli.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0
    import json

    report = json.loads(result.stdout)
    assert report["papers"] == 2
    assert report["authors"] == 3
    assert report["papers_with_code"] == 1
    assert report["last_runs"]["file"]["status"] == "ok"
    assert report["last_runs"]["file"]["skipped"] == 5
