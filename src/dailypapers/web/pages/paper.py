"""A paper's page (``/papers/{id}``), its BibTeX (``/papers/{id}.bib``), the page as Markdown
(``/papers/{id}.md``) and an author's papers (``/authors/{name}``).

A versioned id or an arxiv.org URL redirects (301) to the canonical page; an unknown id is a
404 page with a search box. Similar papers come from the search engine; when it cannot be
opened the page still renders, without them, and says why.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Scope

from dailypapers.community import claims
from dailypapers.feed.reader import FeedEntry, Reader
from dailypapers.paper import PaperRecord, feed_day
from dailypapers.search.engine import Hit
from dailypapers.search.service import LiveEngine
from dailypapers.web.bibtex import bibtex
from dailypapers.web.cards import Voter
from dailypapers.web.comment_view import CommentForm, thread_context
from dailypapers.web.deps import canonical_id, engine_of, reader, store_of
from dailypapers.web.markdown import paper_markdown
from dailypapers.web.pages.common import FEED_PAGE_SIZE, check_page, page_count
from dailypapers.web.routing import Direct, QueryPairs, anonymous_local
from dailypapers.web.templating import render
from dailypapers.web.votes import community_context

log = logging.getLogger(__name__)
router = APIRouter()

SIMILAR = 6


def _record_or_404(read: Reader, paper_id: str) -> PaperRecord:
    record = read.paper(paper_id)
    if record is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    return record


def _similar_hits(request: Request, paper_id: str) -> tuple[list[Hit], str | None]:
    """The nearest papers by meaning (the index's ids), or none and the reason."""
    try:
        hits = engine_of(request).similar(paper_id, k=SIMILAR)
    except Exception:  # the page is still worth showing without them
        log.exception("similar papers of %s", paper_id)
        return [], "Similar papers are unavailable: the search index could not be opened."
    if not hits:
        return [], "Similar papers appear once the semantic index has been built."
    return hits, None


def _with_similar(
    read: Reader, paper_id: str, hits: list[Hit]
) -> tuple[FeedEntry | None, list[FeedEntry]]:
    """The paper's own entry (its upvotes and note) and its similar papers' entries, read in
    one query; a similar paper gone from the store is left out."""
    entries = read.entries([paper_id, *(hit.id for hit in hits)])
    if entries and entries[0].id == paper_id:
        return entries[0], entries[1:]
    return None, entries


def _bib_response(request: Request, paper_id: str) -> Response:
    canonical = canonical_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(f"/papers/{canonical}.bib", 301)
    with reader(request) as read:
        text = bibtex(_record_or_404(read, canonical))
    headers = {"Content-Disposition": f'inline; filename="{canonical.replace("/", "_")}.bib"'}
    return PlainTextResponse(text, media_type="application/x-bibtex", headers=headers)


def _markdown_response(request: Request, paper_id: str) -> Response:
    canonical = canonical_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(f"/papers/{canonical}.md", 301)
    with reader(request) as read:
        record = _record_or_404(read, canonical)
        hits, note = _similar_hits(request, canonical)
        entry, similar = _with_similar(read, canonical, hits)
    upvotes = entry.upvotes if entry is not None else 0
    text = paper_markdown(record, feed_day(record), similar, note, upvotes)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


def _unfolded(paper_id: str) -> str:
    """A URL pasted after /papers/ may arrive with its "//" folded to "/" by a client."""
    if ":/" in paper_id and "://" not in paper_id:
        return paper_id.replace(":/", "://", 1)
    return paper_id


@router.get("/papers/{paper_id:path}")
def paper_page(request: Request, paper_id: str) -> Response:
    """One paper: abstract, authors, links, dates, comments, similar papers and a citation."""
    paper_id = _unfolded(paper_id)
    if paper_id.endswith(".bib"):
        return _bib_response(request, paper_id.removesuffix(".bib"))
    if paper_id.endswith(".md"):
        return _markdown_response(request, paper_id.removesuffix(".md"))
    canonical = canonical_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(f"/papers/{canonical}", 301)
    return paper_response(request, canonical)


def paper_response(
    request: Request,
    canonical: str,
    form: CommentForm | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """The page of paper ``canonical``; ``form``: a comment form sent back with its error
    (the comment routes answer a refused comment with the page and the text kept)."""
    # One statement each for the record, the entries (the paper's and its similar papers'),
    # the claims and the comments, in one read transaction.
    with reader(request) as read:
        record = _record_or_404(read, canonical)
        hits, similar_note = _similar_hits(request, canonical)
        entry, similar = _with_similar(read, canonical, hits)
        community = community_context(request, read, similar, also=[canonical])
        authorship = read.claims(canonical)
        voter = community["voter"]
        voter = voter if isinstance(voter, Voter) else None
        discussion = thread_context(request, record, voter, form, read)
    context = {
        **community,
        **discussion,
        "upvotes": entry.upvotes if entry is not None else 0,
        "note": entry.note if entry is not None else None,
        "title": record.title,
        "description": (record.abstract or record.title)[:300],
        "record": record,
        "day": feed_day(record),
        "links": record.links,
        "bibtex": bibtex(record),
        "similar": similar,
        "similar_note": similar_note,
        "og_type": "article",
        "claimed": authorship.approved,
        "author_links": (
            claims.AuthorLinks(authorship.code_url, authorship.project_url)
            if authorship.has_links
            else None
        ),
    }
    return render(request, "paper.html", context, status_code=status_code)


@router.get("/authors/{name:path}")
def author(
    request: Request,
    name: str,
    p: Annotated[int, Query(ge=0, le=10_000, description="page number, from 0")] = 0,
) -> Response:
    """The papers of one author (by the exact name the papers give), newest first."""
    with reader(request) as read:
        found = read.author(name, limit=FEED_PAGE_SIZE, offset=p * FEED_PAGE_SIZE)
        community = community_context(request, read, found.entries)
    if found.total == 0:
        raise HTTPException(404, f"no papers by {name[:80]!r} here")
    check_page(p, found.total, FEED_PAGE_SIZE)
    context = {
        "title": f"Papers by {name}",
        "name": name,
        "entries": found.entries,
        "total": found.total,
        "page": p,
        "pages": page_count(found.total, FEED_PAGE_SIZE),
        "first_rank": p * FEED_PAGE_SIZE + 1,
        **community,
        "claimed_by": claims.users_of_author(store_of(request), name),
    }
    return render(request, "author.html", context)


def _canonical_path(match: re.Match[str], query: QueryPairs) -> dict[str, object] | None:
    return {"paper_id": match["paper_id"]}  # the page takes no query parameter


def _inline(scope: Scope) -> bool:
    """On the event loop as a daily page is, once the search engine is open: its similar
    papers would otherwise wait on the loop for the engine's opening."""
    engine: LiveEngine = scope["app"].state.engine
    return engine.ready and anonymous_local(scope)


# A paper's page by its canonical (new-style) id skips FastAPI's routing (web/routing.py).
DIRECT = (
    Direct(
        "papers", re.compile(r"/papers/(?P<paper_id>[0-9]{4}\.[0-9]{4,5})"), _canonical_path,
        paper_page, _inline,
    ),
)  # fmt: skip
