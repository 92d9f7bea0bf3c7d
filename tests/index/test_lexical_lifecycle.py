"""The lexical index on disk: params.json, refusing damaged indexes, rebuilds, generations,
and incremental updates from the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import tantivy

from dailypapers.index.backends.local import LocalBackend
from dailypapers.index.lexical.index import (
    FORMAT,
    MAX_ADDED_SEGMENTS,
    PARAMS,
    REBUILD_MIN_AGE,
    IndexUnusable,
    LexicalIndex,
    Params,
    _ids,
    _now,
    _write_params,
    build,
    build_from_store,
    index_path,
    open_or_build,
    read_recent,
    rebuild_reason,
    record_checksums,
    update_from_store,
)
from dailypapers.index.lexical.schema import (
    NAMES,
    NO_NUMBER,
    STEMMED,
    id_number,
    number_id,
    register_analyzers,
)
from dailypapers.paper import make_record
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.documents import Document, iter_documents
from dailypapers.store.papers import upsert_papers
from tests.index.lexical_corpus import CORPUS, T0, doc


@pytest.fixture
def built(tmp_path: Path) -> Path:
    path = tmp_path / "lexical"
    build(path, CORPUS)
    return path


def segment_files(path: Path, suffix: str) -> list[Path]:
    generation = json.loads((path / PARAMS).read_text())["generation"]
    return sorted((path / generation).glob(f"*{suffix}"))


def test_build_writes_params_and_a_generation(built: Path) -> None:
    params = json.loads((built / PARAMS).read_text())
    assert params["format"] == FORMAT and params["doc_count"] == len(CORPUS)
    assert params["watermark"] == T0.isoformat()
    assert [p.name for p in built.iterdir() if p.is_dir()] == [params["generation"]]
    index = LexicalIndex.open(built)
    assert len(index) == len(CORPUS) and index.search("quasars")[0][0] == "2501.00008"


def test_index_path_is_the_layouts(settings_env: Path) -> None:
    """The folder is named by its layout, not by the format of its generations: an upgrade
    that changes the format rebuilds in place, beside the generation servers are reading."""
    assert index_path(settings_env) == settings_env / "index" / "lexical-v1"


@pytest.mark.parametrize("paper_id", ["2501.01234", "0704.0001", "1412.9999", "2612.99999"])
def test_new_style_ids_are_numbers_and_back(paper_id: str) -> None:
    assert id_number(paper_id) != NO_NUMBER and number_id(id_number(paper_id)) == paper_id


@pytest.mark.parametrize("number", [1, 12345678, 20250101234, 2501012340, 3 << 60])
def test_a_number_no_id_has_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match="not an id's number"):
        number_id(number)


@pytest.mark.parametrize(
    "paper_id", ["hep-th/9901001", "math.AG/0601001", "4983", "c12", "2501.123", "2501.123456"]
)
def test_other_ids_have_no_number(paper_id: str) -> None:
    assert id_number(paper_id) == NO_NUMBER


def test_hits_ids_with_and_without_numbers(tmp_path: Path) -> None:
    """Numbered ids are read from the fast field, the others from the stored documents:
    every hit's id is its stored one, in the order of the hits."""
    ids = ["2501.00001", "hep-th/9901001", "0704.0001", "c7", "2512.34567", "math.AG/0601001"]
    corpus = [doc(pid, f"Quasar survey {n}", "quasar " * (n + 1)) for n, pid in enumerate(ids)]
    index = build(tmp_path / "lexical", corpus)
    searcher = index._index.searcher()
    addresses = [a for _, a in searcher.search(tantivy.Query.all_query(), limit=10).hits]
    assert _ids(searcher, addresses) == [searcher.doc(a)["id"][0] for a in addresses]
    assert sorted(_ids(searcher, addresses)) == sorted(ids)
    found = index.search("quasar survey")
    assert sorted(pid for pid, _ in found) == sorted(ids)
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexUnusable, match="no lexical index"):
        LexicalIndex.open(tmp_path / "nothing")


@pytest.mark.parametrize(
    "text",
    ["", "{not json", "[]", '{"format": 1}', "\udcff", json.dumps({"format": FORMAT + 1})],
)
def test_bad_params(built: Path, text: str) -> None:
    (built / PARAMS).write_text(text, errors="surrogateescape")
    with pytest.raises(IndexUnusable):
        LexicalIndex.open(built)


def test_other_format_is_refused(built: Path) -> None:
    params = json.loads((built / PARAMS).read_text())
    (built / PARAMS).write_text(json.dumps(params | {"format": FORMAT + 1}))
    with pytest.raises(IndexUnusable, match="format"):
        LexicalIndex.open(built)


