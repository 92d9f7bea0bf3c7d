"""What the lexical index holds and how text becomes terms; shared by indexing and querying.

Fields: ``id`` (the arXiv id, raw, the only stored field), ``id_number`` (a new-style arXiv
id as a number, fast: :func:`id_number`; a search reads its hits' ids from it rather than
from the stored documents), ``title`` and ``abstract``
(English analyzer: words, lowercased, accents folded, Lucene's English stop words dropped,
Snowball-stemmed), ``authors`` (the same without stop words or stemming, so "Do" and "An"
stay names), ``author_key`` and ``categories`` (raw, for exact filters), ``day`` (integer
yyyymmdd, fast, for date ranges) and ``has_code`` (bool). Queries must analyze text with the
very analyzers the index was built with, so both sides get them from here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache
from typing import Final

import tantivy

from dailypapers.store.documents import Document

# BM25 field weights, multiplied into each field's BM25 score: a word in the title says more
# about a paper than the same word in its abstract; an author's name sits in between. Chosen
# by measurement, not taste: title weights 1 / 1.15 / 1.25 / 1.5 / 3 gave lexical nDCG@10
# 0.681 / 0.674 / 0.667 / 0.657 / 0.598 on BEIR SciFact (train claims, abstract-heavy), and
# hybrid (convex fusion) 0.724 / 0.723 / 0.721 / 0.716 / -; on the arXiv listings, 3 words of a
# title put the paper in the top 10 461 (weight 1) to 480 (weight 3) times out of 499. 1.15
# keeps lexical search above published BM25 on SciFact (0.665) while ranking titles higher.
# Exact titles come first at any of these weights (see ``TITLE_PHRASE_BOOST``).
FIELD_BOOSTS: Final[dict[str, float]] = {"title": 1.15, "authors": 1.1, "abstract": 1.0}
TEXT_FIELDS: Final = ("title", "abstract")

STEMMED: Final = "dp_english"
NAMES: Final = "dp_names"
# Longer "words" are base64, URLs or DNA strings; tantivy's own analyzers use the same limit.
MAX_TOKEN_CHARS: Final = 40
# Raw terms longer than this (author names, categories) cannot be real ones.
MAX_RAW_CHARS: Final = 300

# A new-style arXiv id ("2501.01234"; 4 digits after the dot before 2015): the ids a search
# reads as numbers (``id_number``). Any other id (old-style, a benchmark corpus's) is 0 there
# and read from the stored document.
_NUMBERED_ID = re.compile(r"\d{4}\.\d{4,5}", re.ASCII)
NO_NUMBER: Final = 0


def id_number(paper_id: str) -> int:
    """``2501.01234`` as ``1250101234``: a leading 1, then the id's digits (so the count of
    digits after the dot, 4 or 5, is kept); :data:`NO_NUMBER` for any other id."""
    if _NUMBERED_ID.fullmatch(paper_id) is None:
        return NO_NUMBER
    return int("1" + paper_id.replace(".", "", 1))


def number_id(number: int) -> str:
    """The id whose :func:`id_number` is ``number`` (not :data:`NO_NUMBER`); ValueError for
    a number no id has (a damaged column: the search then reports the index unusable)."""
    digits = str(number)
    if len(digits) not in (9, 10) or digits[0] != "1":
        raise ValueError(f"{number} is not an id's number")
    return f"{digits[1:5]}.{digits[5:]}"


@cache
def analyzer(name: str) -> tantivy.TextAnalyzer:
    """The analyzer registered as ``name`` (:data:`STEMMED` or :data:`NAMES`)."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if name == STEMMED:
        builder = builder.filter(tantivy.Filter.stopword("english")).filter(
            tantivy.Filter.stemmer("english")
        )
    elif name != NAMES:
        raise ValueError(f"unknown analyzer {name!r}; valid: {STEMMED}, {NAMES}")
    return builder.build()


def register_analyzers(index: tantivy.Index) -> None:
    """Tantivy keeps only analyzer names in the index; every opened index needs them again."""
    for name in (STEMMED, NAMES):
        index.register_tokenizer(name, analyzer(name))


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_unsigned_field("id_number", fast=True)
    builder.add_text_field("title", tokenizer_name=STEMMED)
    builder.add_text_field("abstract", tokenizer_name=STEMMED)
    builder.add_text_field("authors", tokenizer_name=NAMES)
    builder.add_text_field("author_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", indexed=True, fast=True)
    builder.add_boolean_field("has_code", indexed=True, fast=True)
    return builder.build()


def printable(text: str) -> str:
    """``text`` with control, format and surrogate characters (NUL, say) made spaces.

    Tantivy takes only valid Unicode, and such characters are never part of a word.
    """
    if text.isprintable():  # nearly always; checked at C speed
        return text
    return "".join(ch if ch.isprintable() else " " for ch in text)


def author_key(name: str) -> str:
    """An author's name as the exact-author filter compares it: NFKC, casefolded, one space."""
    return " ".join(unicodedata.normalize("NFKC", printable(name)).casefold().split())[
        :MAX_RAW_CHARS
    ]


def day_number(day: date) -> int:
    """``date(2025, 3, 4)`` as ``20250304``: ordered like dates, cheap as a fast field."""
    return day.year * 10_000 + day.month * 100 + day.day


def to_tantivy(document: Document) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", document.id)
    doc.add_unsigned("id_number", id_number(document.id))
    doc.add_text("title", printable(document.title))
    doc.add_text("abstract", printable(document.abstract))
    for name in document.authors:
        doc.add_text("authors", printable(name))
        doc.add_text("author_key", author_key(name))
    for category in document.categories:
        doc.add_text("categories", printable(category))
    if document.day is not None:
        doc.add_integer("day", day_number(document.day))
    doc.add_boolean("has_code", document.has_code)
    return doc
