"""``dailypapers ingest rss``: arXiv's daily announcement feed for some categories.

One GET of ``{arxiv_rss_url}/cs.CL+cs.AI`` (several categories joined with '+', as arXiv
does), parsed with feedparser, in either of the two formats arXiv has served:

* RSS 2.0 (rss.arxiv.org, since 2024): ``<arxiv:announce_type>`` new, cross, replace or
  replace-cross; the description reads "arXiv:2409.01234v1 Announce Type: new Abstract: ...";
  ``dc:creator`` is a comma-separated author list; one ``<category>`` per category, primary
  first; ``arxiv:DOI`` and ``arxiv:journal_reference`` when given.
* RSS 1.0/RDF (before 2024): titles such as "Title. (arXiv:1808.01234v2 [cs.LG] UPDATED)",
  the abstract as HTML in the description, authors as HTML links in ``dc:creator``.

The feed's own date is the day of the announcement. New papers and cross-lists get it as
``first_listed_on``; replacements are papers listed before, so only their content (and the
version from the id) is updated. A malformed item is skipped with its position ("item 3").
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dailypapers.ingest.atom import parse_feed
from dailypapers.ingest.http import Fetcher
from dailypapers.ingest.run import Item, Skipped
from dailypapers.paper import InvalidRecord, PaperRecord, make_record

# "arXiv:2409.01234v1 Announce Type: new \nAbstract: ..." (the RSS 2.0 description)
_ANNOUNCE = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<kind>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
# "Title. (arXiv:1808.01234v2 [cs.LG] UPDATED)" (the RSS 1.0 title)
_OLD_TITLE = re.compile(
    r"^(?P<title>.*?)\.?\s*\(arXiv:(?P<id>[^\s()\[\]]+)\s*(?:\[(?P<category>[^\]]*)\])?"
    r"\s*(?P<flag>[A-Z][A-Z ]*?)?\s*\)\s*$",
    re.DOTALL,
)
_OLD_FLAGS = {"UPDATED": "replace", "CROSS LISTED": "cross"}
_TAG = re.compile(r"<[^>]*>")
# Announcement kinds whose papers were listed on the feed's day (replacements were earlier).
LISTED_KINDS = frozenset({"new", "cross"})


def feed_url(base_url: str, categories: Sequence[str]) -> str:
    return f"{base_url.rstrip('/')}/{'+'.join(categories)}"


def plain_text(markup: str | None) -> str:
    """Text of feedparser's (sanitised) HTML: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub(" ", markup or ""))


def split_authors(text: str) -> list[str]:
    """Names from "A, B, and C" (RSS 2.0) or from the RSS 1.0 author links, in order."""
    names = (name.strip() for name in plain_text(text).split(","))
    return [name.removeprefix("and ").strip() for name in names if name]


def listing_day(feed: Any) -> date | None:
    """The announcement day the feed is dated with.

    arXiv mails its announcement at 20:00 US Eastern and labels it with the next day. The
    RSS 2.0 feed carries that label at 00:00 Eastern; the RSS 1.0 feed was stamped when
    built, shortly after the mailing (e.g. 2018-08-30T20:30-05:00 for the 31 August
    listing). Both stamps fall on the labelled day in UTC, which is what feedparser gives.
    """
    parsed = feed.feed.get("published_parsed") or feed.feed.get("updated_parsed")
    return date(*parsed[:3]) if parsed else None


@dataclass(frozen=True)
class Announcement:
    """What one feed item says, before it becomes a record."""

    arxiv_id: str
    kind: str
    title: str | None
    abstract: str
    categories: list[str]


def _tags(entry: Any) -> list[str]:
    return [tag.get("term") or "" for tag in entry.get("tags") or []]


def read_announcement(entry: Any) -> Announcement:
    """Either format's item, or :class:`InvalidRecord` when it names no paper."""
    description = plain_text(entry.get("summary"))
    head = _ANNOUNCE.match(description)
    if head:
        kind = entry.get("arxiv_announce_type") or head["kind"]
        abstract = description[head.end() :]
        return Announcement(head["id"], kind.lower(), entry.get("title"), abstract, _tags(entry))
    old = _OLD_TITLE.match(entry.get("title") or "")
    if old:
        kind = _OLD_FLAGS.get((old["flag"] or "").strip(), "new")
        categories = [old["category"] or ""] + _tags(entry)
        return Announcement(old["id"], kind, old["title"], description, categories)
    raise InvalidRecord("neither 'arXiv:ID Announce Type:' nor '(arXiv:ID [category])' found")


def item_record(entry: Any, listed_on: date | None) -> PaperRecord:
    """One feed item as a record; ``listed_on`` is kept for new papers and cross-lists."""
    found = read_announcement(entry)
    return make_record(
        found.arxiv_id,
        found.title,
        abstract=found.abstract,
        authors=split_authors(entry.get("author") or ""),
        categories=found.categories,
        doi=entry.get("arxiv_doi"),
        journal_ref=entry.get("arxiv_journal_reference"),
        first_listed_on=listed_on if found.kind in LISTED_KINDS else None,
    )


def feed_items(body: bytes, where: str) -> Iterator[Item]:
    """Records of one feed body; raises :class:`SourceUnusable` if it is not a feed."""
    feed = parse_feed(body, where)
    listed_on = listing_day(feed)
    for position, entry in enumerate(feed.entries, start=1):
        try:
            yield item_record(entry, listed_on)
        except InvalidRecord as error:
            yield Skipped(f"item {position}", str(error))


def fetch_feed(categories: Sequence[str], fetcher: Fetcher, base_url: str) -> Iterator[Item]:
    """GET the combined feed for ``categories`` and yield its records."""
    url = feed_url(base_url, categories)
    yield from feed_items(fetcher.get(url).content, url)
