"""The ``local`` search backend: tantivy BM25 files and a usearch HNSW index on disk.

Files under ``DATA_DIR/index/``: ``lexical-v1/`` (:mod:`dailypapers.index.lexical.index`)
and ``dense-<model>/`` (:mod:`dailypapers.index.dense.ann`). ``update`` updates the lexical
index incrementally (rebuilt when unusable, of an older format or in too many segments)
and grows the dense one from the stored vectors; ``open`` only opens them, so a web server
never builds: with no dense index it serves keyword search, with no lexical index it says
the index is not built yet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

from dailypapers.index.backends.base import IndexStamp, Model, Opened, StepProgress, Updated
from dailypapers.index.dense.ann import (
    CURRENT,
    DenseIndex,
    DenseIndexError,
    ensure_dense_index,
    index_root,
    load_dense_index,
)
from dailypapers.index.filters import RowInfo
from dailypapers.index.lexical import index as lexical
from dailypapers.settings import Settings
from dailypapers.store import Store

log = logging.getLogger(__name__)
OPEN_ATTEMPTS = 3
OPEN_RETRY_SECONDS = 0.2


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


class LocalBackend:
    """Index files in ``DATA_DIR/index``; see the module docstring."""

    name = "local"

    def open(
        self, settings: Settings, model: Model | None, papers: Mapping[str, RowInfo]
    ) -> Opened:
        dense = None if model is None else _open_dense(settings, model, papers)
        return Opened(_open_lexical(settings), dense)

    def open_dense(
        self, settings: Settings, model: Model, papers: Mapping[str, RowInfo]
    ) -> DenseIndex | None:
        """The dense index alone (new vectors landed while the rest stayed as it was)."""
        return _open_dense(settings, model, papers)

    def update(
        self,
        store: Store,
        settings: Settings,
        model: Model | None,
        progress: StepProgress,
        *,
        lexical: bool = True,
    ) -> Updated:
        papers, rebuilt = _update_lexical(store, settings, progress) if lexical else (0, False)
        dense = 0
        if model is not None:
            dense = len(ensure_dense_index(store, settings, model.name, model.dimensions))
        return Updated(papers, rebuilt, dense)

    def stamp(self, settings: Settings) -> IndexStamp:
        """What the lexical index holds, and when each dense ``CURRENT`` pointer changed."""
        pointers = sorted((settings.data_dir / "index").glob(f"dense-*/{CURRENT}"))
        return IndexStamp(_lexical_stamp(settings), tuple((str(p), _mtime(p)) for p in pointers))


def _lexical_stamp(settings: Settings) -> object:
    """The lexical index's generation, paper count and watermark: not its update time, which
    moves at every update, also one that re-read recent papers and found nothing new (what the
    worker's updates do every minute while it embeds a backlog)."""
    path = lexical.index_path(settings.data_dir) / lexical.PARAMS
    try:
        params = lexical.Params.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return _mtime(path)  # missing or unreadable: opening it will say why
    return params.generation, params.doc_count, params.watermark


def _open_lexical(settings: Settings) -> lexical.LexicalIndex | None:
    path = lexical.index_path(settings.data_dir)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return lexical.LexicalIndex.open(path)
        except lexical.IndexUnusable as error:
            # An update commits to tantivy just before it records the new count: an index
            # caught between the two looks out of step for a moment. A missing one does not.
            if attempt + 1 < OPEN_ATTEMPTS and (path / lexical.PARAMS).exists():
                time.sleep(OPEN_RETRY_SECONDS)
                continue
            log.warning("keyword search is off until `dailypapers index` runs: %s", error)
    return None


def _open_dense(
    settings: Settings, model: Model, papers: Mapping[str, RowInfo]
) -> DenseIndex | None:
    root = index_root(settings, model.name)
    try:
        dense = load_dense_index(root, model=model.name, dimensions=model.dimensions)
    except DenseIndexError as error:
        log.info("semantic search is off until `dailypapers index` runs: %s", error)
        return None
    return dense.with_rows(papers) if len(dense) else None


def _update_lexical(store: Store, settings: Settings, progress: StepProgress) -> tuple[int, bool]:
    """Update the lexical index from the store, or rebuild it when it cannot be used, is of
    an older format or is in too many segments (:func:`~dailypapers.index.lexical.index.
    rebuild_reason`). A rebuild is a new generation: servers search the index as it was
    until it is in place, so an upgraded site never goes without keyword search."""
    path = lexical.index_path(settings.data_dir)
    path.mkdir(parents=True, exist_ok=True)

    def counted(papers: int) -> None:
        progress("lexical", papers, None)

    try:
        index = lexical.LexicalIndex.open(path)
    except lexical.IndexUnusable:
        return len(lexical.build_from_store(store, path, counted)), True
    if (why := lexical.rebuild_reason(index)) is None:
        lexical.update_from_store(index, store, counted)
        index = lexical.LexicalIndex.open(path)
        why = lexical.rebuild_reason(index)
    if why is None:
        return len(index), False
    log.info("rebuilding the keyword index: %s", why)
    return len(lexical.build_from_store(store, path, counted)), True
