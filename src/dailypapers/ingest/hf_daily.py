"""``dailypapers ingest hf-daily``: which papers Hugging Face Daily Papers featured, from files.

Three shapes are read, detected from the file:

* a ``/api/daily_papers`` answer: a JSON array of items with ``paper`` (``id``, ``authors``,
  ``publishedAt``, ``title``, ``summary``, ``upvotes``, ``githubRepo``, ``githubStars``,
  ``projectPage``, ``submittedOnDailyAt``, ``submittedOnDailyBy``) and ``submittedBy``;
* a single ``/api/papers/{id}`` object (the ``paper`` part on its own);
* JSON Lines, one of the above per line, or featured records ``{date, arxiv_id, title,
  first_author, hf_url, tags}`` such as ``shared/data/hf-daily-papers/deepdiver_featured.jsonl``.

JSON Lines are streamed; a whole JSON document is loaded at once, so files over
:data:`MAX_DOCUMENT_BYTES` are refused. A bad item is skipped with its position ("item 3",
"line 17"); a file that is not JSON at all is unusable (exit 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dailypapers.ingest.files import load_json
from dailypapers.ingest.run import Item, Skipped, SourceUnusable, missing_reason
from dailypapers.paper import InvalidRecord, PaperRecord, make_record

# The daily and single-paper answers are well under 1 MB; a bigger document is a mistake.
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
# If this many leading non-blank lines are all unreadable, the file is not JSON Lines.
NOT_JSONL_AFTER = 20


def _field(raw: dict[str, Any], name: str, kind: type) -> Any:
    """``raw[name]`` if it is given and of ``kind``; a value of another type is an error."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidRecord(f"'{name}' is {type(value).__name__}, not {kind.__name__}")
    return value


def _moment(raw: dict[str, Any], name: str) -> datetime | None:
    text = _field(raw, name, str)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRecord(f"'{name}' is not an ISO date: {text[:40]!r}") from None


def _day(raw: dict[str, Any], name: str) -> date | None:
    moment = _moment(raw, name)
    return moment.date() if moment else None  # HF stamps the featured day at 00:00 UTC


