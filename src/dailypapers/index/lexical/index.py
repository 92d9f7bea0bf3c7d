"""The lexical (BM25) index on disk: build, update, open, search.

Layout: ``DATA_DIR/index/lexical-v1/`` (``v1``: this layout) holds ``params.json`` (format,
document count, build and update times, the update watermark, and which generation is current)
and one or two generation directories of tantivy files. A full build writes a new generation
under a temp name, renames it into place and then replaces ``params.json`` (an atomic rename),
so a reader sees the old index or the new one, never half of one; the previous generation is
kept so that readers still on it keep working until they :meth:`LexicalIndex.refresh`. An
incremental update deletes and re-adds the changed papers in the current generation and commits
once (tantivy commits atomically), then records the new count and watermark in ``params.json``;
a crash between the two leaves a count that does not match, which :meth:`LexicalIndex.open`
refuses, so the index is rebuilt rather than trusted. Writers take a lock file (POSIX
``flock``), so one writes at a time.

:meth:`LexicalIndex.open` refuses an index it cannot trust (no or unreadable ``params.json``, a
format this version does not read, tantivy cannot open it, a segment file whose checksum is not
the one recorded when it was written, or a document count that is not the recorded one) with
:class:`IndexUnusable`; :func:`open_or_build` then rebuilds it from the store. Checksums are
needed because tantivy reads most of a segment lazily: 4 KB flipped in the middle of a
``.term`` or ``.store`` file passed its own checks, and later searches panicked (a Rust panic
arrives as ``pyo3_runtime.PanicException``, a BaseException). A panic or error met while
searching is :class:`IndexUnusable` too, so callers fall back rather than fail.

The format (:data:`FORMAT`, in ``params.json``) is what a generation's tantivy files hold.
An older readable one (:data:`OLDEST_FORMAT` on) is still opened and searched, so an upgraded
site keeps its keyword search; the index job rebuilds it in the current format (a new
generation, switched to as any build is: :func:`is_current`) and never updates it in place.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, Final

import tantivy

from dailypapers.index.filters import Filters
from dailypapers.index.lexical.query import build_query, parse_query, typo_stems
from dailypapers.index.lexical.schema import (
    TEXT_FIELDS,
    build_schema,
    number_id,
    register_analyzers,
    to_tantivy,
)
from dailypapers.index.lexical.typos import Vocabulary
from dailypapers.store import Store
from dailypapers.store.documents import Document, iter_documents

# 2: the ``id_number`` fast field (a hit's id without reading its stored document).
FORMAT: Final = 2
# Generations of formats from this one on are opened and searched (1: ids read from the
# stored documents) until the index job rebuilds them in :data:`FORMAT`.
OLDEST_FORMAT: Final = 1
LAYOUT: Final = "lexical-v1"
# More segments than this beyond those of the build (one up to ~150,000 papers: see
# BUILD_HEAP_BYTES) and the index job rebuilds the index, at most once per REBUILD_MIN_AGE.
# Each update that writes papers writes a segment, and tantivy merges small segments only
# eight at a time, so daily updates cycle through 2 to 8 segments; each one costs every query
# term another dictionary look-up and scorer: over
# 74,737 papers a keyword search took 1.58 ms on 1 segment, 1.80 on 3 and 2.01 on 6, while a
# rebuild takes about 15 s of one core (BENCHMARKS.md "Search page, index half, session 13").
# tantivy-py cannot merge segments.
MAX_ADDED_SEGMENTS: Final = 1
REBUILD_MIN_AGE: Final = timedelta(hours=6)
PARAMS: Final = "params.json"
# The papers of the current generation whose ``updated_at`` is within UPDATE_OVERLAP of the
# watermark, as indexed: {"generation": ..., "papers": {id: "updated_at content_hash"}}.
RECENT: Final = "recent.json"
LOCK: Final = ".lock"
CHECKSUMS: Final = "checksums.json"  # in each generation: segment file name -> size:crc32
DIGEST_CHUNK: Final = 1 << 20
BATCH: Final = 1000
# One indexing thread with room for ~150,000 papers in memory writes one segment, which
# searches fastest; on two cores a second thread saved only about a tenth of the build time.
BUILD_HEAP_BYTES: Final = 512_000_000
BUILD_THREADS: Final = 1
UPDATE_HEAP_BYTES: Final = 50_000_000
# Re-read papers changed this long before the watermark: PostgreSQL transactions can commit
# out of ``updated_at`` order. Those the index already holds as they are (:data:`RECENT`)
# are not added again: an update re-adding the last ten minutes' papers wrote a segment each
# time, even with nothing new, and each segment costs every search.
UPDATE_OVERLAP: Final = timedelta(minutes=10)
# At most this many papers in the overlap are remembered (about 100 bytes each in RECENT,
# read by updates only); past it (a bulk ingest within ten minutes) the overlap is re-added
# whole. A first ingest of the 74,728-paper listing is within it.
RECENT_MAX: Final = 100_000

CountProgress = Callable[[int], None]  # papers indexed so far


class IndexUnusable(Exception):
    """The index is missing, corrupt, of another format or out of step: rebuild it."""


@dataclass(frozen=True)
class Params:
    """``params.json``: what the current generation holds; ``watermark`` is the newest
    ``Document.updated_at`` indexed (``None`` for an index built without papers)."""

    format: int
    doc_count: int
    built_at: datetime
    updated_at: datetime
    watermark: datetime | None
    generation: str
    built_segments: int = 1  # the segments the build wrote (1 in params of older versions)

    def dumps(self) -> str:
        fields = asdict(self)
        for name in ("built_at", "updated_at", "watermark"):
            fields[name] = fields[name].isoformat() if fields[name] else None
        return json.dumps(fields, indent=2) + "\n"

    @classmethod
    def loads(cls, text: str) -> Params:
        raw: dict[str, Any] = json.loads(text)
        watermark = raw["watermark"]
        params = cls(
            format=int(raw["format"]),
            doc_count=int(raw["doc_count"]),
            built_at=datetime.fromisoformat(raw["built_at"]),
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            watermark=datetime.fromisoformat(watermark) if watermark else None,
            generation=str(raw["generation"]),
            built_segments=int(raw.get("built_segments", 1)),
        )
        if params.doc_count < 0 or not params.generation.startswith("g-"):
            raise ValueError("doc_count or generation out of range")
        return params


def index_path(data_dir: Path) -> Path:
    """Where the lexical index of an installation lives (whatever its format)."""
    return data_dir / "index" / LAYOUT


def rebuild_reason(index: LexicalIndex, now: datetime | None = None) -> str | None:
    """Why the index job should rebuild ``index`` rather than update it (None: it need not):
    an older format, or more than :data:`MAX_ADDED_SEGMENTS` segments beyond the build's in
    a build older than :data:`REBUILD_MIN_AGE` (a rebuild cannot do better than a build, so
    a corpus that builds into several segments is not rebuilt for them). A rebuild is a new
    generation, so servers search the index as it was until then."""
    if index.params.format != FORMAT:
        return f"format {index.params.format} (this version writes {FORMAT})"
    segments = index.segments
    added = segments - index.params.built_segments
    if added > MAX_ADDED_SEGMENTS and (now or _now()) - index.params.built_at >= REBUILD_MIN_AGE:
        return f"{segments} segments"
    return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _read_params(path: Path) -> Params:
    try:
        text = (path / PARAMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndexUnusable(f"no lexical index at {path} (no {PARAMS})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise IndexUnusable(f"cannot read {path / PARAMS}: {error}") from error
    try:
        params = Params.loads(text)
    except (ValueError, KeyError, TypeError) as error:
        raise IndexUnusable(f"{path / PARAMS} is not valid: {error}") from error
    if not OLDEST_FORMAT <= params.format <= FORMAT:
        raise IndexUnusable(
            f"{path} has format {params.format}; this version reads {OLDEST_FORMAT} to {FORMAT}"
        )
    return params


def _write_params(path: Path, params: Params) -> None:
    _write_atomically(path / PARAMS, params.dumps())


def _write_atomically(target: Path, text: str) -> None:
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    with open(temp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, target)


def read_recent(path: Path, generation: str) -> dict[str, str]:
    """The papers :data:`RECENT` says ``generation`` holds as they are; none when it is
    missing, damaged or of another generation (the overlap is then written again)."""
    try:
        raw = json.loads((path / RECENT).read_text(encoding="utf-8"))
        if raw["generation"] != generation:
            return {}
        return {str(paper): str(stamp) for paper, stamp in raw["papers"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_recent(path: Path, generation: str, papers: dict[str, str]) -> None:
    _write_atomically(path / RECENT, json.dumps({"generation": generation, "papers": papers}))


@contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _is_panic(error: BaseException) -> bool:
    """Whether ``error`` is a Rust panic raised through pyo3 (its class is made at run time)."""
    return type(error).__name__ == "PanicException"


def _checksummed(directory: Path) -> Iterator[Path]:
    """The segment files of a generation: write-once files named ``<segment>.<kind>``.

    ``meta.json`` and ``.managed.json`` are rewritten by every commit, so they are not
    checksummed; tantivy parses them whole on opening, and refuses them when damaged.
    """
    for child in directory.iterdir():
        if child.is_file() and not child.name.startswith(".") and child.name != "meta.json":
            if child.name != CHECKSUMS:
                yield child


def _digest(path: Path) -> str:
    """``size:crc32`` of a file. CRC-32 finds accidental damage (a disk, a stray write) and
    is about five times faster than blake2b, which matters as every opening reads the files:
    for the 33 MB index of 74,728 papers, 56 ms of a 72 ms opening (blake2b: 250 ms), on two
    busy cores."""
    crc, size = 0, 0
    with open(path, "rb") as stream:
        while chunk := stream.read(DIGEST_CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    return f"{size}:{crc:08x}"


def record_checksums(directory: Path) -> None:
    """Write the checksum of every segment file of ``directory`` (atomically, as params)."""
    sums = {child.name: _digest(child) for child in sorted(_checksummed(directory))}
    _write_atomically(directory / CHECKSUMS, json.dumps(sums, indent=1, sort_keys=True))


def verify_checksums(directory: Path) -> None:
    """Raise :class:`IndexUnusable` if a recorded segment file's content changed.

    Files written after the record (an update in progress in another process) are not yet
    listed and are not checked; files listed but gone were merged away by such an update
    (one that tantivy needs and lacks makes it refuse the index anyway).
    """
    try:
        sums = json.loads((directory / CHECKSUMS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexUnusable(f"{directory} has no {CHECKSUMS}: built by an older version") from None
    except (OSError, ValueError) as error:
        raise IndexUnusable(f"cannot read {directory / CHECKSUMS}: {error}") from error
    if not isinstance(sums, dict):
        raise IndexUnusable(f"{directory / CHECKSUMS} is not valid")
    for name, expected in sums.items():
        try:
            found = _digest(directory / str(name))
        except FileNotFoundError:
            continue
        except OSError as error:
            raise IndexUnusable(f"cannot read {directory / str(name)}: {error}") from error
        if found != expected:
            raise IndexUnusable(f"{directory / str(name)} is damaged (its checksum changed)")


def _probe(searcher: tantivy.Searcher, numbered: bool) -> None:
    """Touch every field's files: tantivy opens some (positions, say) only when first used."""
    for name in ("id", "title", "abstract", "authors", "author_key", "categories"):
        searcher.doc_freq(name, "probe")
    searcher.doc_freq("day", 0)
    searcher.doc_freq("has_code", True)
    for _score, address in searcher.search(tantivy.Query.all_query(), limit=1).hits:
        searcher.doc(address)
        if numbered:
            searcher.fast_field_values("id_number", [address])


