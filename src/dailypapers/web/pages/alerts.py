"""Saved-search alerts on the web: save one from the search page, manage them at ``/alerts``,
read one as a private Atom feed, stop one from its mail; and the JSON API.

* ``POST /alerts`` (the search page's "Save as alert" form: its query and filters) saves the
  search for the signed-in member, by email when their address is confirmed, else as a feed.
* ``GET /alerts`` lists them; ``POST /alerts/{id}/rename|channel|delete|revoke`` change one.
* ``GET /alerts/feed/{token}.atom``: the alert's newest matches; the token is a secret (an HMAC
  of the alert and a random key), ``revoke`` makes a new one. Never cached (``no-store``).
* ``GET /alerts/unsubscribe?token=`` shows a button, ``POST`` (RFC 8058 one-click) deletes the
  alert, without logging in: the mail's ``List-Unsubscribe``.
* ``GET/POST /api/alerts``, ``DELETE /api/alerts/{id}`` (session + CSRF, or a bearer token).
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from feedgen.feed import FeedGenerator
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.accounts import User
from dailypapers.alerts import service
from dailypapers.alerts.matching import why
from dailypapers.alerts.sending import read_unsubscribe_token
from dailypapers.alerts.sending import unsubscribe as unsubscribe_alert
from dailypapers.digest.links import site_base
from dailypapers.web.auth import require_user, require_writer
from dailypapers.web.deps import RowId, engine_of, settings_of, store_of
from dailypapers.web.models import ErrorBody
from dailypapers.web.templating import render

router = APIRouter()
api = APIRouter(
    prefix="/api",
    tags=["alerts"],
    responses={
        400: {"model": ErrorBody},
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        429: {"model": ErrorBody, "description": "too many requests; see Retry-After"},
    },
)

BAD_LINK = "This link is not valid (copy the whole link)."
DONE = {
    "saved": "The alert is saved: new papers that match come to you after each harvest.",
    "renamed": "The alert is renamed.",
    "channel": "The alert's delivery is changed.",
    "deleted": "The alert is deleted, and what it found with it.",
    "revoked": "The alert has a new feed address; the old one no longer works.",
}


def _message(request: Request, title: str, message: str, status: int = 200) -> Response:
    return render(request, "message.html", {"title": title, "message": message}, status_code=status)


def _embedder(request: Request) -> Any:
    """The query embedding function of the running search engine, None without a model."""
    engine = engine_of(request)
    return None if engine.embedder is None else engine.embedder.embed_query


def _save(
    request: Request, user: User, q: str, params: dict[str, Any], channel: str, name: str
) -> service.Alert:
    chosen = channel or ("email" if user.confirmed and user.email else "feed")
    if chosen == "email" and not (user.confirmed and user.email):
        raise service.AlertError("confirm your account's email address first, or choose the feed")
    settings = settings_of(request)
    return service.save_alert(
        store_of(request), settings, user.id, q, params, channel=chosen, name=name,
        embed=_embedder(request),
    )  # fmt: skip


@router.post("/alerts")
def save_alert(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    q: Annotated[str, Form(max_length=2000)] = "",
    since: Annotated[str, Form(alias="from", max_length=40)] = "",
    until: Annotated[str, Form(alias="to", max_length=40)] = "",
    category: Annotated[list[str] | None, Form()] = None,
    code: Annotated[bool, Form()] = False,
    sort: Annotated[str, Form(max_length=20)] = "relevance",
    channel: Annotated[str, Form(max_length=8)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    settings = settings_of(request)
    try:
        params = service.clean_params(
            settings, since=since, until=until, categories=category or [], code=code, sort=sort
        )
        _save(request, user, q, params, channel, name)
    except service.AlertError as refused:
        return _message(request, "Not saved", f"{str(refused).capitalize()}.", 422)
    return RedirectResponse("/alerts?done=saved", status_code=303)


def _listed(request: Request, alert: service.Alert) -> dict[str, Any]:
    settings = settings_of(request)
    base = site_base(settings, str(request.base_url))
    counts = service.delivery_counts(store_of(request), alert.id)
    return {
        "alert": alert,
        "search_url": alert.search_url(),
        "feed_url": f"{base}/alerts/feed/{service.feed_token(settings, alert)}.atom",
        "found": sum(counts.values()),
        "filters": _describe(alert.params),
    }


def _describe(params: dict[str, Any]) -> str:
    parts = []
    if params.get("category"):
        parts.append(", ".join(params["category"]))
    if params.get("from") or params.get("to"):
        parts.append(f"{params.get('from') or '…'} to {params.get('to') or '…'}")
    if params.get("code"):
        parts.append("with code")
    return "; ".join(parts)


@router.get("/alerts")
def alerts_page(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    alerts = service.alerts_of(store_of(request), user.id)
    context = {
        "title": "Your alerts",
        "alerts": [_listed(request, alert) for alert in alerts],
        "done": DONE.get(request.query_params.get("done", "")),
        "address": user.email if user.confirmed else None,
    }
    return render(request, "alerts.html", context)


def _changed(request: Request, ok: bool, done: str) -> Response:
    if not ok:
        raise HTTPException(404, "no such alert")
    return RedirectResponse(f"/alerts?done={done}", status_code=303)


@router.post("/alerts/{alert_id}/rename")
def rename(
    request: Request,
    alert_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    name: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    try:
        ok = service.change_alert(store_of(request), user.id, alert_id, name=name)
    except service.AlertError as refused:
        return _message(request, "Not renamed", f"{str(refused).capitalize()}.", 422)
    return _changed(request, ok, "renamed")


@router.post("/alerts/{alert_id}/channel")
def change_channel(
    request: Request,
    alert_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    channel: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if channel == "email" and not (user.confirmed and user.email):
        return _message(request, "Not changed", "Confirm your account's email address first.", 422)
    try:
        ok = service.change_alert(store_of(request), user.id, alert_id, channel=channel)
    except service.AlertError as refused:
        return _message(request, "Not changed", f"{str(refused).capitalize()}.", 422)
    return _changed(request, ok, "channel")


@router.post("/alerts/{alert_id}/delete")
def delete(
    request: Request, alert_id: RowId, user: Annotated[User, Depends(require_writer)]
) -> Response:
    return _changed(request, service.delete_alert(store_of(request), user.id, alert_id), "deleted")


@router.post("/alerts/{alert_id}/revoke")
def revoke(
    request: Request, alert_id: RowId, user: Annotated[User, Depends(require_writer)]
) -> Response:
    return _changed(request, service.revoke_feed(store_of(request), user.id, alert_id), "revoked")


@router.get("/alerts/feed/{token}.atom")
def alert_feed(request: Request, token: str) -> Response:
    settings = settings_of(request)
    alert = service.alert_by_feed_token(store_of(request), settings, token[:100])
    if alert is None:
        raise HTTPException(404, "no such feed (the address was revoked, or is mistyped)")
    base = site_base(settings, str(request.base_url))
    matches = service.recent_matches(store_of(request), alert.id)
    feed = FeedGenerator()
    feed.id(f"{base}/alerts/{alert.id}")
    feed.title(f"Daily Papers alert: {alert.name}")
    feed.link(href=base + alert.search_url(), rel="alternate")
    feed.subtitle(f"New papers matching “{alert.query}”")
    feed.updated((matches[0]["created_at"] if matches else alert.created_at).replace(tzinfo=UTC))
    for row in reversed(matches):  # feedgen puts the last added first
        entry = feed.add_entry()
        link = f"{base}/papers/{row['paper_id']}"
        entry.id(link)
        entry.title(row["title"])
        entry.link(href=link)
        entry.updated(row["created_at"].replace(tzinfo=UTC))
        reason = why(tuple(w for w in row["words"].split(",") if w), row["similarity"])
        entry.summary(f"{reason}. {(row['abstract'] or '')[:600]}")
    body: bytes = feed.atom_str(pretty=False)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=headers)


@router.get("/alerts/unsubscribe")
def unsubscribe_page(request: Request, token: str = "") -> Response:
    named = read_unsubscribe_token(settings_of(request), token)
    if named is None:
        return _message(
            request, "Not stopped", "This link is not valid (copy the whole link).", 400
        )
    alert = service.alert_named(store_of(request), *named)
    if alert is None:
        return _message(request, "Alert stopped", "This alert is deleted already.")
    context = {"title": "Stop this alert", "token": token[:2000], "name": alert.name}
    return render(request, "alert_unsubscribe.html", context)


@router.post("/alerts/unsubscribe")
def unsubscribe(request: Request, token: str = "") -> Response:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) and the page's button."""
    if unsubscribe_alert(store_of(request), settings_of(request), token) is None:
        return _message(
            request, "Not stopped", "This link is not valid (copy the whole link).", 400
        )
    return _message(request, "Alert stopped", "The alert is deleted, and what it found.")


