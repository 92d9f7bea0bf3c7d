"""A digest as mail: plain text and HTML (inline CSS, no remote images, dark-mode aware).

The HTML is one table-based column with every style inline, as Gmail and Outlook want it
(they drop ``<style>`` blocks or parts of them); colours are set on each cell, and
``color-scheme`` lets clients with a dark mode invert them. Each paper shows its title
(linked to its page on the site), authors, the opening of its abstract, upvotes and its code
link; the foot links the edition's archive page and the unsubscribe link.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dailypapers.digest.edition import Edition
from dailypapers.feed.reader import FeedEntry

ABSTRACT_CHARS = 280
MAX_AUTHORS = 4
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class PaperItem:
    """What a digest shows of one paper."""

    title: str
    url: str
    authors: str
    opening: str
    upvotes: int
    code_url: str | None


def opening(text: str, limit: int = ABSTRACT_CHARS) -> str:
    """The abstract's start, cut at a word and ended with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def short_authors(authors: tuple[str, ...]) -> str:
    shown = ", ".join(authors[:MAX_AUTHORS])
    return f"{shown} et al." if len(authors) > MAX_AUTHORS else shown


def _http(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def items(base: str, entries: list[FeedEntry]) -> list[PaperItem]:
    return [
        PaperItem(
            entry.title,
            f"{base}/papers/{entry.id}",
            short_authors(entry.authors),
            opening(entry.abstract or ""),
            entry.upvotes,
            _http(entry.code_url),
        )  # fmt: skip
        for entry in entries
    ]


def render_digest(
    base: str, edition: Edition, entries: list[FeedEntry], unsubscribe_url: str | None
) -> RenderedDigest:
    """The mail of ``edition`` showing ``entries`` (links start with ``base``)."""
    context = {
        "edition": edition, "papers": items(base, entries),
        "archive_url": f"{base}{edition.path}", "unsubscribe_url": unsubscribe_url,
        "subscribe_url": f"{base}/subscribe",
    }  # fmt: skip
    subject = f"{edition.title}: {len(entries)} trending paper{'s' * (len(entries) != 1)}"
    return RenderedDigest(
        subject,
        _templates.get_template("digest.txt").render(context),
        _templates.get_template("digest.html").render(context),
    )
