"""``dailypapers index``, ``dailypapers search`` and ``dailypapers eval beir``."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from dailypapers.cli import common
from dailypapers.index.dense.embedder import Embedder, EmbedderError, load_embedder
from dailypapers.index.job import IndexBusy, IndexSummary, StepProgress, run_index, update_indexes
from dailypapers.search.beir import BeirError, load_beir
from dailypapers.search.engine import SearchResponse
from dailypapers.search.evaluate import evaluate
from dailypapers.search.query import Filters, Mode, SearchRequest, SearchSort
from dailypapers.search.service import open_engine, search_config
from dailypapers.settings import Settings
from dailypapers.store import Store

eval_app = typer.Typer(help="Measure search quality.", no_args_is_help=True)


@contextmanager
def step_progress() -> Iterator[StepProgress]:
    """One progress bar per step (lexical, embedding, ...), drawn only on a terminal."""
    bars: dict[str, Any] = {}
    with common.live_progress() as progress:

        def update(step: str, done: int, total: int | None) -> None:
            if progress is None:
                return
            if step not in bars:
                bars[step] = progress.add_task(step, total=total)
            progress.update(bars[step], completed=done, total=total)

        yield update


def index_now(embed_at_most: int | None) -> IndexSummary:
    """Bring the search index up to date (used by ``index`` and after every ingest)."""
    settings = common.settings()
    with common.store() as store, step_progress() as progress:
        try:
            try:
                return run_index(
                    store, settings, embed_at_most=embed_at_most, progress=progress, wait=False
                )
            except IndexBusy as error:  # say why nothing happens for a while, then wait
                common.err_console.print(f"note: {error}; waiting for it", markup=False)
                return run_index(store, settings, embed_at_most=embed_at_most, progress=progress)
        except EmbedderError as error:
            common.fail(str(error))


def index(
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Only the keyword index; embed later.")
    ] = False,
) -> None:
    """Update the search index: keyword index, paper embeddings, nearest-neighbour index."""
    typer.echo(index_now(0 if no_embed else None).line())


def _embedder_or_none(settings: Settings) -> Embedder | None:
    try:
        return load_embedder(settings)
    except EmbedderError:
        return None  # open_engine says why, once, and searches by keywords


def _update_before_search(store: Store, settings: Settings, embedder: Embedder | None) -> None:
    """Bring the index files up to date (no embedding), as the index job's writer; if another
    process is writing them, search what exists rather than wait."""
    try:
        update_indexes(store, settings, embedder, wait=False)
    except IndexBusy as error:
        common.err_console.print(f"note: {error}; searching the index as it is", markup=False)


def _plain(snippet_html: str) -> str:
    """A snippet for the terminal: the marks as *stars*, entities decoded."""
    return html.unescape(snippet_html.replace("<mark>", "*").replace("</mark>", "*"))


def _print(response: SearchResponse) -> None:
    for note in response.notes:
        common.err_console.print(f"note: {note}", markup=False)
    if not response.hits:
        typer.echo("no papers found")
    for rank, hit in enumerate(response.hits, start=1):
        authors = ", ".join(hit.authors[:3]) + (" et al." if len(hit.authors) > 3 else "")
        typer.echo(f"{rank:>3}. {hit.id:<16} {hit.title}")
        if authors:
            typer.echo(f"     {authors}  ({hit.day or 'undated'})")
        if hit.snippet:
            typer.echo(f"     {_plain(hit.snippet)}")


def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", -exclusions, an arXiv id.')],
    limit: Annotated[int, typer.Option(min=1, max=120, help="Results to show.")] = 10,
    mode: Annotated[
        str, typer.Option(help="hybrid (default), lexical (keywords) or dense (semantic).")
    ] = "hybrid",
    since: Annotated[
        str | None, typer.Option(help="Papers of this day (YYYY-MM-DD) or later.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Papers of this day (YYYY-MM-DD) or earlier.")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option(help="Only this arXiv category (repeat for any of several).")
    ] = None,
    code: Annotated[bool, typer.Option("--code", help="Only papers with a code link.")] = False,
    author: Annotated[str | None, typer.Option(help="Only papers by this author.")] = None,
    sort: Annotated[str, typer.Option(help="relevance (default) or newest.")] = "relevance",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Search the stored papers."""
    if mode not in ("hybrid", "lexical", "dense"):
        common.fail(f"--mode {mode!r}: choose hybrid, lexical or dense", code=2)
    if sort not in ("relevance", "newest"):
        common.fail(f"--sort {sort!r}: choose relevance or newest", code=2)
    filters = Filters(
        since=common.day_option("--since", since),
        until=common.day_option("--until", until),
        categories=tuple(category or ()),
        has_code=True if code else None,
        author=author,
    )
    request = SearchRequest(
        text=query,
        mode=cast(Mode, mode),  # checked above
        limit=limit,
        sort=cast(SearchSort, sort),
        filters=filters,
        snippets=True,
    )
    settings = common.settings()
    with common.store() as store:
        embedder = _embedder_or_none(settings)
        _update_before_search(store, settings, embedder)
        engine = open_engine(store, settings, embedder=embedder)
        try:
            response = engine.search(request)
        finally:
            engine.close()
    if not as_json:
        _print(response)
        return
    payload = {
        "query": response.query,
        "mode": response.mode,
        "used_mode": response.used_mode,
        "truncated": response.truncated,
        "notes": response.notes,
        "results": [
            {"id": h.id, "title": h.title, "score": h.score, "snippet": h.snippet}
            for h in response.hits
        ],
    }
    typer.echo(json.dumps(payload, ensure_ascii=False))


@eval_app.command("beir")
def eval_beir(
    directory: Annotated[Path, typer.Argument(help="corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv")],
    split: Annotated[str, typer.Option(help="train, dev or test: qrels/SPLIT.tsv")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """nDCG@10 and Recall@100 of lexical, dense and hybrid search on a BEIR dataset."""
    if split not in ("train", "dev", "test"):
        common.fail(f"--split {split!r}: choose train, dev or test", code=2)
    settings = common.settings()
    try:
        dataset = load_beir(directory, split)
        embedder = load_embedder(settings)
    except (BeirError, EmbedderError) as error:
        common.fail(str(error))
    with step_progress() as progress:
        report = evaluate(dataset, embedder, settings, search_config(settings), progress)
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(f"{report['dataset']} ({report['split']}, {report['queries']} queries)")
    for mode, scores in report["modes"].items():
        typer.echo(f"  {mode:<8} nDCG@10 {scores['ndcg@10']:.4f}  R@100 {scores['recall@100']:.4f}")
