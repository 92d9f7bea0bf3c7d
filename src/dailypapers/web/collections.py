"""Collections and "not interested" on the web: the cards' forms, the pages, the exports,
an Atom feed per public collection and the API, over :mod:`dailypapers.discussion.collections`.

Forms (each with the CSRF token; without JavaScript they answer 303 back to ``next``, a path
on this site with the card's anchor; ``static/collections.js`` sends them with ``Accept:
application/json`` and gets the new state instead):

- ``POST /papers/{id}/save`` ``saved=1`` puts the paper in the member's "Read later" (made
  then if needed), ``saved=0`` takes it out of all their collections;
- ``POST /papers/{id}/not-interested`` ``hidden=1`` hides it from their lists, ``0`` undoes;
- ``POST /collections`` (create), ``/collections/{id}/items`` (add), ``.../items/remove``,
  ``.../items/note``, ``.../items/move``, ``/collections/{id}/edit`` (rename, visibility),
  ``/collections/{id}/delete``, ``/collections/{id}/import``.

Pages: ``/collections`` (the member's lists), ``/collections/add?paper=ID`` (which lists hold
a paper), ``/users/{name}/collections/{slug}`` (a list: public ones for everyone, private ones
for their owner, 404 to others; ``?sort=position|added|upvotes|trending``), the same URL with
``.bib``, ``.csv``, ``.json`` (exports) and ``.atom`` (public lists only).

API (bearer token: read scope reads the owner's private lists, write scope changes them; a
browser's script may send the session with ``X-CSRF-Token``): ``GET``/``POST
/api/collections``, ``GET``/``PATCH``/``DELETE /api/collections/{id}``,
``POST``/``DELETE /api/collections/{id}/items/{paper_id}``, ``POST /api/collections/{id}/
import``; public lists are readable anonymously. Bad input answers 4xx JSON with a message.

None of these answers goes into the shared response cache (they say ``private``): a list
changes without the store's change stamp moving.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import pass_context
from markupsafe import Markup, escape
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dailypapers.accounts import User
from dailypapers.accounts.service import find_user
from dailypapers.discussion import collections as service
from dailypapers.discussion import exchange
from dailypapers.discussion.collections import Collection, CollectionError, Item
from dailypapers.feed.reader import Store
from dailypapers.web import auth
from dailypapers.web.cards import PAGE_FORM, Voter, back_to_card
from dailypapers.web.deps import RowId, reader, settings_of, store_of
from dailypapers.web.limits import limiter_of
from dailypapers.web.member import Member, api_writer, form_writer
from dailypapers.web.models import ErrorBody
from dailypapers.web.syndication import build_feed
from dailypapers.web.syndication import render as render_feed
from dailypapers.web.templating import render, templates
from dailypapers.web.votes import page_voter

pages = APIRouter(include_in_schema=False)
api = APIRouter(
    prefix="/api",
    tags=["collections"],
    responses={
        400: {"model": ErrorBody},
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: {"model": ErrorBody, "description": "too many changes; see Retry-After"},
    },
)
PRIVATE = {"Cache-Control": "private, no-cache"}
WRITES_PER_MINUTE = 300  # changes of collections and "not interested" per member
EXPORTS = {".bib": "bib", ".csv": "csv", ".json": "json", ".atom": "atom"}


@contextmanager
def _rules() -> Iterator[None]:
    """A :class:`CollectionError` becomes the HTTP error it names."""
    try:
        yield
    except CollectionError as error:
        raise HTTPException(error.status, str(error)) from None


def _changed(request: Request, user_id: int) -> None:
    """The member's saved or hidden papers changed: their cached marks are read again."""
    request.app.state.member_marks.changed(user_id)


def _count_write(request: Request, member: Member) -> None:
    """One change by ``member``: ``RateLimited`` (429, ``Retry-After``) past the limit."""
    limiter_of(request).check(
        "collections:account", str(member.id), limit=WRITES_PER_MINUTE, per_seconds=60
    )


def _local(path: str, fallback: str) -> str:
    """``path`` if it is a path on this site (never another host: no open redirect)."""
    if path.startswith("/") and not path.startswith(("//", "/\\")):
        return path
    return fallback


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def collection_path(owner: str, collection: Collection) -> str:
    return f"/users/{quote(owner)}/collections/{quote(collection.slug)}"