def _merged(
    searcher: tantivy.Searcher, terms: tantivy.Query, rest: tantivy.Query | None, k: int
) -> list[tuple[float, tantivy.DocAddress]]:
    """The top ``k`` of a query searched in two parts (:class:`~dailypapers.index.lexical.
    query.BuiltQuery`): each part's top ``k``, a paper in both scored as in ``rest``; equal
    scores in address order, as tantivy orders them (so a ``rest`` that finds nothing, a
    title phrase in no title, leaves the first part's list as it is)."""
    hits = searcher.search(terms, limit=k, count=False).hits
    if rest is None:
        return hits
    others = searcher.search(rest, limit=k, count=False).hits
    if not others:
        return hits
    # Each hit by its address as one int (a doc id is a u32): an int key hashes and sorts
    # without a tuple made and compared per hit.
    found: dict[int, tuple[float, tantivy.DocAddress]] = {}
    for hit in chain(hits, others):  # a paper in both: the later, rest's, wins
        address = hit[1]
        found[address.segment_ord << 32 | address.doc] = hit
    # By address, then by score alone: a stable sort (also reversed) keeps the address order
    # of equal scores.
    best = sorted(found)
    scores = {key: found[key][0] for key in best}
    best.sort(key=scores.__getitem__, reverse=True)
    return [found[key] for key in best[:k]]


