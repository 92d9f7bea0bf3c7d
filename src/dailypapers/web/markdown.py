"""A paper's page as Markdown (``/papers/{id}.md``), for agents, scripts and
``huggingface_hub.HfApi.read_paper``.

A pure function of the stored record, its feed day and its similar papers: title, authors,
dates, links, abstract, then similar papers. Text from the sources is escaped so a title
with ``*`` or ``[`` or an abstract with ``<script>`` stays text when the Markdown is rendered.
Links to this site are relative (``/papers/ID``): the site does not trust the Host header to
know its own address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from urllib.parse import quote

from dailypapers.feed.reader import FeedEntry
from dailypapers.paper import PaperRecord

# Characters that start Markdown (or inline HTML) anywhere in a line.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
# ... and those that start a block only at the beginning of a line ("# ", "- ", "+ ").
_LINE_START = re.compile(r"^(\s*)([#+\-=])", re.MULTILINE)

_LINK_NAMES = {"abs": "arXiv", "pdf": "PDF", "code": "Code", "huggingface": "Hugging Face"}


def escape(text: str) -> str:
    """``text`` shown as itself in Markdown."""
    return _LINE_START.sub(r"\1\\\2", _SPECIAL.sub(r"\\\1", text))


def _date_lines(record: PaperRecord, day: date | None) -> list[str]:
    lines = []
    if record.submitted_at:
        lines.append(f"- Submitted: {record.submitted_at.date().isoformat()}")
    if record.updated_at and record.version and record.version > 1:
        lines.append(f"- Version {record.version}: {record.updated_at.date().isoformat()}")
    if day:
        lines.append(f"- In the feed: [{day.isoformat()}](/date/{day.isoformat()})")
    if record.featured_on:
        featured = f"- Featured on Hugging Face: {record.featured_on.isoformat()}"
        if record.featured_by:
            featured += f" by {escape(record.featured_by)}"
            if record.featured_by_user:
                featured += f" ({escape(record.featured_by_user)})"
        lines.append(featured)
    return lines


def _link_lines(record: PaperRecord) -> list[str]:
    lines = []
    for link in record.links:
        name = _LINK_NAMES.get(link.kind, "Project page")
        stars = ""
        if link.kind == "code" and record.github_stars and link.url == record.github_repo:
            stars = f" ({record.github_stars} stars)"
        lines.append(f"- {name}: <{quote(link.url, safe=':/?#&=%@+~,;!$')}>{stars}")
    if record.doi:
        lines.append(f"- DOI: <https://doi.org/{quote(record.doi, safe='/:')}>")
    return lines


def _similar_lines(similar: Sequence[FeedEntry], note: str | None) -> list[str]:
    if not similar:
        return [escape(note or "None found.")]
    return [
        f"- [{escape(entry.title)}](/papers/{quote(entry.id)}) ({entry.id})" for entry in similar
    ]


def paper_markdown(
    record: PaperRecord,
    day: date | None,
    similar: Sequence[FeedEntry],
    similar_note: str | None = None,
    upvotes: int | None = None,
) -> str:
    """The whole page: a title line, then sections, ending in a newline. ``upvotes`` is the
    count shown (imported plus this site's own); the imported count alone if not given."""
    parts = [f"# {escape(record.title)}", ""]
    # A list, so the facts stay one a line when the Markdown is rendered.
    version = f"v{record.version}" if record.version else ""
    parts.append(f"- arXiv id: {record.arxiv_id}{version}")
    shown = record.hf_upvotes or 0 if upvotes is None else upvotes
    parts.append(f"- Upvotes: {shown}; comments: {record.hf_comments or 0}")
    if record.categories:
        parts.append(f"- Categories: {', '.join(record.categories)}")
    sections: list[tuple[str, list[str]]] = [
        ("Authors", [f"- {escape(name)}" for name in record.authors] or ["Not given."]),
        ("Dates", _date_lines(record, day) or ["Not given."]),
        ("Links", _link_lines(record)),
        ("Abstract", [escape(record.abstract or "No abstract given.")]),
        ("Similar papers", _similar_lines(similar, similar_note)),
    ]
    for heading, lines in sections:
        parts += ["", f"## {heading}", "", *lines]
    return "\n".join(parts) + "\n"
