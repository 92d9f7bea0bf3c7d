"""``dailypapers ingest file``: JSON Lines files, plain or gzipped, streamed line by line.

Two formats, detected per record (``--format`` forces one):

* ``snapshot``: the arXiv metadata snapshot published on Kaggle (``id, submitter, authors,
  title, comments, journal-ref, doi, categories, abstract, versions, update_date,
  authors_parsed``);
* ``listing``: daily-listing records (``id, title, summary, authors, categories, comment, pdf,
  abs, listing_dates``) such as ``shared/data/arxiv-daily-listings/papers.jsonl.gz``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from dailypapers.ingest.run import Item, Skipped, SourceDamaged, SourceUnusable, missing_reason
from dailypapers.paper import InvalidRecord, PaperRecord, make_record

FileFormat = Literal["auto", "snapshot", "listing"]

# If this many leading non-blank lines are all unreadable, the file is not JSON Lines at all.
NOT_JSONL_AFTER = 20


def _author_name(parts: list[str]) -> str:
    """``["Last", "First", "Jr."]`` from ``authors_parsed`` as "First Last Jr."."""
    last, first, suffix = (list(parts) + ["", "", ""])[:3]
    return " ".join(p for p in (first, last, suffix) if p)


def _split_authors(text: str) -> list[str]:
    text = " ".join(text.split())
    names = [n for chunk in text.split(",") for n in chunk.split(" and ")]
    return [name.strip() for name in names if name.strip()]


def _version_dates(
    versions: list[dict[str, str]],
) -> tuple[int | None, datetime | None, datetime | None]:
    numbers, moments = [], []
    for entry in versions:
        label = str(entry.get("version", "")).lstrip("v")
        if label.isdigit():
            numbers.append(int(label))
        if entry.get("created"):
            moments.append(parsedate_to_datetime(entry["created"]))
    return (
        max(numbers) if numbers else None,
        min(moments) if moments else None,
        max(moments) if moments else None,
    )


def parse_snapshot(raw: dict[str, Any]) -> PaperRecord:
    """A Kaggle arXiv-snapshot record."""
    if "abstract" not in raw:
        raise InvalidRecord("not a snapshot record: no 'abstract' field")
    version, submitted, updated = _version_dates(raw.get("versions") or [])
    if raw.get("authors_parsed"):
        names = [_author_name(parts) for parts in raw["authors_parsed"]]
    else:
        names = _split_authors(raw.get("authors") or "")
    return make_record(
        raw.get("id") or "",
        raw.get("title"),
        version=version,
        abstract=raw.get("abstract"),
        authors=names,
        categories=str(raw.get("categories") or "").split(),
        comment=raw.get("comments"),
        journal_ref=raw.get("journal-ref"),
        doi=raw.get("doi"),
        submitted_at=submitted,
        updated_at=updated,
    )


def parse_listing(raw: dict[str, Any]) -> PaperRecord:
    """A daily-listing record; ``listing_dates[0]`` is the day arXiv first listed it."""
    if "summary" not in raw:
        raise InvalidRecord("not a listing record: no 'summary' field")
    listed = sorted(raw.get("listing_dates") or [])
    return make_record(
        raw.get("id") or "",
        raw.get("title"),
        abstract=raw.get("summary"),
        authors=raw.get("authors") or [],  # a list; make_record refuses anything else
        categories=raw.get("categories") or [],
        comment=raw.get("comment"),
        first_listed_on=date.fromisoformat(listed[0]) if listed else None,
    )


PARSERS: dict[str, Callable[[dict[str, Any]], PaperRecord]] = {
    "snapshot": parse_snapshot,
    "listing": parse_listing,
}


def detect_format(raw: dict[str, Any]) -> str:
    if "abstract" in raw or "authors_parsed" in raw or "versions" in raw:
        return "snapshot"
    if "summary" in raw or "listing_dates" in raw:
        return "listing"
    raise InvalidRecord("unknown record format: neither 'abstract' nor 'summary' is present")


def parse_line(line: bytes, fmt: FileFormat) -> PaperRecord:
    """One line as a record; anything wrong with it is :class:`InvalidRecord`.

    Any error counts, not only the expected ones: a record-level failure skips the record
    (with its line) and never ends the run.
    """
    raw = load_json(line)
    if not isinstance(raw, dict):
        raise InvalidRecord(f"expected a JSON object, got {type(raw).__name__}")
    parser = PARSERS[detect_format(raw) if fmt == "auto" else fmt]
    try:
        return parser(raw)
    except InvalidRecord:
        raise
    except Exception as error:
        raise InvalidRecord(f"unreadable field: {type(error).__name__}: {error}") from None


def load_json(text: bytes) -> Any:
    """``json.loads``, with every way it fails as :class:`InvalidRecord`.

    Deep nesting (100,000 ``[``) exhausts the parser's recursion: RecursionError.
    """
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidRecord(f"invalid JSON: {error}") from None
    except RecursionError:
        raise InvalidRecord("invalid JSON: nested too deeply") from None


class JsonLinesSource:
    """Records of one file; ``bytes_read`` tells how far into the (compressed) file it is."""

    def __init__(self, path: Path, fmt: FileFormat = "auto") -> None:
        self.path = path
        self.fmt = fmt
        self.bytes_read = 0
        if not path.is_file():
            raise SourceUnusable(f"{path}: {missing_reason(path)}")
        self.size = path.stat().st_size

    def _open(self, raw: BinaryIO) -> BinaryIO:
        with open(self.path, "rb") as probe:
            magic = probe.read(2)
        return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Item]:
        with open(self.path, "rb") as raw:
            stream = self._open(raw)
            good, bad, first_error = 0, 0, ""
            try:
                for number, line in enumerate(stream, start=1):
                    self.bytes_read = raw.tell()
                    if not line.strip():
                        continue
                    try:
                        yield parse_line(line, self.fmt)
                        good += 1
                    except InvalidRecord as error:
                        bad += 1
                        first_error = first_error or f"line {number}: {error}"
                        if good == 0 and bad >= NOT_JSONL_AFTER:
                            raise SourceUnusable(
                                f"{self.path}: not JSON Lines of arXiv records "
                                f"(the first {bad} records are unreadable; {first_error})"
                            ) from None
                        yield Skipped(f"{self.path.name} line {number}", str(error))
            except (OSError, EOFError, zlib.error) as error:
                # A truncated or corrupted file: the lines before the damage were whole.
                raise SourceDamaged(
                    f"{self.path}: damaged after line {good + bad} ({error}); "
                    "the records before it were kept"
                ) from None
            if good == 0 and bad > 0:
                raise SourceUnusable(f"{self.path}: no readable arXiv record ({first_error})")
            self.bytes_read = self.size