def _ids(
    searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress], numbered: bool = True
) -> list[str]:
    """The paper ids of ``addresses``; ``numbered`` (format 2 on): from the ``id_number``
    fast field (a column read: 0.01 ms for 100 hits), or the stored document for an id that
    has no number (about 1 µs each, 0.1 ms for 100: BENCHMARKS.md "Search page margin,
    session 12")."""
    if not numbered:
        return [searcher.doc(address)["id"][0] for address in addresses]
    # An unsigned column: ints (None for a segment without it), whatever the stub says.
    numbers: list[Any] = searcher.fast_field_values("id_number", addresses)
    return [
        number_id(number)
        if number  # not NO_NUMBER (0) nor None (a segment without the column)
        else searcher.doc(address)["id"][0]
        for number, address in zip(numbers, addresses, strict=True)
    ]


def _open_tantivy(path: Path, params: Params) -> tantivy.Index:
    try:
        index = tantivy.Index.open(str(path / params.generation))
        register_analyzers(index)
        index.reload()
        searcher = index.searcher()
        _probe(searcher, params.format >= 2)
        found = searcher.num_docs
    except BaseException as error:
        if not isinstance(error, ValueError | OSError) and not _is_panic(error):
            raise
        raise IndexUnusable(f"tantivy cannot open {path / params.generation}: {error}") from error
    verify_checksums(path / params.generation)
    if found != params.doc_count:
        raise IndexUnusable(f"{path} holds {found} papers but {PARAMS} says {params.doc_count}")
    return index


