"""Parsing OAI-PMH response pages and the arXiv metadata formats inside them; no network here.

:func:`parse_page` reads one ListRecords response into a :class:`Page` (its ``<record>``
elements, resumption token, list size, response date and any OAI error). :func:`parse_record`
turns one ``<record>`` into a :class:`PaperRecord`, whichever format the record carries:

* ``arXiv``: ``id, created, updated, authors/author(keyname, forenames, suffix), title,
  categories, comments, journal-ref, doi, abstract``;
* ``arXivRaw``: ``id, submitter, version(date)..., title, authors`` (one string), ``categories,
  comments, journal-ref, doi, abstract``;
* ``oai_dc``: Dublin Core (``dc:title``, ``dc:creator`` as "Last, First", ``dc:date``...), which
  names subjects in words, so its records carry no category codes.

The harvester (:mod:`dailypapers.ingest.oaipmh`) runs these on each page it fetches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from dailypapers.paper import InvalidRecord, PaperRecord, make_record

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_ID_PREFIX = "oai:arXiv.org:"


class NotOaiPmh(ValueError):
    """The body is not XML, or not an OAI-PMH response."""


@dataclass(frozen=True)
class OaiError:
    code: str
    message: str


@dataclass
class Page:
    """One ListRecords response; ``token`` is None on the last page."""

    records: list[Element] = field(default_factory=list)
    token: str | None = None
    complete_list_size: int | None = None
    response_date: date | None = None
    error: OaiError | None = None


def _text(parent: Element, tag: str) -> str | None:
    child = parent.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _response_date(root: Element) -> date | None:
    text = _text(root, f"{OAI}responseDate")
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def parse_page(body: bytes) -> Page:
    """Read one OAI-PMH response; raises :class:`NotOaiPmh` when it is not one."""
    try:
        root = SafeET.fromstring(body)
    except (ParseError, DefusedXmlException) as error:
        raise NotOaiPmh(f"not XML ({error})") from None
    if root.tag != f"{OAI}OAI-PMH":
        raise NotOaiPmh(f"not an OAI-PMH response (root element {root.tag!r})")
    page = Page(response_date=_response_date(root))
    failure = root.find(f"{OAI}error")
    if failure is not None:
        message = " ".join((failure.text or "").split())
        page.error = OaiError(failure.get("code", "unknown"), message)
        return page
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise NotOaiPmh("an OAI-PMH response without ListRecords or error")
    page.records = listing.findall(f"{OAI}record")
    token = listing.find(f"{OAI}resumptionToken")
    if token is not None:
        # The last page of a list may carry an empty token (OAI-PMH 2.0, section 3.5).
        page.token = (token.text or "").strip() or None
        page.complete_list_size = _int_or_none(token.get("completeListSize"))
    return page


def is_deleted(record: Element) -> bool:
    header = record.find(f"{OAI}header")
    return header is not None and header.get("status") == "deleted"


def header_id(record: Element) -> str | None:
    identifier = _text(record, f"{OAI}header/{OAI}identifier")
    return identifier.removeprefix(OAI_ID_PREFIX) if identifier else None


def _day(text: str | None) -> datetime | None:
    """An arXiv ``YYYY-MM-DD`` date as midnight UTC."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text[:10])
    except ValueError:
        raise InvalidRecord(f"unreadable date {text!r}") from None


def _arxiv_author(author: Element) -> str:
    parts = (_text(author, f"{ARXIV}{name}") for name in ("forenames", "keyname", "suffix"))
    return " ".join(part for part in parts if part)


def _parse_arxiv(meta: Element, fallback_id: str) -> PaperRecord:
    created = _day(_text(meta, f"{ARXIV}created"))
    updated = _day(_text(meta, f"{ARXIV}updated"))
    return make_record(
        _text(meta, f"{ARXIV}id") or fallback_id,
        _text(meta, f"{ARXIV}title"),
        abstract=_text(meta, f"{ARXIV}abstract"),
        authors=[_arxiv_author(a) for a in meta.iterfind(f"{ARXIV}authors/{ARXIV}author")],
        categories=(_text(meta, f"{ARXIV}categories") or "").split(),
        comment=_text(meta, f"{ARXIV}comments"),
        journal_ref=_text(meta, f"{ARXIV}journal-ref"),
        doi=_text(meta, f"{ARXIV}doi"),
        submitted_at=created,
        # Without <updated> there is only v1; the arXiv API then gives updated == published.
        updated_at=updated or created,
    )


