"""``dailypapers ingest arxiv-ids``: look papers up by id through the arXiv API (Atom).

:func:`fetch_papers` takes ids as people type them (``2501.01234``, ``2501.01234v2``,
``arXiv:...``, ``https://arxiv.org/abs/...``), asks the API for up to 100 of them per request
(``id_list``, one request every few seconds as arXiv asks) and yields a
:class:`~dailypapers.paper.PaperRecord` per paper found. Paper submission calls it with a
single id. What cannot be had is reported as :class:`~dailypapers.ingest.run.Skipped`: text
that is not an arXiv id, the API's error entries (HTTP 400 with an ``<entry>`` titled
"Error") and ids the API silently leaves out of its answer.

API reference: https://info.arxiv.org/help/api/user-manual.html
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dailypapers.ingest.atom import parse_feed, utc_time
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.run import Item, Skipped, SourceUnusable
from dailypapers.paper import InvalidRecord, PaperRecord, make_record, parse_arxiv_id

# arXiv documents id_list for "a few" ids; 100 keeps the URL short and one page is enough.
IDS_PER_REQUEST = 100
# The API terms ask for no more than one request every three seconds.
PAUSE_SECONDS = 3.0
_ERROR_ID_MARK = "arxiv.org/api/errors"


def _categories(entry: Any) -> list[str]:
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    others = [tag.get("term") or "" for tag in entry.get("tags") or []]
    return ([primary] if primary else []) + others


def entry_record(entry: Any) -> PaperRecord:
    """One API ``<entry>`` as a record; raises :class:`InvalidRecord` if it is not a paper."""
    return make_record(
        entry.get("id") or "",
        entry.get("title"),
        abstract=entry.get("summary"),
        authors=[author.get("name") or "" for author in entry.get("authors") or []],
        categories=_categories(entry),
        comment=entry.get("arxiv_comment"),
        journal_ref=entry.get("arxiv_journal_ref"),
        doi=entry.get("arxiv_doi"),
        submitted_at=utc_time(entry.get("published_parsed")),
        updated_at=utc_time(entry.get("updated_parsed")),
    )


def is_error_entry(entry: Any) -> bool:
    return _ERROR_ID_MARK in str(entry.get("id") or "")


def _describe(batch: Sequence[str]) -> str:
    """Which request a report is about: "id X", "ids X, Y" or "ids X, Y, Z and 97 more"."""
    shown = ", ".join(batch[:3])
    more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
    return f"{'id' if len(batch) == 1 else 'ids'} {shown}{more}"


def feed_items(feed: Any, batch: Sequence[str]) -> Iterator[Item]:
    """Records, error entries and silently dropped ids of one answer to ``batch``."""
    wanted = {parse_arxiv_id(text)[0]: text for text in batch}
    errors = [entry for entry in feed.entries if is_error_entry(entry)]
    for entry in errors:
        yield Skipped(_describe(batch), f"arXiv API error: {entry.get('summary') or 'unknown'}")
    for position, entry in enumerate(feed.entries, start=1):
        if is_error_entry(entry):
            continue
        try:
            record = entry_record(entry)
        except InvalidRecord as error:
            yield Skipped(f"{_describe(batch)}, entry {position}", str(error))
            continue
        wanted.pop(record.arxiv_id, None)
        yield record
    if not errors:  # after an error the whole request failed; it was reported once above
        for text in wanted.values():
            yield Skipped(text, "not found")


def _request_ids(texts: Iterable[str]) -> Iterator[str | Skipped]:
    """Each id once, as the API wants it (``2501.01234v2``); text that is no id is Skipped."""
    seen: set[str] = set()
    for text in texts:
        try:
            arxiv_id, version = parse_arxiv_id(text)
        except InvalidRecord as error:
            yield Skipped(text.strip()[:80] or repr(text), str(error))
            continue
        request = f"{arxiv_id}v{version}" if version else arxiv_id
        if request not in seen:
            seen.add(request)
            yield request


def _batches(requests: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(requests), size):
        yield requests[start : start + size]


def fetch_batch(fetcher: Fetcher, base_url: str, batch: Sequence[str]) -> Iterator[Item]:
    """One API request for up to :data:`IDS_PER_REQUEST` ids."""
    params = {"id_list": ",".join(batch), "start": "0", "max_results": str(len(batch))}
    # 400 carries an Atom error entry that says what was wrong; it is reported, not retried.
    response = fetcher.get(base_url, params, ok=frozenset({400}))
    feed = parse_feed(response.content, f"{base_url} ({_describe(batch)})")
    if response.status_code == 400 and not any(is_error_entry(e) for e in feed.entries):
        raise SourceUnusable(f"{base_url}: HTTP 400 without an arXiv error entry")
    yield from feed_items(feed, batch)


def fetch_papers(
    ids: Iterable[str],
    fetcher: Fetcher,
    base_url: str,
    *,
    per_request: int = IDS_PER_REQUEST,
    pause: float = PAUSE_SECONDS,
) -> Iterator[Item]:
    """Records for ``ids`` (ids, versioned ids or arxiv.org URLs), with what was skipped."""
    requests: list[str] = []
    for parsed in _request_ids(ids):
        if isinstance(parsed, Skipped):
            yield parsed
        else:
            requests.append(parsed)
    for number, batch in enumerate(_batches(requests, per_request)):
        if number:
            fetcher.sleep(pause)
        yield from fetch_batch(fetcher, base_url, batch)