class LexicalIndex:
    """An opened lexical index; searching is safe from many threads."""

    def __init__(self, path: Path, params: Params, index: tantivy.Index) -> None:
        self.path = path
        self.params = params
        self._index = index
        self._schema = index.schema
        self._numbered = params.format >= 2  # hits' ids from the id_number column
        # The index's words for typos, read at the first query that needs them (a walk of
        # three term dictionaries, 0.2 to 0.3 s for 75,000 papers) and again after a refresh.
        self._vocabulary: Vocabulary | None = None
        self._vocabulary_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> LexicalIndex:
        """Open the index at ``path``; raises :class:`IndexUnusable` if it cannot be trusted."""
        params = _read_params(path)
        try:
            return cls(path, params, _open_tantivy(path, params))
        except IndexUnusable:
            # A build may have replaced the generation between reading params and opening it.
            again = _read_params(path)
            if again.generation == params.generation:
                raise
            return cls(path, again, _open_tantivy(path, again))

    def __len__(self) -> int:
        return self.params.doc_count

    @property
    def segments(self) -> int:
        """How many tantivy segments the index is in (each costs every search a little)."""
        return int(self._index.searcher().num_segments)

    def search(
        self, text: str, k: int = 100, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best ``(paper id, BM25 score)`` for ``text``, best first."""
        return self.search_with_typos(text, k, filters)[0]

    def search_with_typos(
        self, text: str, k: int = 100, filters: Filters | None = None
    ) -> tuple[list[tuple[str, float]], frozenset[str]]:
        """:meth:`search`, and the :meth:`typos` of ``text``, decided on the way (the
        snippets of its hits ask for them)."""
        try:
            return self._search(text, k, filters)
        except BaseException as error:  # a panic is a BaseException: see the module's notes
            if isinstance(error, ValueError | OSError) or _is_panic(error):
                raise IndexUnusable(f"searching {self.path} failed: {error}") from error
            raise

    def _search(
        self, text: str, k: int, filters: Filters | None
    ) -> tuple[list[tuple[str, float]], frozenset[str]]:
        searcher = self._index.searcher()
        parsed = parse_query(text)
        k = min(k, searcher.num_docs)  # tantivy sets memory aside for k hits up front
        if k <= 0:
            return [], typo_stems(parsed, searcher)
        built = build_query(
            parsed, self._schema, searcher, partial(self.vocabulary, searcher), filters
        )
        if built.terms is not None:
            hits = _merged(searcher, built.terms, built.rest, k)
        elif built.query is not None:
            hits = searcher.search(built.query, limit=k, count=False).hits
        else:
            return [], built.typos
        ids = _ids(searcher, [address for _score, address in hits], self._numbered)
        return list(zip(ids, [score for score, _address in hits], strict=True)), built.typos

    def typos(self, text: str) -> frozenset[str]:
        """The stems of ``text``'s words that a search for it forgives as typos (matching
        the words one edit away too): what a snippet marks near words for."""
        try:
            return typo_stems(parse_query(text), self._index.searcher())
        except BaseException as error:  # as in search
            if isinstance(error, ValueError | OSError) or _is_panic(error):
                raise IndexUnusable(f"searching {self.path} failed: {error}") from error
            raise

    def vocabulary(self, searcher: tantivy.Searcher | None = None) -> Vocabulary:
        """The words of the index (stems of titles and abstracts, names), read once."""
        vocabulary = self._vocabulary
        if vocabulary is None:
            with self._vocabulary_lock:
                vocabulary = self._vocabulary
                if vocabulary is None:
                    searcher = searcher or self._index.searcher()
                    vocabulary = Vocabulary.read(searcher, TEXT_FIELDS, "authors")
                    self._vocabulary = vocabulary
        return vocabulary

    def neighbours(self) -> Callable[[str], list[str]] | None:
        """What gives the index's stems one edit from a stem (those a typo clause of the
        stem matches), for the snippets' marks; None while the typo vocabulary is not in
        memory (a search with a typo reads it: a page does not)."""
        vocabulary = self._vocabulary
        return None if vocabulary is None else vocabulary.stems.near

    @property
    def vocabulary_read(self) -> bool:
        """Whether the typo vocabulary is in memory (the next query with a typo will not
        read it)."""
        return self._vocabulary is not None

    def refresh(self) -> bool:
        """See another process's build or update; True when the generation changed."""
        params = _read_params(self.path)
        if params.generation == self.params.generation:
            self._index.reload()
            self.params = params
            self._vocabulary = None  # new papers bring new words
            return False
        fresh = LexicalIndex.open(self.path)
        # The index before its format: a search between the two reads a newer format's ids
        # from the stored documents, which every format keeps.
        self.params, self._index, self._schema = fresh.params, fresh._index, fresh._schema
        self._numbered = fresh._numbered
        self._vocabulary = None
        return True

    def update(self, documents: Iterable[Document], progress: CountProgress | None = None) -> int:
        """Replace (or add) each paper in ``documents`` but those the index holds as they are
        (:data:`RECENT`); one atomic commit, none when nothing changed (so no new
        segment). Returns how many were written."""
        with _writer_lock(self.path):
            # Start from what is on disk: another process may have updated since we opened.
            current = _read_params(self.path)
            if current.generation != self.params.generation:
                self.refresh()
                current = self.params
            if current.format != FORMAT:  # its schema lacks fields this version writes
                raise IndexUnusable(f"{self.path} has format {current.format}: rebuild it")
            recent = read_recent(self.path, current.generation)
            changed = _Recorded(d for d in documents if recent.get(d.id) != _stamp(d))
            stream = iter(changed)
            first = next(stream, None)  # none: no writer, no commit, no new segment
            count = 0 if first is None else self._write(chain([first], stream), progress)
            marks = [mark for mark in (current.watermark, changed.newest) if mark is not None]
            watermark = max(marks) if marks else None
            if count:
                record_checksums(self.path / current.generation)
                recent = _recent({**recent, **changed.stamps}, watermark)
                _write_recent(self.path, current.generation, recent)
            self.params = replace(
                current,
                doc_count=self._index.searcher().num_docs,
                updated_at=_now(),
                watermark=watermark,
            )
            _write_params(self.path, self.params)
        return count

    def _write(self, documents: Iterable[Document], progress: CountProgress | None) -> int:
        writer = self._index.writer(heap_size=UPDATE_HEAP_BYTES, num_threads=1)
        try:
            count = _write_documents(writer, documents, progress, replace_ids=True)
            writer.commit()
        finally:
            writer.wait_merging_threads()  # uncommitted changes are dropped with it
        self._index.reload()
        self._vocabulary = None
        return count


