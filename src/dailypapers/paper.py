"""The paper record every source produces and the store keeps, with its pure helpers.

Ingest modules turn a source's format into :class:`PaperRecord`; the store merges it into what
it already holds with :func:`merge` and decides "new / updated / unchanged" by comparing
:func:`content_hash` values. Nothing here touches the network or the database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TypeVar
from urllib.parse import urlsplit

# New-style ids (0704.0001 onwards, 5 digits after the dot since 2015) and old-style
# archive/YYMMNNN ids, optionally with a version; see https://info.arxiv.org/help/arxiv_identifier.html
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(
    rf"^(?:arxiv:)?(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?$", re.IGNORECASE | re.ASCII
)
_ARXIV_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>.+?)(?:\.pdf)?/?$",
    re.IGNORECASE,
)
# An arXiv category ("cs.CL", "hep-th", "math.AG"); listing data also carries MSC and ACM
# classes ("68T45, 62H30", "I.5.3; I.2.10") in the same list, which this rejects.
CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")


class InvalidRecord(ValueError):
    """A source record that cannot become a paper (no id, no title, unparsable)."""


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Split an arXiv id, versioned id or arxiv.org URL into (id without version, version).

    >>> parse_arxiv_id("https://arxiv.org/abs/2501.01234v2")
    ('2501.01234', 2)
    """
    candidate = text.strip()
    url = _ARXIV_URL_RE.match(candidate)
    if url:
        candidate = url.group("rest")
    match = ARXIV_ID_RE.match(candidate)
    if not match:
        raise InvalidRecord(f"not an arXiv id: {text[:80]!r}")
    version = match.group("version")
    arxiv_id = match.group("id")
    if "/" in arxiv_id:  # old-style archive names are lower case, the subject class upper
        archive, number = arxiv_id.split("/")
        arxiv_id = f"{archive.lower()}/{number}" if "." not in archive else arxiv_id
    return arxiv_id, int(version) if version else None


# Characters no paper text holds: C0 and C1 controls (NUL included; tabs and line breaks are
# whitespace, collapsed anyway), lone surrogates (JSON can escape them, "\ud800", but they
# cannot be encoded) and the two non-characters.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# Longest text a record may hold, far above any real arXiv record. Measured on the 74,728
# daily-listing records in shared/data/arxiv-daily-listings/papers.jsonl.gz (after spaces
# are collapsed): longest title 226 characters (2505.23030), abstract 3,488 (2510.01724),
# comment 421 (2504.10738), author name 512 (2506.02197, a collaboration's member list),
# 3,303 authors (2507.06261), 8 categories. A longer value is a broken or hostile record: it
# is skipped, not cut (a cut title would be stored as if it were the paper's).
MAX_CHARS = {
    "title": 1_000,
    "abstract": 20_000,
    "comment": 5_000,
    "journal_ref": 1_000,
    "doi": 1_000,
    "featured_by": 1_000,
    "featured_by_user": 1_000,
    "author": 5_000,
}
MAX_AUTHORS = 20_000
MAX_URL_CHARS = 2_000


def clean_text(text: str | None) -> str | None:
    """Collapse arXiv's hard line wraps and indentation into single spaces.

    Control characters and lone surrogates are dropped (see ``_UNWANTED``).
    """
    if text is None:
        return None
    cleaned = " ".join(_UNWANTED.sub(" ", text).split())
    return cleaned or None


def web_url(url: object) -> str | None:
    """``url`` when it is an http or https address with a host, else None.

    Only these are stored or rendered as links: ``javascript:``, ``data:`` and the like run
    in the reader's browser. A bare ``github.com/a/b`` (as Hugging Face sometimes gives) gets
    ``https://``.
    """
    return _web_text(url) if isinstance(url, str) else None