_PARENTHESISED = re.compile(r"\([^()]*\)")


def split_author_string(text: str) -> list[str]:
    """arXivRaw's ``"A. One (MIT), B. Two, and C. Three"`` as ``["A. One", "B. Two", "C. Three"]``.

    Affiliations in parentheses go first, because they contain commas of their own.
    """
    previous = None
    while previous != text:  # nested "((1) MIT, (2) CERN)" needs more than one pass
        previous, text = text, _PARENTHESISED.sub(" ", text)
    names = []
    for chunk in " ".join(text.split()).split(","):
        for name in re.split(r"(?:^|\s)and\s", chunk.strip()):
            if name.strip():
                names.append(name.strip())
    return names


def _versions(meta: Element) -> list[tuple[int, datetime]]:
    found = []
    for element in meta.iterfind(f"{ARXIV_RAW}version"):
        label = element.get("version", "").lstrip("v")
        when = _text(element, f"{ARXIV_RAW}date")
        if not label.isdigit() or not when:
            raise InvalidRecord(f"unreadable version {label!r} dated {when!r}")
        try:
            found.append((int(label), parsedate_to_datetime(when)))
        except (TypeError, ValueError):
            raise InvalidRecord(f"unreadable version date {when!r}") from None
    return sorted(found)


def _parse_arxiv_raw(meta: Element, fallback_id: str) -> PaperRecord:
    versions = _versions(meta)
    return make_record(
        _text(meta, f"{ARXIV_RAW}id") or fallback_id,
        _text(meta, f"{ARXIV_RAW}title"),
        version=versions[-1][0] if versions else None,
        abstract=_text(meta, f"{ARXIV_RAW}abstract"),
        authors=split_author_string(_text(meta, f"{ARXIV_RAW}authors") or ""),
        categories=(_text(meta, f"{ARXIV_RAW}categories") or "").split(),
        comment=_text(meta, f"{ARXIV_RAW}comments"),
        journal_ref=_text(meta, f"{ARXIV_RAW}journal-ref"),
        doi=_text(meta, f"{ARXIV_RAW}doi"),
        submitted_at=versions[0][1] if versions else None,
        updated_at=versions[-1][1] if versions else None,
    )


def _dc_creator(name: str) -> str:
    """Dublin Core's "Last, First" as "First Last"."""
    last, _, first = name.partition(",")
    return f"{first.strip()} {last.strip()}".strip()


def _parse_oai_dc(meta: Element, fallback_id: str) -> PaperRecord:
    descriptions = [d.text.strip() for d in meta.iterfind(f"{DC}description") if d.text]
    comments = [
        d.removeprefix("Comment:").strip() for d in descriptions if d.startswith("Comment:")
    ]
    abstracts = [d for d in descriptions if not d.startswith("Comment:")]
    dates = sorted(filter(None, (_day(d.text) for d in meta.iterfind(f"{DC}date"))))
    identifiers = [i.text or "" for i in meta.iterfind(f"{DC}identifier")]
    abs_url = next((i for i in identifiers if "arxiv.org/abs/" in i), None)
    return make_record(
        abs_url or fallback_id,
        _text(meta, f"{DC}title"),
        abstract=abstracts[0] if abstracts else None,
        authors=[_dc_creator(c.text) for c in meta.iterfind(f"{DC}creator") if c.text],
        comment=comments[0] if comments else None,
        submitted_at=dates[0] if dates else None,
        updated_at=dates[-1] if dates else None,
    )


_PARSERS = {
    f"{ARXIV}arXiv": _parse_arxiv,
    f"{ARXIV_RAW}arXivRaw": _parse_arxiv_raw,
    f"{OAI_DC}dc": _parse_oai_dc,
}


def parse_record(record: Element) -> PaperRecord:
    """One ``<record>`` (not deleted) as a paper; raises :class:`InvalidRecord`."""
    identifier = header_id(record) or ""
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or len(metadata) == 0:
        raise InvalidRecord(f"{identifier or 'record'}: no metadata")
    payload = metadata[0]
    parser = _PARSERS.get(payload.tag)
    if parser is None:
        raise InvalidRecord(f"{identifier or 'record'}: unknown metadata format {payload.tag!r}")
    return parser(payload, identifier)