class AlertIn(BaseModel):
    q: str = Field(max_length=2000)
    name: str = Field("", max_length=400)
    channel: str = Field("", max_length=8, description="email or feed; default email when "
                         "the account's address is confirmed")  # fmt: skip
    categories: list[str] = Field(default_factory=list, max_length=50)
    since: str = Field("", alias="from", max_length=40)
    until: str = Field("", alias="to", max_length=40)
    code: bool = False
    sort: str = Field("relevance", max_length=20)


def _public(request: Request, alert: service.Alert) -> dict[str, Any]:
    listed = _listed(request, alert)
    return {
        "id": alert.id, "name": alert.name, "q": alert.query, "filters": alert.params,
        "channel": alert.channel, "feedUrl": listed["feed_url"], "found": listed["found"],
        "createdAt": alert.created_at.isoformat() + "Z",
    }  # fmt: skip


@api.get("/alerts")
def list_alerts(
    request: Request, user: Annotated[User, Depends(require_user)]
) -> list[dict[str, Any]]:
    """The signed-in member's alerts (with each one's secret feed URL)."""
    return [_public(request, alert) for alert in service.alerts_of(store_of(request), user.id)]


@api.post("/alerts", status_code=201)
def create_alert(
    request: Request, body: AlertIn, user: Annotated[User, Depends(require_writer)]
) -> dict[str, Any]:
    settings = settings_of(request)
    try:
        params = service.clean_params(
            settings, since=body.since, until=body.until, categories=body.categories,
            code=body.code, sort=body.sort,
        )  # fmt: skip
        alert = _save(request, user, body.q, params, body.channel, body.name)
    except service.AlertError as refused:
        raise HTTPException(422, str(refused)) from None
    return _public(request, alert)


@api.delete("/alerts/{alert_id}", status_code=204)
def delete_alert(
    request: Request, alert_id: RowId, user: Annotated[User, Depends(require_writer)]
) -> Response:
    if not service.delete_alert(store_of(request), user.id, alert_id):
        raise HTTPException(404, "no such alert")
    return Response(status_code=204)
