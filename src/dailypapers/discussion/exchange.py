"""A collection in and out: export as BibTeX, CSV or JSON; import arXiv ids from text, a
BibTeX file, or this site's own CSV and JSON exports.

Import reads ids in the order given (text one per line or separated by spaces or commas,
arxiv.org URLs accepted; BibTeX ``eprint``, ``url`` or ``doi`` = ``10.48550/arXiv.ID``
fields). Ids the store lacks are fetched from the arXiv API through the ingest's client
(:func:`dailypapers.ingest.arxiv_api.fetch_papers`), the way a submission is; ids arXiv does
not know are reported as not found, and all of them as unreachable when arXiv cannot be
asked. The papers fetched and the items are then written in one transaction: an import
adds everything it reports as added, or nothing. Export then import gives the same ids in
the same order (``tests/discussion/test_exchange.py``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC

from dailypapers.discussion.collections import (
    ITEMS_MAX,
    Collection,
    CollectionError,
    Item,
    _own,
    utcnow,
)
from dailypapers.ingest.arxiv_api import fetch_papers
from dailypapers.ingest.http import Fetcher, make_fetcher
from dailypapers.ingest.run import SourceUnusable
from dailypapers.paper import InvalidRecord, PaperRecord, parse_arxiv_id
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import collections as sql
from dailypapers.store.papers import get_paper, upsert_papers
from dailypapers.web.bibtex import bibtex

FETCH_TIMEOUT = 15.0  # seconds one arXiv API request may take while a member waits
IMPORT_MAX_BYTES = 2_000_000
CSV_FIELDS = ("position", "arxiv_id", "title", "authors", "added_at", "note", "url")


# -- export -----------------------------------------------------------------------------------


def _url(paper_id: str) -> str:
    return f"https://arxiv.org/abs/{paper_id}"


def export_bibtex(store: Store, items: Sequence[Item]) -> str:
    """One BibTeX entry per item, in the items' order (web/bibtex.py's form)."""
    with store.read() as connection:
        records = [get_paper(connection, item.paper_id) for item in items]
    return "\n".join(bibtex(record) for record in records if record is not None)


def export_csv(items: Sequence[Item]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for number, item in enumerate(items):
        entry = item.entry
        writer.writerow(
            [
                number,
                item.paper_id,
                entry.title if entry else "",
                "; ".join(entry.authors) if entry else "",
                item.added_at.replace(tzinfo=UTC).isoformat(),
                item.note or "",
                _url(item.paper_id),
            ]
        )
    return out.getvalue()


def export_json(collection: Collection, items: Sequence[Item], owner: str) -> dict[str, object]:
    return {
        "name": collection.name,
        "slug": collection.slug,
        "owner": owner,
        "public": collection.public,
        "items": [
            {
                "paperId": item.paper_id,
                "title": item.entry.title if item.entry else None,
                "note": item.note,
                "addedAt": item.added_at.replace(tzinfo=UTC).isoformat(),
                "url": _url(item.paper_id),
            }
            for item in items
        ],
    }


# -- reading ids --------------------------------------------------------------------------------


@dataclass
class ParsedIds:
    """Ids in the order first found (each once) and the pieces that were no id."""

    ids: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        try:
            paper_id = parse_arxiv_id(text)[0]
        except InvalidRecord:
            self.invalid.append(text.strip()[:80])
            return
        if paper_id not in self.ids:
            self.ids.append(paper_id)


_BIB_ENTRY = re.compile(r"@\s*(\w+)\s*\{\s*([^,\s]*)\s*,", re.ASCII)
_BIB_FIELD = re.compile(r"(\w+)\s*=\s*", re.ASCII)
_DOI = re.compile(r"(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arxiv\.(.+)", re.IGNORECASE)


def _bib_value(text: str, at: int) -> tuple[str, int]:
    """The field value starting at ``at`` ({...}, "..." or a bare word) and where it ends."""
    if at < len(text) and text[at] == "{":
        depth, end = 0, at
        while end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
            if depth == 0:
                break
        return text[at + 1 : end - 1], end
    if at < len(text) and text[at] == '"':
        end = text.find('"', at + 1)
        end = len(text) if end < 0 else end
        return text[at + 1 : end], end + 1
    match = re.match(r"[^,}\s]*", text[at:])
    word = match.group(0) if match else ""
    return word, at + len(word)


def _bib_entries(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(key, fields lower-cased) of each entry of a BibTeX file."""
    starts = list(_BIB_ENTRY.finditer(text))
    for number, start in enumerate(starts):
        if start.group(1).lower() in ("comment", "preamble", "string"):
            continue
        end = starts[number + 1].start() if number + 1 < len(starts) else len(text)
        body, fields, at = text[start.end() : end], {}, 0
        while (found := _BIB_FIELD.search(body, at)) is not None:
            value, at = _bib_value(body, found.end())
            fields[found.group(1).lower()] = re.sub(r"[{}]", "", value).strip()
        yield start.group(2), fields