def _stamp(document: Document) -> str:
    """What says a paper is indexed as it is: its ``updated_at`` and content hash."""
    return f"{document.updated_at.isoformat()} {document.content_hash}"


def _recent(stamps: dict[str, str], watermark: datetime | None) -> dict[str, str]:
    """Of ``stamps`` (id -> ``updated_at``), those an update re-reads (within UPDATE_OVERLAP
    of ``watermark``); none past RECENT_MAX, so the overlap is then re-added whole."""
    if watermark is None:
        return {}
    since = watermark - UPDATE_OVERLAP
    kept = {
        paper: stamp
        for paper, stamp in stamps.items()
        if datetime.fromisoformat(stamp.split(" ", 1)[0]) >= since
    }
    return kept if len(kept) <= RECENT_MAX else {}


class _Recorded:
    """``documents`` passed on while the newest ``updated_at`` (the watermark) and the latest
    ones' stamps are kept, for :data:`RECENT` (pruned as they go: a build may read millions)."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self._documents = documents
        self.stamps: dict[str, str] = {}
        self.newest: datetime | None = None

    def __iter__(self) -> Iterator[Document]:
        overflowed = False  # more than RECENT_MAX in one overlap: none is remembered
        for document in self._documents:
            moment = document.updated_at
            if self.newest is None or moment > self.newest:
                self.newest, overflowed = moment, False  # a later overlap may hold fewer
            if not overflowed and moment >= self.newest - UPDATE_OVERLAP:
                self.stamps[document.id] = _stamp(document)
                if len(self.stamps) > 2 * RECENT_MAX:
                    self.stamps = _recent(self.stamps, self.newest)
                    overflowed = not self.stamps
            yield document


def _write_documents(
    writer: tantivy.IndexWriter,
    documents: Iterable[Document],
    progress: CountProgress | None,
    *,
    replace_ids: bool,
) -> int:
    count = 0
    for document in documents:
        if replace_ids:
            writer.delete_documents_by_term("id", document.id)
        writer.add_document(to_tantivy(document))
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(count)
    if progress is not None and count % BATCH:
        progress(count)
    return count


def _remove_stale(path: Path, keep: set[str]) -> None:
    for child in path.iterdir():
        if child.is_dir() and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def build(
    path: Path,
    documents: Iterable[Document],
    progress: CountProgress | None = None,
    *,
    memory_bytes: int = BUILD_HEAP_BYTES,
) -> LexicalIndex:
    """Index ``documents`` (each id once) as a new generation at ``path`` and switch to it.

    Works for any documents, such as a benchmark corpus that is not in the store. Less
    ``memory_bytes`` (at least 15 MB) gives more, smaller segments and slower searches.
    """
    with _writer_lock(path):
        generation = f"g-{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        temp = path / f".tmp-{generation}"
        temp.mkdir()
        try:
            index = tantivy.Index(build_schema(), path=str(temp), reuse=False)
            register_analyzers(index)
            writer = index.writer(heap_size=memory_bytes, num_threads=BUILD_THREADS)
            recorded = _Recorded(documents)
            try:
                count = _write_documents(writer, recorded, progress, replace_ids=False)
                writer.commit()
            finally:
                writer.wait_merging_threads()  # the writer's threads end, even after a failure
            index.reload()
            segments = int(index.searcher().num_segments)
            record_checksums(temp)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        os.rename(temp, path / generation)
        try:
            previous = {_read_params(path).generation}
        except IndexUnusable:
            previous = set()
        now = _now()
        watermark = recorded.newest
        _write_recent(path, generation, _recent(recorded.stamps, watermark))
        params = Params(FORMAT, count, now, now, watermark, generation, max(segments, 1))
        _write_params(path, params)
        _remove_stale(path, {generation} | previous)
    return LexicalIndex.open(path)


def build_from_store(
    store: Store,
    path: Path,
    progress: CountProgress | None = None,
    *,
    memory_bytes: int = BUILD_HEAP_BYTES,
) -> LexicalIndex:
    """A full build of every paper in the store."""
    with store.read() as connection:
        return build(path, iter_documents(connection), progress, memory_bytes=memory_bytes)


def update_from_store(
    index: LexicalIndex, store: Store, progress: CountProgress | None = None
) -> int:
    """Re-index the papers changed since the index's watermark; returns how many."""
    mark = index.params.watermark
    since = mark - UPDATE_OVERLAP if mark is not None else None
    with store.read() as connection:
        return index.update(iter_documents(connection, since=since), progress)


def open_or_build(store: Store, path: Path, progress: CountProgress | None = None) -> LexicalIndex:
    """The index at ``path``, rebuilt from the store when it is missing or unusable."""
    try:
        return LexicalIndex.open(path)
    except IndexUnusable:
        return build_from_store(store, path, progress)