# -- the cards' forms -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Switch:
    """A member's on/off of a paper from a card or the paper page: what turns it on and off,
    the JSON answer's field, and where a form goes back when its ``next`` is no path here."""

    turn_on: Callable[[Store, int, str], object]
    turn_off: Callable[[Store, int, str], object]
    field: str
    fallback: str  # "{paper}" filled in


SAVE = Switch(service.add_paper, service.remove_everywhere, "saved", "/papers/{paper}")
NOT_INTERESTED = Switch(service.mark_not_interested, service.undo_not_interested, "hidden", "/")
OnOff = Annotated[str, Form(pattern="^[01]$")]
Next = Annotated[str, Form(max_length=2000)]
PaperField = Annotated[str, Form(max_length=200)]
NoteField = Annotated[str, Form(max_length=5000)]


def _switch(
    request: Request, member: Member, paper_id: str, switch: Switch, on: bool, next: str
) -> Response:
    """Turn ``switch`` on or off for ``member``: the new state as JSON for a script, else
    303 back to ``next`` at the paper's card (``next`` is the page: its form's field)."""
    _count_write(request, member)
    with _rules():
        paper = service.canonical_paper_id(paper_id)
        (switch.turn_on if on else switch.turn_off)(store_of(request), member.id, paper)
    _changed(request, member.id)
    if _wants_json(request):
        return JSONResponse({"paperId": paper, switch.field: on})
    back = _local(back_to_card(next, paper), switch.fallback.format(paper=paper))
    return RedirectResponse(back, 303)


@pages.post("/papers/{paper_id:path}/save")
def save_form(
    request: Request,
    paper_id: str,
    member: Annotated[Member, Depends(form_writer)],
    saved: OnOff = "1",
    next: Next = "",
) -> Response:
    """Save to "Read later" (``saved=1``) or take out of every collection (``0``)."""
    return _switch(request, member, paper_id, SAVE, saved == "1", next)


@pages.post("/papers/{paper_id:path}/not-interested")
def not_interested_form(
    request: Request,
    paper_id: str,
    member: Annotated[Member, Depends(form_writer)],
    hidden: OnOff = "1",
    next: Next = "",
) -> Response:
    """Hide the paper from the member's lists (``hidden=1``) or show it again (``0``)."""
    return _switch(request, member, paper_id, NOT_INTERESTED, hidden == "1", next)


# -- pages --------------------------------------------------------------------------------------


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = render(request, name, context, status_code=status)
    response.headers["Cache-Control"] = PRIVATE["Cache-Control"]
    return response


@pages.get("/collections")
def my_collections(request: Request, user: Annotated[User, Depends(auth.require_user)]) -> Response:
    """The member's collections, and a form for a new one."""
    lists = service.collections_of(store_of(request), user.id)
    context = {"title": "Your collections", "lists": lists, "owner": user.username}
    return _page(request, "collections.html", context)