def _bib_id(fields: dict[str, str]) -> str | None:
    for name in ("eprint", "url", "doi"):
        value = fields.get(name, "")
        if name == "doi":
            match = _DOI.match(value)
            value = match.group(1) if match else ""
        if not value:
            continue
        try:
            return parse_arxiv_id(value)[0]
        except InvalidRecord:
            continue
    return None


def _from_bibtex(text: str, parsed: ParsedIds) -> None:
    for key, fields in _bib_entries(text):
        paper_id = _bib_id(fields)
        if paper_id is None:
            parsed.invalid.append(f"@{key or '?'} (no arXiv eprint, url or doi)")
        elif paper_id not in parsed.ids:
            parsed.ids.append(paper_id)


def _from_json(data: object, parsed: ParsedIds) -> None:
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise CollectionError('JSON to import is a list of ids, or an object with "items"', 400)
    for item in items:
        if isinstance(item, dict):
            item = item.get("paperId") or item.get("id") or item.get("arxiv_id") or ""
        parsed.add(str(item))


def parse_ids(text: str) -> ParsedIds:
    """The arXiv ids in ``text``: BibTeX, JSON (our export or a list), our CSV, or ids."""
    if len(text.encode()) > IMPORT_MAX_BYTES:
        raise CollectionError(f"at most {IMPORT_MAX_BYTES // 1_000_000} MB to import", 413)
    parsed, stripped = ParsedIds(), text.strip().lstrip("\ufeff")
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except ValueError as error:
            raise CollectionError(f"that JSON cannot be read: {error}", 400) from None
        _from_json(data, parsed)
    elif _BIB_ENTRY.search(stripped):
        _from_bibtex(stripped, parsed)
    elif stripped.split("\n", 1)[0].strip().split(",")[:2] == ["position", "arxiv_id"]:
        for row in csv.DictReader(io.StringIO(stripped)):
            parsed.add(row.get("arxiv_id") or "")
    else:
        for token in re.split(r"[\s,;]+", stripped):
            if token:
                parsed.add(token)
    return parsed


# -- import -------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "already": self.already,
            "fetched": self.fetched,
            "notFound": self.not_found,
            "unreachable": self.unreachable,
            "invalid": self.invalid,
            "message": self.message,
        }


def _fetch(missing: list[str], settings: Settings, fetcher: Fetcher | None) -> list[PaperRecord]:
    """The records arXiv has for ``missing``; SourceUnusable when it cannot be asked."""
    own = fetcher is None
    if fetcher is None:
        fetcher = make_fetcher(settings)
        fetcher.retries, fetcher.timeout = 0, min(settings.http_timeout, FETCH_TIMEOUT)
    try:
        items = list(fetch_papers(missing, fetcher, settings.arxiv_api_url))
    finally:
        if own:
            fetcher.close()
    wanted = set(missing)
    return [i for i in items if isinstance(i, PaperRecord) and i.arxiv_id in wanted]


def import_ids(
    store: Store,
    settings: Settings,
    user_id: int,
    collection_id: int,
    parsed: ParsedIds,
    fetcher: Fetcher | None = None,
) -> ImportReport:
    """Add ``parsed.ids`` to the end of the member's collection, in order (see the module)."""
    report = ImportReport(invalid=list(parsed.invalid))
    with store.read() as connection:
        _own(connection, user_id, collection_id)
        stored = sql.existing_papers(connection, parsed.ids)
    missing = [i for i in parsed.ids if i not in stored]
    records: list[PaperRecord] = []
    if missing:
        try:
            records = _fetch(missing, settings, fetcher)
        except SourceUnusable as error:
            report.unreachable = missing
            report.message = f"arXiv cannot be reached just now ({error}); try those again later"
        else:
            found = {r.arxiv_id for r in records}
            report.fetched = [i for i in missing if i in found]
            report.not_found = [i for i in missing if i not in found]
    known = stored | {r.arxiv_id for r in records}
    with store.write() as connection:
        _own(connection, user_id, collection_id)
        if records:
            upsert_papers(connection, records)
        present = {r["paper_id"] for r in sql.items(connection, collection_id)}
        adding = [i for i in parsed.ids if i in known and i not in present]
        if len(present) + len(adding) > ITEMS_MAX:
            raise CollectionError(f"a collection holds at most {ITEMS_MAX} papers", 422)
        now = utcnow()
        for paper_id in adding:
            sql.add_item(connection, collection_id, paper_id, None, now)
        report.added = adding
        report.already = [i for i in parsed.ids if i in present]
        sql.update_collection(connection, collection_id, {"updated_at": now})
    return report