def test_doc_count_mismatch_is_refused(built: Path) -> None:
    params = json.loads((built / PARAMS).read_text())
    (built / PARAMS).write_text(json.dumps(params | {"doc_count": 3}))
    with pytest.raises(IndexUnusable, match="holds 9 papers"):
        LexicalIndex.open(built)


@pytest.mark.parametrize("suffix", [".term", ".idx", ".pos", ".store", ".fast", ".fieldnorm"])
@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_damaged_segment_is_refused_and_rebuilt(
    built: Path, suffix: str, damage: str, sqlite_store: Store
) -> None:
    target = segment_files(built, suffix)[0]
    if damage == "delete":
        target.unlink()
    else:
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.raises(IndexUnusable, match="tantivy cannot open"):
        LexicalIndex.open(built)
    with sqlite_store.write() as connection:
        upsert_papers(connection, [make_record("2502.00001", "Rebuilt from the store")])
    rebuilt = open_or_build(sqlite_store, built)
    assert [paper for paper, _ in rebuilt.search("rebuilt")] == ["2502.00001"]
    assert len(LexicalIndex.open(built)) == 1


def test_missing_generation_is_refused(built: Path) -> None:
    generation = json.loads((built / PARAMS).read_text())["generation"]
    (built / generation).rename(built / "elsewhere")
    with pytest.raises(IndexUnusable):
        LexicalIndex.open(built)


def test_rebuild_switches_readers_only_on_refresh(built: Path) -> None:
    reader = LexicalIndex.open(built)
    first = reader.params.generation
    build(built, [doc("2502.00002", "Second build")])
    assert reader.search("quasars")[0][0] == "2501.00008"  # still the old generation
    assert reader.refresh() is True
    assert reader.search("quasars") == [] and reader.search("second")[0][0] == "2502.00002"
    build(built, [doc("2502.00003", "Third build")])
    generations = {p.name for p in built.iterdir() if p.is_dir()}
    # The newest and the one before it (readers may still be on it); older ones go.
    assert first not in generations and len(generations) == 2


def test_failed_build_leaves_the_old_index(built: Path) -> None:
    def documents() -> Iterator[Document]:
        yield doc("2502.00004", "Half a build")
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        build(built, documents())
    index = LexicalIndex.open(built)
    assert len(index) == len(CORPUS) and index.search("half build") == []
    assert [p.name for p in built.iterdir() if p.name.startswith(".tmp")] == []


def test_failed_update_changes_nothing(built: Path) -> None:
    def documents() -> Iterator[Document]:
        yield doc("2501.00008", "Half an update")
        raise RuntimeError("the store went away")

    index = LexicalIndex.open(built)
    with pytest.raises(RuntimeError):
        index.update(documents())
    index.update([])
    assert index.search("half update") == [] and index.search("quasars")[0][0] == "2501.00008"
    assert len(LexicalIndex.open(built)) == len(CORPUS)


def build_format_1(path: Path, documents: list[tuple[str, str]]) -> None:
    """A generation as format 1 wrote it (ids stored, no ``id_number`` column)."""
    generation = "g-20250101T000000-format1"
    (path / generation).mkdir(parents=True)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name=STEMMED)
    builder.add_text_field("abstract", tokenizer_name=STEMMED)
    builder.add_text_field("authors", tokenizer_name=NAMES)
    builder.add_text_field("author_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", indexed=True, fast=True)
    builder.add_boolean_field("has_code", indexed=True, fast=True)
    index = tantivy.Index(builder.build(), path=str(path / generation), reuse=False)
    register_analyzers(index)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for paper_id, title in documents:
        writer.add_document(tantivy.Document(id=paper_id, title=title, has_code=False))
    writer.commit()
    writer.wait_merging_threads()
    record_checksums(path / generation)
    old = _now() - timedelta(days=30)
    _write_params(path, Params(1, len(documents), old, old, T0, generation))


def test_an_older_format_is_searched_until_the_job_rebuilds_it(
    sqlite_store: Store, settings_env: Path
) -> None:
    """An upgraded install keeps its keyword search: the older format is opened and
    searched (ids from the stored documents), never updated in place; the index job
    rebuilds it as a new generation, which a reader sees at its refresh."""
    settings = get_settings()
    with sqlite_store.write() as connection:
        upsert_papers(connection, [make_record("2504.00001", "Only paper")])
    path = index_path(settings.data_dir)
    build_format_1(path, [("2504.00001", "Only paper"), ("hep-th/9901001", "Older paper")])
    serving = LexicalIndex.open(path)
    assert serving.params.format == 1
    assert sorted(pid for pid, _ in serving.search("paper")) == ["2504.00001", "hep-th/9901001"]
    assert rebuild_reason(serving) == f"format 1 (this version writes {FORMAT})"
    with pytest.raises(IndexUnusable, match="format 1"):
        serving.update([doc("2504.00002", "Another paper")])
    updated = LocalBackend().update(sqlite_store, settings, None, lambda *_: None)
    assert updated.lexical_rebuilt and updated.lexical_papers == 1
    assert serving.search("older")[0][0] == "hep-th/9901001"  # the old generation, until...
    assert serving.refresh() and serving.params.format == FORMAT
    assert serving.search("paper") == LexicalIndex.open(path).search("paper")
    assert [pid for pid, _ in serving.search("paper")] == ["2504.00001"]
    assert rebuild_reason(serving) is None


