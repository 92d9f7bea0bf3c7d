"""`dailypapers index`, `search` and `eval beir` from the command line, on real indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def indexed(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, settings_env: Path) -> Path:
    """The snapshot sample ingested, with the index updated by the ingest itself."""
    monkeypatch.setenv("DAILYPAPERS_INDEX_AFTER_INGEST", "true")
    get_settings.cache_clear()
    result = cli.invoke(app, ["ingest", "file", str(FIXTURES / "snapshot_sample.jsonl")])
    assert result.exit_code == 0, result.output
    assert "lexical index rebuilt: 3 papers; 3 papers embedded; dense index: 3 papers" in (
        result.stdout
    )
    return settings_env


def test_search_json(cli: CliRunner, indexed: Path) -> None:
    result = cli.invoke(app, ["search", "consistency self-rewarding", "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["query"], payload["mode"], payload["used_mode"]) == (
        "consistency self-rewarding", "hybrid", "hybrid",
    )  # fmt: skip
    assert len(payload["results"]) == 2
    assert payload["results"][0]["id"] == "2401.00001"
    assert set(payload["results"][0]) == {"id", "title", "score", "snippet"}


def test_search_modes_and_ids(cli: CliRunner, indexed: Path) -> None:
    for mode in ("lexical", "dense", "hybrid"):
        result = cli.invoke(app, ["search", "hep-th/9901001v2", "--mode", mode, "--json"])
        assert json.loads(result.stdout)["results"][0]["id"] == "hep-th/9901001"
    human = cli.invoke(app, ["search", "Authors Without authors_parsed"])
    assert human.stdout.startswith("  1. 2401.00003")
    nothing = cli.invoke(app, ["search", "--mode", "lexical", "--", "-everything"])
    assert nothing.exit_code == 0 and "no papers found" in nothing.stdout
    bad = cli.invoke(app, ["search", "x", "--mode", "fuzzy"])
    assert bad.exit_code == 2 and "--mode 'fuzzy'" in bad.stderr


def test_index_is_incremental_and_rebuilds_what_is_broken(cli: CliRunner, indexed: Path) -> None:
    again = cli.invoke(app, ["index"])
    assert again.exit_code == 0
    assert "lexical index updated: 3 papers; 0 papers embedded; dense index: 3 papers" in (
        again.stdout
    )
    (indexed / "index" / "lexical-v1" / "params.json").write_text("{not json")
    for current in (indexed / "index").glob("dense-*/CURRENT"):
        current.write_text("build-that-does-not-exist\n")
    result = cli.invoke(app, ["search", "old-style identifier", "--json"])
    assert json.loads(result.stdout)["results"][0]["id"] == "hep-th/9901001"
    assert json.loads(result.stdout)["used_mode"] == "hybrid"


def test_no_index_option(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILYPAPERS_INDEX_AFTER_INGEST", "true")
    get_settings.cache_clear()
    path = str(FIXTURES / "snapshot_sample.jsonl")
    result = cli.invoke(app, ["ingest", "--no-index", "file", path])
    assert result.exit_code == 0 and "lexical index" not in result.stdout


def test_eval_beir_on_a_tiny_dataset(cli: CliRunner, settings_env: Path) -> None:
    args = ["eval", "beir", str(FIXTURES / "beir-tiny"), "--split", "test", "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["dataset"], report["split"], report["queries"]) == ("beir-tiny", "test", 3)
    # q3 shares no word with its document: keyword search finds 2 of 3, ranked first.
    assert report["modes"]["lexical"] == {"ndcg@10": 0.6667, "recall@100": 0.6667}
    assert report["modes"]["dense"]["recall@100"] == 1.0
    assert report["modes"]["hybrid"]["recall@100"] == 1.0
    assert report["modes"]["hybrid"]["ndcg@10"] > report["modes"]["lexical"]["ndcg@10"]
    cached = list((settings_env / "cache" / "beir").glob("*.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    assert json.loads(cli.invoke(app, args).stdout)["modes"] == report["modes"]
    assert cached[0].stat().st_mtime_ns == stamp  # the second run used the cache
    assert not (settings_env / "dailypapers.sqlite3").exists()  # the site's data is untouched


def test_eval_beir_errors(cli: CliRunner, tmp_path: Path) -> None:
    missing = cli.invoke(app, ["eval", "beir", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1
    no_split = cli.invoke(app, ["eval", "beir", str(FIXTURES / "beir-tiny"), "--split", "dev"])
    assert no_split.exit_code == 1 and "dev.tsv: no such file" in no_split.stderr
    bad_split = cli.invoke(app, ["eval", "beir", str(FIXTURES / "beir-tiny"), "--split", "x"])
    assert bad_split.exit_code == 2


def test_search_filters_sort_and_snippets(cli: CliRunner, indexed: Path) -> None:
    def found(*options: str) -> list[str]:
        query = "identifier authors regularization"
        result = cli.invoke(app, ["search", query, "--json", *options])
        assert result.exit_code == 0, result.output
        return [hit["id"] for hit in json.loads(result.stdout)["results"]]

    assert found("--category", "hep-th") == ["hep-th/9901001"]
    assert set(found("--category", "cs.CV", "--category", "cs.CL")) == {"2401.00001", "2401.00003"}
    assert found("--code") == ["2401.00001"]
    assert found("--author", "o. timer") == ["hep-th/9901001"]
    assert found("--since", "2024-01-02", "--until", "2024-12-31") == ["2401.00003"]
    assert found("--sort", "newest")[0] == "2401.00003"
    result = cli.invoke(app, ["search", "self-rewarding", "--json", "--limit", "1"])
    snippet = json.loads(result.stdout)["results"][0]["snippet"]
    assert "<mark>self</mark>-<mark>rewarding</mark>" in snippet.lower()
    human = cli.invoke(app, ["search", "self-rewarding", "--limit", "1"])
    assert "*self*-*rewarding*" in human.stdout.lower()
    for bad in (["--since", "yesterday"], ["--sort", "best"]):
        result = cli.invoke(app, ["search", "x", *bad])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1
