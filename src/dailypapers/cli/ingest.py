"""``dailypapers ingest ...``: one subcommand per source; each prints a summary line.

A bad record is reported (to stderr, with its line or position) and skipped; the command
still exits 0. Exit 1 only when the source as a whole is unusable. After a successful
ingest the search index is brought up to date (unless ``--no-index`` or
``DAILYPAPERS_INDEX_AFTER_INGEST=false``); a large embedding backlog is left to
``dailypapers index``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from dailypapers.cli import common, search
from dailypapers.ingest import http as source_http
from dailypapers.ingest import oaipmh
from dailypapers.ingest.arxiv_api import fetch_papers
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.rss import feed_url, fetch_feed
from dailypapers.ingest.run import Item, SourceUnusable, Summary, ingest
from dailypapers.paper import CATEGORY_RE


def _index_after(*_results: object, no_index: bool = False) -> None:
    settings = common.settings()
    if no_index or not settings.index_after_ingest:
        return
    typer.echo(search.index_now(embed_at_most=settings.embed_after_ingest_max).line())


app = typer.Typer(
    help="Load papers from a source into the store, then update the search index.",
    no_args_is_help=True,
    result_callback=_index_after,
)


@app.callback()
def _options(
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Do not update the search index afterwards.")
    ] = False,
) -> None:
    """Load papers from a source into the store, then update the search index."""


# Skipped records printed one per line; the rest are only counted.
SHOW_SKIPPED = 20


def report(summary: Summary, label: str) -> None:
    for skipped in summary.skipped_records[:SHOW_SKIPPED]:
        common.err_console.print(f"skipped {skipped.where}: {skipped.reason}", markup=False)
    if summary.skipped > SHOW_SKIPPED:
        common.err_console.print(f"... and {summary.skipped - SHOW_SKIPPED} more skipped")
    typer.echo(f"{label}: {summary.line()}")


def run_source(
    source: str,
    target: str,
    items: Iterable[Item],
    *,
    on_commit: Callable[[Summary], None] = lambda _summary: None,
) -> Summary:
    """Ingest ``items`` into the configured store; an unusable source exits 1 in one line."""
    with common.store() as store:
        try:
            return ingest(
                store, source, target, items,
                batch_size=common.settings().ingest_batch_size, on_commit=on_commit,
            )  # fmt: skip
        except SourceUnusable as error:
            common.fail(str(error))


@app.command("file")
def ingest_file(
    paths: Annotated[list[Path], typer.Argument(help="JSON Lines files, plain or .gz.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="Record format: auto (detect per record), snapshot (Kaggle arXiv "
            "metadata snapshot) or listing (daily-listing records).",
        ),
    ] = "auto",
) -> None:
    """Load arXiv metadata from JSON Lines files (Kaggle snapshot or daily listings)."""
    if fmt not in ("auto", "snapshot", "listing"):
        common.fail(f"--format {fmt!r}: choose auto, snapshot or listing", code=2)
    for path in paths:
        try:
            source = JsonLinesSource(path, fmt)  # type: ignore[arg-type]
        except SourceUnusable as error:
            common.fail(str(error))
        report(_ingest_one_file(source), str(path))


def _ingest_one_file(source: JsonLinesSource) -> Summary:
    with common.progress_bar(source.path.name, total=source.size) as update:
        return run_source(
            "file", str(source.path), source, on_commit=lambda _s: update(source.bytes_read)
        )


_FROM_HELP = (
    "First datestamp to harvest. Default: resume an unfinished harvest of the same "
    "set and prefix; else the date of the server's response to the last completed harvest of "
    "the set (the day after its --until if one was given); else 3 days ago."
)


@app.command("arxiv")
def ingest_arxiv(
    start: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help=_FROM_HELP)
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="YYYY-MM-DD", help="Last datestamp to harvest."),
    ] = None,
    categories: Annotated[
        str | None,
        typer.Option(
            "--categories",
            help="Comma-separated arXiv categories (default: DAILYPAPERS_CATEGORIES). Each "
            "archive set they need (cs, math, physics:hep-th...) is harvested once and only "
            "records in one of these categories are kept.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OAI-PMH endpoint (default: DAILYPAPERS_ARXIV_OAI_URL)."),
    ] = None,
    prefix: Annotated[
        str,
        typer.Option("--metadata-prefix", help="arXiv, or arXivRaw (with version history)."),
    ] = "arXiv",
) -> None:
    """Harvest new and updated arXiv papers over OAI-PMH; a killed run resumes where it stopped."""
    config = common.settings()
    first, last = common.day_option("--from", start), common.day_option("--until", until)
    wanted = [c.strip() for c in (categories or "").split(",") if c.strip()] or config.categories
    url = base_url or config.arxiv_oai_url
    fetcher = source_http.make_fetcher(config)
    try:
        with common.store() as store:
            try:
                harvest = oaipmh.arxiv_harvest(
                    store, fetcher, base_url=url, categories=wanted, prefix=prefix,
                    start=first, until=last,
                )  # fmt: skip
            except ValueError as error:  # an unknown category or prefix, an empty range
                common.fail(str(error), code=2)
        # Records seen so far: the total is unknown until the last page of every set.
        with common.progress_bar("arXiv OAI-PMH", total=None) as update:
            summary = run_source(
                "arxiv", f"{url} {prefix} {','.join(wanted)}", harvest,
                on_commit=lambda _s: update(harvest.seen),
            )  # fmt: skip
    finally:
        fetcher.close()
    report(summary, f"arXiv OAI-PMH {url}")


@contextmanager
def _fetcher() -> Iterator[Fetcher]:
    """An HTTP fetcher with the configured timeout and retries, closed on the way out."""
    fetcher = source_http.make_fetcher(common.settings())
    try:
        yield fetcher
    finally:
        fetcher.close()


@app.command("arxiv-ids")
def ingest_arxiv_ids(
    ids: Annotated[
        list[str],
        typer.Argument(help="arXiv ids, versioned ids (2501.01234v2) or arxiv.org URLs."),
    ],
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="arXiv API endpoint (default: DAILYPAPERS_ARXIV_API_URL)."),
    ] = None,
) -> None:
    """Look papers up by id through the arXiv API; ids it does not know are reported."""
    url = base_url or common.settings().arxiv_api_url
    with _fetcher() as fetcher:
        summary = run_source("arxiv-ids", url, fetch_papers(ids, fetcher, url))
    report(summary, "arxiv-ids")


def _rss_categories(given: list[str] | None) -> list[str]:
    """Categories from the arguments ('cs.CL cs.AI' or 'cs.CL+cs.AI'), else the settings."""
    names = [part for arg in given or [] for part in re.split(r"[+,\s]+", arg) if part]
    names = names or list(common.settings().categories)
    for name in names:
        if not CATEGORY_RE.match(name):
            common.fail(f"{name!r} is not an arXiv category (e.g. cs.CL)", code=2)
    return list(dict.fromkeys(names))


@app.command("rss")
def ingest_rss(
    categories: Annotated[
        list[str] | None,
        typer.Argument(
            help="arXiv categories, fetched as one feed (default: DAILYPAPERS_CATEGORIES)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Feed base URL (default: DAILYPAPERS_ARXIV_RSS_URL)."),
    ] = None,
) -> None:
    """Load arXiv's announcement feed; new papers and cross-lists get the feed's day."""
    names = _rss_categories(categories)
    base = base_url or common.settings().arxiv_rss_url
    url = feed_url(base, names)
    with _fetcher() as fetcher:
        summary = run_source("rss", url, fetch_feed(names, fetcher, base))
    report(summary, url)


@app.command("hf-daily")
def ingest_hf_daily(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Hugging Face /api/daily_papers or /api/papers/{id} JSON, or JSON Lines "
            "(of those, or of featured records {date, arxiv_id, title})."
        ),
    ],
) -> None:
    """Load which papers Hugging Face Daily Papers featured, with upvotes and code links."""
    for path in paths:
        try:
            source = HfDailySource(path)
        except SourceUnusable as error:
            common.fail(str(error))
        report(run_source("hf-daily", str(path), source), str(path))