def test_too_many_segments_are_rebuilt_into_one(sqlite_store: Store, settings_env: Path) -> None:
    """Each update of new papers writes a segment; past MAX_ADDED_SEGMENTS more than the
    build's, in a build older than REBUILD_MIN_AGE, the index job rebuilds instead (one
    segment), and not sooner."""
    settings = get_settings()
    path = index_path(settings.data_dir)
    papers = [
        make_record(f"2504.{n:05d}", f"Paper number {n}") for n in range(MAX_ADDED_SEGMENTS + 3)
    ]
    with sqlite_store.write() as connection:
        upsert_papers(connection, papers)
    index = build(path, [doc(papers[0].arxiv_id, papers[0].title)])
    for hours, paper in enumerate(papers[1:], start=1):  # a day's papers each, say
        index.update([doc(paper.arxiv_id, paper.title, updated_at=T0 + timedelta(hours=hours))])
    index = LexicalIndex.open(path)
    assert index.params.built_segments == 1 and len(index) == len(papers)
    assert index.segments > 1 + MAX_ADDED_SEGMENTS
    assert rebuild_reason(index) is None  # built just now
    later = index.params.built_at + REBUILD_MIN_AGE
    assert rebuild_reason(index, later) == f"{index.segments} segments"
    _write_params(path, replace(index.params, built_at=index.params.built_at - REBUILD_MIN_AGE))
    updated = LocalBackend().update(sqlite_store, settings, None, lambda *_: None)
    assert updated.lexical_rebuilt and updated.lexical_papers == len(papers)
    rebuilt = LexicalIndex.open(path)
    assert rebuilt.segments == rebuilt.params.built_segments == 1
    assert rebuild_reason(rebuilt) is None
    assert sorted(pid for pid, _ in rebuilt.search("paper number")) == [p.arxiv_id for p in papers]


def test_a_corpus_built_in_several_segments_is_not_rebuilt_for_them(tmp_path: Path) -> None:
    """A build too large for one segment (here: the least memory) records how many it wrote;
    only segments added by updates beyond those count, else every build would be redone."""
    corpus = [doc(f"2501.{n:05d}", f"Claim {n}", "bone density " * 200) for n in range(3000)]
    index = build(tmp_path / "lexical", corpus, memory_bytes=15_000_000)
    assert index.segments > 1 + MAX_ADDED_SEGMENTS
    assert index.params.built_segments == index.segments
    later = index.params.built_at + REBUILD_MIN_AGE
    assert rebuild_reason(index, later) is None
    for hours in range(1, MAX_ADDED_SEGMENTS + 2):
        index.update([doc(f"2502.{hours:05d}", "New", updated_at=T0 + timedelta(hours=hours))])
    added = index.segments - index.params.built_segments
    assert (
        added > MAX_ADDED_SEGMENTS and rebuild_reason(index, later) == f"{index.segments} segments"
    )


def test_params_of_older_versions_count_one_built_segment(built: Path) -> None:
    params = json.loads((built / PARAMS).read_text())
    del params["built_segments"]
    (built / PARAMS).write_text(json.dumps(params))
    assert LexicalIndex.open(built).params.built_segments == 1


def test_build_from_documents_in_any_directory(tmp_path: Path) -> None:
    calls: list[int] = []
    corpus = [doc(f"c{n}", f"Claim number {n}", "Vitamin D and bone density.") for n in range(2500)]
    index = build(tmp_path / "beir", iter(corpus), progress=calls.append)
    assert calls == [1000, 2000, 2500]
    assert index.search("claim number 1234")[0][0] == "c1234"