# Pages check every link they show again (rows stored before the check existed), a few hundred
# a page from a small set of addresses: remembered, the check costs nothing on a hot page.
@lru_cache(maxsize=2**16)
def _web_text(url: str) -> str | None:
    text = url.strip()
    if not text or len(text) > MAX_URL_CHARS or _UNWANTED.search(text):
        return None
    if "://" not in text and _BARE_HOST_RE.match(text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced [ in the host, say
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ch.isspace() or ch in '<>"\\' for ch in text):
        return None
    return text


# "github.com/a/b", "www.example.org": a host name first, no scheme.
_BARE_HOST_RE = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[/:?#]|$)", re.IGNORECASE | re.ASCII)


def clean_categories(categories: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Keep real arXiv categories, primary first, without duplicates."""
    seen: dict[str, None] = {}
    for raw in categories:
        for token in raw.split():
            if CATEGORY_RE.match(token):
                seen.setdefault(token, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class Link:
    """A link shown on a paper page: kind is abs, pdf, code, huggingface or project."""

    kind: str
    url: str


_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\\{}|^`]+"
    r"|(?<![\w./@-])(?:github\.com|gitlab\.com|huggingface\.co)/[^\s<>\"'\\{}|^`]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}>*'\""
# Links in abstracts that are neither code nor a project page.
_NOT_PROJECT = ("arxiv.org", "doi.org", "creativecommons.org", "dx.doi.org")
_CODE_HOSTS = ("github.com", "gitlab.com")


def _normalise_url(raw: str) -> str:
    url = raw.rstrip(_TRAILING)
    # A closing parenthesis that belongs to the URL (wikipedia style) stays.
    if raw.count("(") > url.count(")") and raw[len(url) :].startswith(")"):
        url += ")"
    if not url.lower().startswith(("http://", "https://")):
        url = "https://" + url
    return url


def _host_and_path(url: str) -> tuple[str, list[str]]:
    rest = url.split("://", 1)[-1]  # a URL without a scheme is all host and path
    host, _, path = rest.partition("/")
    host = host.lower().removeprefix("www.")
    return host, [part for part in path.split("/") if part]


def classify_url(url: str) -> Link | None:
    """Say whether a URL found in an abstract is code, a Hugging Face page or a project page."""
    host, parts = _host_and_path(url)
    if not host or "." not in host:
        return None
    if host in _CODE_HOSTS:
        if len(parts) < 2:
            return None  # a user or group page, not a repository
        repo = parts[1].removesuffix(".git")
        return Link("code", f"https://{host}/{parts[0]}/{repo}")
    if host == "huggingface.co" or host.endswith(".hf.space"):
        return Link("huggingface", url) if parts or host != "huggingface.co" else None
    if any(host == bad or host.endswith("." + bad) for bad in _NOT_PROJECT):
        return None
    return Link("project", url)


# Every match of _URL_RE starts with one of these, in some letter case.
_URL_MARKERS = ("http", "www.", "github.com", "gitlab.com", "huggingface.co")


def _url_search_start(text: str) -> int | None:
    """Where ``_URL_RE`` can first match in ``text``, or None if it surely matches nowhere.

    A case-insensitive regex scan is slow, most abstracts mention no URL, and those that do
    mostly do so near the end; finding the markers in the lower-cased text is much cheaper.
    Only ASCII text is pre-checked: lower-casing keeps its indices, and under IGNORECASE the
    regex also matches a few non-ASCII letters ("ı" as "i").
    """
    if not text.isascii():
        return 0
    lowered = text.lower()
    found = [index for index in map(lowered.find, _URL_MARKERS) if index >= 0]
    return min(found) if found else None


def find_links(*texts: str | None) -> tuple[Link, ...]:
    """Code, Hugging Face and project links mentioned in an abstract or comment, in order."""
    found: dict[str, Link] = {}
    for text in texts:
        start = _url_search_start(text) if text else None
        if text is None or start is None:
            continue
        # The look-behind still sees the text before ``start``.
        for match in _URL_RE.finditer(text, start):
            link = classify_url(_normalise_url(match.group(0)))
            if link is not None:
                found.setdefault(link.url.lower(), link)
    return tuple(found.values())


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper as a source describes it; ``None`` and empty tuples mean "not given"."""

    arxiv_id: str
    title: str
    version: int | None = None
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    first_listed_on: date | None = None
    featured_on: date | None = None
    featured_by: str | None = None
    hf_upvotes: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    hf_comments: int | None = None
    # Who featured it on Hugging Face besides the full name shown (``featured_by``): the
    # user name (huggingface.co/NAME), the avatar's URL and the account type ("user").
    featured_by_user: str | None = None
    featured_by_avatar: str | None = None
    featured_by_type: str | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    @property
    def links(self) -> tuple[Link, ...]:
        """Abstract and PDF links, then code and project links, without duplicates."""
        found: dict[str, Link] = {}
        pdf = f"https://arxiv.org/pdf/{self.arxiv_id}"
        if self.version:
            pdf += f"v{self.version}"
        candidates = [Link("abs", f"https://arxiv.org/abs/{self.arxiv_id}"), Link("pdf", pdf)]
        github_repo, project_page = web_url(self.github_repo), web_url(self.project_page)
        if github_repo:
            candidates.append(classify_url(github_repo) or Link("code", github_repo))
        if project_page:
            candidates.append(Link("project", project_page))
        candidates += find_links(self.abstract, self.comment)
        for link in candidates:
            if web_url(link.url):  # checked again here: what is rendered is only http(s)
                found.setdefault(link.url.lower(), link)
        return tuple(found.values())


def feed_day(record: PaperRecord) -> date | None:
    """The day a paper is shown in the daily feed.

    The day arXiv first listed it; else the day Hugging Face featured it; else the day it
    was submitted. The About page states this rule; the store keeps the result per paper.
    """
    if record.first_listed_on or record.featured_on:
        return record.first_listed_on or record.featured_on
    return record.submitted_at.date() if record.submitted_at else None


def utc_naive(moment: datetime) -> datetime:
    """Times are kept as naive UTC so SQLite and PostgreSQL give back the same value."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def make_record(arxiv_id: str, title: str | None, **fields: object) -> PaperRecord:
    """Build a cleaned record from raw source values, or raise :class:`InvalidRecord`."""
    if not arxiv_id or not str(arxiv_id).strip():
        raise InvalidRecord("record has no arXiv id")
    bare_id, version_in_id = parse_arxiv_id(str(arxiv_id))
    clean_title = clean_text(_text_or_none(bare_id, "title", title))
    if not clean_title:
        raise InvalidRecord(f"{bare_id}: record has no title")
    fields.setdefault("version", version_in_id)
    if fields.get("version") is None:
        fields["version"] = version_in_id
    _check_length(bare_id, "title", clean_title)
    for name in ("abstract", "comment", "journal_ref", "doi", "featured_by", "featured_by_user"):
        if name in fields:
            fields[name] = clean_text(_text_or_none(bare_id, name, fields[name]))
            _check_length(bare_id, name, fields[name])
    if "authors" in fields:
        fields["authors"] = _clean_authors(bare_id, fields["authors"])
    if "categories" in fields:
        fields["categories"] = clean_categories(
            _strings(bare_id, "categories", fields["categories"])
        )
    for name in ("github_repo", "project_page", "featured_by_avatar"):
        if name in fields:  # only http(s) links are kept: javascript: and data: never are
            fields[name] = web_url(fields[name])
    for name in ("submitted_at", "updated_at"):
        if isinstance(fields.get(name), datetime):
            fields[name] = utc_naive(fields[name])  # type: ignore[arg-type]
    return PaperRecord(arxiv_id=bare_id, title=clean_title, **fields)  # type: ignore[arg-type]


def _text_or_none(paper_id: str, name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidRecord(f"{paper_id}: '{name}' is {type(value).__name__}, not text")


def _check_length(paper_id: str, name: str, value: object) -> None:
    if isinstance(value, str) and len(value) > MAX_CHARS[name]:
        raise InvalidRecord(
            f"{paper_id}: {name} of {len(value):,} characters is longer than any real "
            f"arXiv record's (limit {MAX_CHARS[name]:,})"
        )


def _strings(paper_id: str, name: str, value: object) -> list[str]:
    """A list of texts; a single string (whose letters would each become one) is an error."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidRecord(f"{paper_id}: '{name}' must be a list of texts")
    return list(value)


def _clean_authors(paper_id: str, value: object) -> tuple[str, ...]:
    names = [clean_text(name) for name in _strings(paper_id, "authors", value)]
    if len(names) > MAX_AUTHORS:
        raise InvalidRecord(f"{paper_id}: {len(names):,} authors (limit {MAX_AUTHORS:,})")
    for name in names:
        _check_length(paper_id, "author", name)
    return tuple(name for name in names if name)


_CONTENT_FIELDS = (
    "title", "abstract", "authors", "categories", "comment", "journal_ref", "doi", "updated_at",
)  # fmt: skip
# What an older version must not overwrite in a newer one.
_VERSIONED_FIELDS = frozenset(_CONTENT_FIELDS + ("version",))
_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(PaperRecord))
# Fields added to the record after its first release (see :func:`content_hash`).
_LATER_FIELDS = ("hf_comments", "featured_by_user", "featured_by_avatar", "featured_by_type")


_When = TypeVar("_When", date, datetime)


def _earliest(a: _When | None, b: _When | None) -> _When | None:
    given = [x for x in (a, b) if x is not None]
    return min(given) if given else None


def _latest(a: _When | None, b: _When | None) -> _When | None:
    given = [x for x in (a, b) if x is not None]
    return max(given) if given else None


def merge(existing: PaperRecord | None, incoming: PaperRecord) -> PaperRecord:
    """What the store should hold after ``incoming`` arrives for a paper it may already have.

    A given value replaces a missing one; an older version never overwrites a newer one's
    content; listing and featuring dates keep the earliest; submission keeps the earliest and
    the arXiv update time the latest.
    """
    if existing is None:
        return incoming
    older = (
        incoming.version is not None
        and existing.version is not None
        and incoming.version < existing.version
    )
    values: dict[str, object] = {}
    for name in _FIELD_NAMES:
        old, new = getattr(existing, name), getattr(incoming, name)
        given = new is not None and new != ()
        keep_old = not given or (older and name in _VERSIONED_FIELDS)
        values[name] = old if keep_old else new
    values["submitted_at"] = _earliest(existing.submitted_at, incoming.submitted_at)
    values["updated_at"] = _latest(existing.updated_at, incoming.updated_at)
    values["first_listed_on"] = _earliest(existing.first_listed_on, incoming.first_listed_on)
    values["featured_on"] = _earliest(existing.featured_on, incoming.featured_on)
    return PaperRecord(**values)  # type: ignore[arg-type]


# Dates and times become str(); keys are sorted so the digest never depends on field order.
_HASH_ENCODER = json.JSONEncoder(default=str, sort_keys=True, ensure_ascii=False)


def content_hash(record: PaperRecord, links: tuple[Link, ...] | None = None) -> str:
    """A stable digest of everything stored about a paper, to tell "unchanged" cheaply.

    ``links`` may pass ``record.links`` when the caller has them already. Stored hashes must
    stay valid, so the digested text never changes: every
    field plus the links, as JSON. Fields are read directly rather than through
    ``dataclasses.asdict``, whose deep copy cost more than the rest of the hash together.
    """
    payload: dict[str, object] = {name: getattr(record, name) for name in _FIELD_NAMES}
    # Fields added after hashes were first stored count only when given, so the papers that
    # lack them keep their hashes.
    for name in _LATER_FIELDS:
        if payload[name] is None:
            del payload[name]
    links = record.links if links is None else links
    payload["links"] = [(link.kind, link.url) for link in links]
    text = _HASH_ENCODER.encode(payload)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def text_hash(record: PaperRecord) -> str:
    """A digest of the text that is embedded (title and abstract).

    Vectors are keyed on it rather than on :func:`content_hash`, so a paper whose upvotes,
    stars or links change keeps its vector.
    """
    text = f"{record.title}\x00{record.abstract or ''}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