@pages.post("/collections")
def create_form(
    request: Request,
    member: Annotated[Member, Depends(form_writer)],
    name: Annotated[str, Form(max_length=500)],
    public: Annotated[str, Form(pattern="^[01]$")] = "0",
    paper: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A new collection (with ``paper`` in it, from the "add to" page); then its page."""
    _count_write(request, member)
    store = store_of(request)
    with _rules():
        made = service.create_collection(store, member.id, name, public=public == "1")
        if paper:
            service.add_paper(store, member.id, paper, made.id)
            _changed(request, member.id)
            return RedirectResponse(f"/collections/add?paper={quote(paper)}", 303)
    return RedirectResponse(collection_path(member.username, made), 303)


@pages.get("/collections/add")
def add_page(
    request: Request,
    user: Annotated[User, Depends(auth.require_user)],
    paper: Annotated[str, Query(max_length=200)],
) -> Response:
    """The member's collections with this paper's place in each: add, remove, a new list."""
    store = store_of(request)
    with _rules():
        paper_id = service.canonical_paper_id(paper)
    with reader(request) as read:
        entry = read.entry(paper_id)
    if entry is None:
        raise HTTPException(404, f"no paper {paper_id} on this site")
    lists = service.collections_of(store, user.id)
    holding = service.containing(store, user.id, paper_id)
    context = {"title": "Save to a collection", "entry": entry, "lists": lists}
    return _page(request, "collection_add.html", {**context, "holding": holding})


def _own(request: Request, member: Member, collection_id: int) -> Collection:
    found = service.get_collection(store_of(request), collection_id)
    if found is None or found.user_id != member.id:
        raise HTTPException(404, "no such collection")
    return found


@contextmanager
def _changing(request: Request, member: Member, collection_id: int) -> Iterator[Collection]:
    """A change of the member's own list ``collection_id`` from a form: counted against
    the member's limit, 404 for a list not theirs, what the rules refuse its HTTP error."""
    _count_write(request, member)
    collection = _own(request, member, collection_id)
    with _rules():
        yield collection


def _back(request: Request, member: Member, collection: Collection, next: str) -> Response:
    return RedirectResponse(_local(next, collection_path(member.username, collection)), 303)


@pages.post("/collections/{collection_id}/items")
def add_form(
    request: Request,
    collection_id: RowId,
    member: Annotated[Member, Depends(form_writer)],
    paper: PaperField,
    note: NoteField = "",
    next: Next = "",
) -> Response:
    with _changing(request, member, collection_id) as collection:
        service.add_paper(store_of(request), member.id, paper, collection.id, note or None)
    _changed(request, member.id)
    if _wants_json(request):
        return JSONResponse({"paperId": service.canonical_paper_id(paper), "saved": True})
    return _back(request, member, collection, next)


@pages.post("/collections/{collection_id}/items/remove")
def remove_form(
    request: Request,
    collection_id: RowId,
    member: Annotated[Member, Depends(form_writer)],
    paper: PaperField,
    next: Next = "",
) -> Response:
    with _changing(request, member, collection_id) as collection:
        service.remove_paper(store_of(request), member.id, collection.id, paper)
    _changed(request, member.id)
    return _back(request, member, collection, next)


@pages.post("/collections/{collection_id}/items/note")
def note_form(
    request: Request,
    collection_id: RowId,
    member: Annotated[Member, Depends(form_writer)],
    paper: PaperField,
    note: NoteField = "",
) -> Response:
    with _changing(request, member, collection_id) as collection:
        service.set_note(store_of(request), member.id, collection.id, paper, note)
    anchor = "#item-" + service.canonical_paper_id(paper).replace("/", "-").replace(".", "-")
    return _back(request, member, collection, collection_path(member.username, collection) + anchor)


@pages.post("/collections/{collection_id}/items/move")
def move_form(
    request: Request,
    collection_id: RowId,
    member: Annotated[Member, Depends(form_writer)],
    paper: PaperField,
    position: Annotated[int, Form(ge=1, le=100_000)],
) -> Response:
    """Move an item to ``position`` (1 is first): the "up", "down" and position forms."""
    with _changing(request, member, collection_id) as collection:
        service.move(store_of(request), member.id, collection.id, paper, position - 1)
    return _back(request, member, collection, "")


@pages.post("/collections/{collection_id}/edit")
def edit_form(
    request: Request,
    collection_id: RowId,
    member: Annotated[Member, Depends(form_writer)],
    name: Annotated[str, Form(max_length=500)],
    public: Annotated[str, Form(pattern="^[01]$")] = "0",
) -> Response:
    with _changing(request, member, collection_id):
        changed = service.update_collection(
            store_of(request), member.id, collection_id, name=name, public=public == "1"
        )
    return _back(request, member, changed, "")


@pages.post("/collections/{collection_id}/delete")
def delete_form(
    request: Request, collection_id: RowId, member: Annotated[Member, Depends(form_writer)]
) -> Response:
    with _changing(request, member, collection_id):
        service.delete_collection(store_of(request), member.id, collection_id)
    _changed(request, member.id)
    return RedirectResponse("/collections", 303)


@pages.post("/collections/{collection_id}/import")
async def import_form(
    request: Request,
    collection_id: RowId,
    member: Annotated[Member, Depends(form_writer)],
    text: Annotated[str, Form(max_length=exchange.IMPORT_MAX_BYTES)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Add the arXiv ids of ``text`` or of an uploaded file; the page says what happened."""
    await run_in_threadpool(_count_write, request, member)
    collection = await run_in_threadpool(_own, request, member, collection_id)
    if file is not None and file.filename:
        data = await file.read(exchange.IMPORT_MAX_BYTES + 1)
        text = data.decode("utf-8", errors="replace")
    with _rules():
        parsed = exchange.parse_ids(text)
        report = await run_in_threadpool(
            exchange.import_ids,
            store_of(request),
            settings_of(request),
            member.id,
            collection.id,
            parsed,
        )
    _changed(request, member.id)
    return await run_in_threadpool(
        _collection_page, request, member.username, collection.slug, "position", report
    )


def _owner_and_list(request: Request, name: str, slug: str) -> tuple[User, Collection]:
    """The owner and the collection at this address, if the viewer may see it; else 404."""
    store = store_of(request)
    owner = service_user(store, name)
    viewer = auth.current_user(request)
    found = service.by_slug(store, owner.id, slug) if owner else None
    with _rules():
        return owner, service.visible(found, viewer.id if viewer else None)


def service_user(store: Any, name: str) -> User:
    user = find_user(store, name)
    if user is None:
        raise HTTPException(404, "no such collection")
    return user


def _collection_page(
    request: Request,
    name: str,
    slug: str,
    sort: str,
    report: exchange.ImportReport | None = None,
) -> Response:
    owner, collection = _owner_and_list(request, name, slug)
    store = store_of(request)
    with _rules():
        items = service.sort_items(service.items_of(store, collection.id), sort)
    shown = [i for i in items if i.entry is not None]
    with reader(request) as read:
        voter = page_voter(request, read, [i.paper_id for i in shown])
    if voter is not None:  # a list shows what it holds, "not interested" or not
        voter = dataclasses.replace(voter, hidden=frozenset())
    viewer = auth.current_user(request)
    context = {
        "title": collection.name,
        "collection": collection,
        "owner": owner,
        "items": shown,
        "sort": sort,
        "orders": service.ORDERS,
        "voter": voter,
        "mine": viewer is not None and viewer.id == collection.user_id,
        "path": collection_path(owner.username, collection),
        "report": report,
        "size": len(items),
    }
    return _page(request, "collection.html", context)


@pages.get("/users/{name}/collections/{slug}")
def collection_page(
    request: Request,
    name: str,
    slug: str,
    sort: Annotated[str, Query(max_length=20)] = "position",
) -> Response:
    """A collection, or one of its exports / its feed by the suffix of ``slug``."""
    for suffix, kind in EXPORTS.items():
        if slug.endswith(suffix):
            return _export(request, name, slug[: -len(suffix)], kind, sort)
    return _collection_page(request, name, slug, sort)


def _export(request: Request, name: str, slug: str, kind: str, sort: str) -> Response:
    owner, collection = _owner_and_list(request, name, slug)
    store = store_of(request)
    with _rules():
        items = service.sort_items(service.items_of(store, collection.id), sort)
    filename = f"{owner.username}-{collection.slug}"
    download = {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}.{kind}"'}
    if kind == "bib":
        body = exchange.export_bibtex(store, items)
        return PlainTextResponse(body, headers=download, media_type="application/x-bibtex")
    if kind == "csv":
        return PlainTextResponse(
            exchange.export_csv(items), headers=download, media_type="text/csv"
        )
    if kind == "json":
        data = exchange.export_json(collection, items, owner.username)
        return JSONResponse(data, headers=download)
    return _feed(request, owner, collection, items)


def _feed(request: Request, owner: User, collection: Collection, items: list[Item]) -> Response:
    """The Atom feed of a public collection, newest addition first."""
    if not collection.public:
        raise HTTPException(404, "no such collection")  # feed readers carry no session
    site = str(request.base_url)
    newest = sorted(items, key=lambda i: i.added_at, reverse=True)
    entries = [i.entry for i in newest if i.entry is not None]
    page = site + collection_path(owner.username, collection).lstrip("/")
    title = f"dailypapers: {collection.name} by {owner.username}"
    response = render_feed(build_feed(title, str(request.url), page, entries, site=site), "atom")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# -- the paper page's "Not interested" (a Jinja global) -----------------------------------------

HIDE_TITLE = "Hide this paper from your daily, trending and search pages"
SHOW_TITLE = "Show this paper in your lists again"
UNDO_LABEL = "Undo “Not interested”"


def paper_not_interested(paper_id: str, voter: Voter | None) -> Markup:
    """``{{ paper_not_interested(id, voter) }}``: the paper page's "Not interested" toggle
    for a signed-in member (nothing for nobody signed in): a button that posts the page's
    member form (web/cards.py ``page_form``) to ``/papers/{id}/not-interested``, which hides
    the paper from their lists (``hidden=1``) or, once hidden, undoes it (``0``);
    ``static/collections.js`` sends it in place. Its marked state is what
    :func:`~dailypapers.web.personal.merge` flips for the member's hidden papers
    (``_HIDE_FLIPS`` there: keep the two in step)."""
    if voter is None:
        return Markup("")
    marked = paper_id in voter.hidden
    title, label = (SHOW_TITLE, UNDO_LABEL) if marked else (HIDE_TITLE, "Not interested")
    return Markup(
        '<div class="hiding" id="hiding">\n'
        f'    <button class="hide-toggle{" marked" if marked else ""}" form="{PAGE_FORM}" '
        f'formaction="/papers/{escape(quote(paper_id))}/not-interested" name="hidden" '
        f'value="{"0" if marked else "1"}" aria-pressed="{"true" if marked else "false"}" '
        f'title="{title}">{label}</button>\n</div>'
    )


# -- the settings' and profile's pieces (Jinja globals) -------------------------------------------


@pass_context
def not_interested_papers(context: Any) -> list[Any]:
    """``{{ not_interested_papers() }}``: (entry, when) of the signed-in member's hidden
    papers, for the settings page's list with its undo buttons."""
    user = auth.current_user(context["request"])
    if user is None:
        return []
    return service.not_interested_entries(store_of(context["request"]), user.id)


@pass_context
def public_collections(context: Any, profile: User) -> list[tuple[Collection, str]]:
    """``{{ public_collections(profile) }}``: a profile's public lists with their paths (and
    the private ones too when the owner looks)."""
    request: Request = context["request"]
    viewer = auth.current_user(request)
    lists = service.collections_of(
        store_of(request), profile.id, public_only=viewer is None or viewer.id != profile.id
    )
    return [(c, collection_path(profile.username, c)) for c in lists]


templates.env.globals["not_interested_papers"] = not_interested_papers
templates.env.globals["paper_not_interested"] = paper_not_interested
templates.env.globals["public_collections"] = public_collections


# -- API ----------------------------------------------------------------------------------------


class CollectionInfo(BaseModel):
    id: int
    name: str
    slug: str
    owner: str
    public: bool
    isDefault: bool
    size: int
    url: str
    createdAt: str
    updatedAt: str


class ItemInfo(BaseModel):
    paperId: str
    title: str | None
    position: int
    note: str | None
    addedAt: str


class CollectionDetail(CollectionInfo):
    items: list[ItemInfo]


class NewCollection(BaseModel):
    name: str = Field(max_length=500)
    public: bool = False


class CollectionChange(BaseModel):
    name: str | None = Field(default=None, max_length=500)
    public: bool | None = None
    order: list[str] | None = Field(default=None, max_length=service.ITEMS_MAX)


class ItemChange(BaseModel):
    note: str | None = Field(default=None, max_length=5000)


class ImportText(BaseModel):
    text: str = Field(max_length=exchange.IMPORT_MAX_BYTES)


def _iso(moment: Any) -> str:
    return str(moment.replace(tzinfo=UTC).isoformat())


def _info(
    request: Request, collection: Collection, owner: str, size: int | None = None
) -> dict[str, Any]:
    return {
        "id": collection.id,
        "name": collection.name,
        "slug": collection.slug,
        "owner": owner,
        "public": collection.public,
        "isDefault": collection.is_default,
        "size": collection.size if size is None else size,
        "url": str(request.base_url) + collection_path(owner, collection).lstrip("/"),
        "createdAt": _iso(collection.created_at),
        "updatedAt": _iso(collection.updated_at),
    }


def _detail(request: Request, collection: Collection, sort: str = "position") -> CollectionDetail:
    store = store_of(request)
    with _rules():
        items = service.sort_items(service.items_of(store, collection.id), sort)
    owner = service.owner_of(store, collection)
    listed = [
        ItemInfo(
            paperId=i.paper_id,
            title=i.entry.title if i.entry else None,
            position=i.position,
            note=i.note,
            addedAt=_iso(i.added_at),
        )
        for i in items
    ]
    return CollectionDetail(**_info(request, collection, owner, len(items)), items=listed)


def _api_user(request: Request) -> User:
    user = auth.current_user(request)
    if user is None:
        raise HTTPException(
            401, "send a personal API token: Authorization: Bearer TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return user


def _api_own(request: Request, member: Member, collection_id: int) -> Collection:
    found = service.get_collection(store_of(request), collection_id)
    if found is None or found.user_id != member.id:
        raise HTTPException(404, "no such collection")
    return found


@api.get("/collections", response_model=list[CollectionInfo])
def api_list(request: Request) -> list[CollectionInfo]:
    """Your collections (a token with read scope reads the private ones too)."""
    user = _api_user(request)
    lists = service.collections_of(store_of(request), user.id)
    return [CollectionInfo(**_info(request, c, user.username)) for c in lists]


@api.post("/collections", response_model=CollectionInfo, status_code=201)
def api_create(
    request: Request, body: NewCollection, member: Annotated[Member, Depends(api_writer)]
) -> CollectionInfo:
    """Make a collection (write scope)."""
    _count_write(request, member)
    with _rules():
        made = service.create_collection(
            store_of(request), member.id, body.name, public=body.public
        )
    return CollectionInfo(**_info(request, made, member.username))


@api.get("/collections/{collection_id}", response_model=CollectionDetail)
def api_get(
    request: Request,
    response: Response,
    collection_id: RowId,
    sort: Annotated[str, Query(max_length=20)] = "position",
) -> CollectionDetail:
    """A collection with its items: a public one for anyone, a private one for its owner."""
    response.headers["Cache-Control"] = PRIVATE["Cache-Control"]  # not the shared cache's
    viewer = auth.current_user(request)
    found = service.get_collection(store_of(request), collection_id)
    with _rules():
        collection = service.visible(found, viewer.id if viewer else None)
    return _detail(request, collection, sort)


@api.patch("/collections/{collection_id}", response_model=CollectionDetail)
def api_change(
    request: Request,
    collection_id: RowId,
    body: CollectionChange,
    member: Annotated[Member, Depends(api_writer)],
) -> CollectionDetail:
    """Rename, make public or private, and/or reorder (``order``: every paper id once)."""
    _count_write(request, member)
    store = store_of(request)
    _api_own(request, member, collection_id)
    with _rules():
        changed = service.update_collection(
            store, member.id, collection_id, name=body.name, public=body.public
        )
        if body.order is not None:
            service.reorder(store, member.id, collection_id, body.order)
    return _detail(request, changed)


@api.delete("/collections/{collection_id}", status_code=204)
def api_delete(
    request: Request, collection_id: RowId, member: Annotated[Member, Depends(api_writer)]
) -> Response:
    _count_write(request, member)
    _api_own(request, member, collection_id)
    with _rules():
        service.delete_collection(store_of(request), member.id, collection_id)
    _changed(request, member.id)
    return Response(status_code=204)


@api.post(
    "/collections/{collection_id}/items/{paper_id:path}",
    response_model=CollectionDetail,
    responses={201: {"model": CollectionDetail, "description": "added"}},
)
def api_add(
    request: Request,
    collection_id: RowId,
    paper_id: str,
    member: Annotated[Member, Depends(api_writer)],
    body: Annotated[ItemChange | None, Body()] = None,
) -> Response:
    """Add a paper (201), or set the note of one already there (200)."""
    _count_write(request, member)
    collection = _api_own(request, member, collection_id)
    note = body.note if body else None
    store = store_of(request)
    with _rules():
        _, added = service.add_paper(store, member.id, paper_id, collection.id, note)
        if not added and body is not None and body.note is not None:
            service.set_note(store, member.id, collection.id, paper_id, note)
    _changed(request, member.id)
    detail = _detail(request, collection)
    return JSONResponse(detail.model_dump(), status_code=201 if added else 200)


@api.delete("/collections/{collection_id}/items/{paper_id:path}", response_model=CollectionDetail)
def api_remove(
    request: Request,
    collection_id: RowId,
    paper_id: str,
    member: Annotated[Member, Depends(api_writer)],
) -> CollectionDetail:
    _count_write(request, member)
    collection = _api_own(request, member, collection_id)
    with _rules():
        if not service.remove_paper(store_of(request), member.id, collection.id, paper_id):
            raise CollectionError(f"{paper_id} is not in this collection", 404)
    _changed(request, member.id)
    return _detail(request, collection)


@api.post("/collections/{collection_id}/import")
def api_import(
    request: Request,
    collection_id: RowId,
    body: ImportText,
    member: Annotated[Member, Depends(api_writer)],
) -> dict[str, object]:
    """Add the arXiv ids in ``text`` (ids, URLs, BibTeX, or an export of ours), in order;
    says which were added, already there, fetched from arXiv, not found or unreachable."""
    _count_write(request, member)
    collection = _api_own(request, member, collection_id)
    with _rules():
        parsed = exchange.parse_ids(body.text)
        report = exchange.import_ids(
            store_of(request), settings_of(request), member.id, collection.id, parsed
        )
    _changed(request, member.id)
    return report.as_dict()