def test_incremental_update_from_the_store(store: Store, tmp_path: Path) -> None:
    old = make_record("2503.00001", "Recurrent networks for speech", abstract="Audio.", version=1)
    other = make_record("2503.00002", "Image segmentation", abstract="Pixels.")
    with store.write() as connection:
        upsert_papers(connection, [old, other])
    path = tmp_path / "lexical"
    index = build_from_store(store, path)
    assert index.search("recurrent speech")[0][0] == "2503.00001"
    new = make_record("2503.00001", "Spiking transformers for vision", abstract="Audio.", version=2)
    added = make_record("2503.00003", "Speech recognition at scale", abstract="Hours of audio.")
    with store.write() as connection:
        upsert_papers(connection, [new, added])
    assert 2 <= update_from_store(index, store) <= 3
    assert index.search("spiking transformers")[0][0] == "2503.00001"
    assert "2503.00001" not in [paper for paper, _ in index.search("recurrent")]
    assert index.search("speech recognition")[0][0] == "2503.00003"
    assert len(index) == 3
    again = LexicalIndex.open(path)  # params.json agrees with what was committed
    assert len(again) == 3 and again.params.watermark == index.params.watermark
    with store.read() as connection:
        newest = max(d.updated_at for d in iter_documents(connection))
    assert index.params.watermark == newest


def test_update_of_an_unchanged_store_keeps_everything(sqlite_store: Store, tmp_path: Path) -> None:
    with sqlite_store.write() as connection:
        upsert_papers(connection, [make_record("2504.00001", "Only paper")])
    index = build_from_store(sqlite_store, tmp_path / "lexical")
    update_from_store(index, sqlite_store)
    assert len(LexicalIndex.open(tmp_path / "lexical")) == 1
    assert index.search("only paper")[0][0] == "2504.00001"


def test_reader_sees_another_writers_update_after_refresh(built: Path) -> None:
    reader = LexicalIndex.open(built)
    writer = LexicalIndex.open(built)
    writer.update([doc("2501.00008", "Pulsars nearby", updated_at=T0 + timedelta(seconds=1))])
    assert reader.refresh() is False
    assert reader.search("pulsars")[0][0] == "2501.00008"
    assert len(reader) == len(CORPUS)


def test_two_handles_updating_in_turn_keep_params_true(built: Path) -> None:
    first, second = LexicalIndex.open(built), LexicalIndex.open(built)
    first.update([doc("2505.00001", "Added by the first", updated_at=T0 + timedelta(days=2))])
    second.update([doc("2505.00002", "Added by the second", updated_at=T0 + timedelta(days=1))])
    reopened = LexicalIndex.open(built)
    assert len(reopened) == len(CORPUS) + 2
    assert reopened.params.watermark == T0 + timedelta(days=2)


def test_an_update_adds_no_segment_for_papers_it_holds_as_they_are(tmp_path: Path) -> None:
    """The overlap an update re-reads (papers changed just before the watermark) is not
    written again when the index holds those papers as they are: a no-op update used to add
    a segment each time. A paper committed late (a stamp inside the overlap, unseen) and a
    paper changed again are still written."""
    path = tmp_path / "lexical"
    late = T0 + timedelta(minutes=5)
    first = [doc("2501.00001", "Pulsar timing", updated_at=late),
             doc("2501.00002", "Quasar jets", updated_at=late + timedelta(seconds=1))]  # fmt: skip
    index = build(path, first)
    assert set(read_recent(path, index.params.generation)) == {"2501.00001", "2501.00002"}
    assert index.update(first) == 0
    assert index.segments == 1 and len(index) == 2
    unseen = doc("2501.00003", "Magnetar flares", updated_at=late - timedelta(seconds=30))
    changed = doc("2501.00001", "Pulsar glitches", updated_at=late + timedelta(seconds=2))
    assert index.update([*first, unseen, changed]) == 2
    assert [hit for hit, _ in index.search("magnetar")] == ["2501.00003"]
    assert [hit for hit, _ in index.search("glitches")] == ["2501.00001"]
    assert index.search("timing") == [] and len(LexicalIndex.open(path)) == 3
    assert index.update([doc("2501.00002", "Quasar jets", updated_at=late + timedelta(seconds=1)),
                         unseen, changed]) == 0  # fmt: skip
    assert set(read_recent(path, index.params.generation)) == {f"2501.0000{n}" for n in (1, 2, 3)}
    assert read_recent(path, "g-another") == {}  # a rebuild's generation starts afresh


def test_the_recent_papers_remembered_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past RECENT_MAX papers in the overlap (a bulk ingest) none is remembered, and the
    overlap is written again as before; papers older than the overlap are never kept."""
    monkeypatch.setattr("dailypapers.index.lexical.index.RECENT_MAX", 2)
    path = tmp_path / "lexical"
    old = doc("2501.00009", "Old news", updated_at=T0)
    hour = T0 + timedelta(hours=1)
    many = [doc(f"2501.0001{n}", f"Paper {n}", updated_at=hour) for n in range(3)]
    index = build(path, [old, *many])
    assert read_recent(path, index.params.generation) == {}
    index = build(path, [old, *many[:2]])
    assert set(read_recent(path, index.params.generation)) == {"2501.00010", "2501.00011"}