def _text(raw: dict[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` that holds a non-blank string."""
    for key in keys:
        if isinstance(raw.get(key), str) and raw[key].strip():
            return str(raw[key])
    return None


def _submitter(raw: object) -> dict[str, str | None]:
    """An HF user object as record fields: the name shown (full name, else the user name),
    the user name (``name``; ``submittedOnDailyBy`` repeats it as ``user``), avatar and type.
    """
    if not isinstance(raw, dict):
        return {}
    return {
        "featured_by": _text(raw, "fullname", "user", "name"),
        "featured_by_user": _text(raw, "name", "user"),
        "featured_by_avatar": _text(raw, "avatarUrl"),
        "featured_by_type": _text(raw, "type"),
    }


def _authors(paper: dict[str, Any]) -> list[str]:
    listed = _field(paper, "authors", list) or []
    return [str(a.get("name") or "") for a in listed if isinstance(a, dict)]


def paper_record(paper: dict[str, Any], item: dict[str, Any] | None = None) -> PaperRecord:
    """A ``paper`` object (of a daily item, or ``/api/papers/{id}``) as a record."""
    item = item or {}
    featured_by = paper.get("submittedOnDailyBy") or item.get("submittedBy")
    return make_record(
        str(_field(paper, "id", str) or ""),
        _field(paper, "title", str) or _field(item, "title", str),
        abstract=_field(paper, "summary", str) or _field(item, "summary", str),
        authors=_authors(paper),
        submitted_at=_moment(paper, "publishedAt"),
        featured_on=_day(paper, "submittedOnDailyAt"),
        **_submitter(featured_by),
        hf_upvotes=_field(paper, "upvotes", int),
        github_repo=_field(paper, "githubRepo", str),
        github_stars=_field(paper, "githubStars", int),
        project_page=_field(paper, "projectPage", str),
        hf_comments=_field(item, "numComments", int),
    )


def featured_record(raw: dict[str, Any]) -> PaperRecord:
    """A ``{date, arxiv_id, title, first_author, ...}`` record.

    ``first_author`` is left out: stored as the author list it would replace the full list
    another source gave.
    """
    return make_record(
        str(_field(raw, "arxiv_id", str) or ""),
        _field(raw, "title", str),
        featured_on=_day(raw, "date"),
    )


def parse_object(raw: object) -> PaperRecord:
    """Any of the three shapes; :class:`InvalidRecord` for anything else."""
    if not isinstance(raw, dict):
        raise InvalidRecord(f"expected a JSON object, got {type(raw).__name__}")
    if isinstance(raw.get("paper"), dict):
        return paper_record(raw["paper"], raw)
    if "arxiv_id" in raw:
        return featured_record(raw)
    if "id" in raw and "title" in raw:
        return paper_record(raw)
    raise InvalidRecord("neither a daily-papers item, a paper nor a featured record")


def _parsed(raw: object, where: str) -> Item:
    """A record, or the item skipped with why: any failure of one item skips only it."""
    try:
        return parse_object(raw)
    except InvalidRecord as error:
        return Skipped(where, str(error))
    except Exception as error:
        return Skipped(where, f"unreadable item: {type(error).__name__}: {error}")


def _first_line(path: Path) -> bytes | None:
    with open(path, "rb") as stream:
        for line in stream:
            if line.strip():
                return line.strip()
    return None


def _is_json_lines(first: bytes) -> bool:
    """JSON Lines if the first line is a whole JSON object; a document starts '[' or '{'."""
    if first.startswith(b"["):
        return False
    try:
        json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return not first.startswith(b"{")
    except RecursionError:  # a whole line, nested too deeply: that line is skipped later
        return True
    return True


class HfDailySource:
    """The records of one file, in order; raises :class:`SourceUnusable` when opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise SourceUnusable(f"{path}: {missing_reason(path)}")
        first = _first_line(path)
        if first is None:
            raise SourceUnusable(f"{path}: empty file")
        self.json_lines = _is_json_lines(first)
        if not self.json_lines and path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise SourceUnusable(
                f"{path}: a JSON document over {MAX_DOCUMENT_BYTES // 2**20} MB; "
                "split it into JSON Lines (one item per line)"
            )

    def __iter__(self) -> Iterator[Item]:
        return self._lines() if self.json_lines else self._document()

    def _document(self) -> Iterator[Item]:
        try:
            raw = load_json(self.path.read_bytes())
        except InvalidRecord as error:
            raise SourceUnusable(f"{self.path}: not JSON ({error})") from None
        if isinstance(raw, list):
            for position, element in enumerate(raw, start=1):
                yield _parsed(element, f"{self.path.name} item {position}")
        elif isinstance(raw, dict):
            yield _parsed(raw, self.path.name)
        else:
            raise SourceUnusable(f"{self.path}: JSON {type(raw).__name__}, not papers")

    def _lines(self) -> Iterator[Item]:
        good, first_error = 0, None
        with open(self.path, "rb") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                for item in self._line_items(line, f"{self.path.name} line {number}"):
                    if isinstance(item, Skipped):
                        first_error = first_error or item
                        self._give_up_early(good, number, first_error)
                    else:
                        good += 1
                    yield item
        if good == 0 and first_error:
            raise SourceUnusable(f"{self.path}: no readable paper ({first_error.reason})")

    def _give_up_early(self, good: int, number: int, first_error: Skipped) -> None:
        """Stop at once when the first lines are all unreadable: the file is something else."""
        if good == 0 and number >= NOT_JSONL_AFTER:
            raise SourceUnusable(
                f"{self.path}: not JSON Lines of papers "
                f"(nothing readable in the first {number} lines; {first_error.reason})"
            )

    @staticmethod
    def _line_items(line: bytes, where: str) -> Iterator[Item]:
        """One line: an object, or a whole day's array (items numbered within the line)."""
        try:
            raw = load_json(line)
        except InvalidRecord as error:
            yield Skipped(where, str(error))
            return
        if isinstance(raw, list):
            for position, element in enumerate(raw, start=1):
                yield _parsed(element, f"{where} item {position}")
        else:
            yield _parsed(raw, where)
