"""Saving, changing and running saved-search alerts.

An alert is a member's search: the query and the search page's filters (from, to,
categories, has code, sort), sent by ``email`` (to the member's confirmed address) or read as
a private Atom feed (``feed``) at a secret URL (:func:`feed_token`; :func:`revoke_feed`
makes a new one). The query's embedding is made when it is saved (none without a model: the
alert then matches by keyword only).

:func:`run_alerts` (the worker's ``alerts`` job after each harvest and embedding, and
``dailypapers alerts run``) reads the papers created since the oldest watermark, matches
every alert (:mod:`dailypapers.alerts.matching`), and records the matches and the new
watermarks in one transaction: a run killed before it commits is simply done again, and
one repeated finds nothing new (matches are unique per alert and paper). Papers not
embedded yet are matched by keyword only (a run comes after each embedding run).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from dailypapers.accounts.flows import register_export
from dailypapers.accounts.models import User
from dailypapers.alerts.matching import Match, NewPapers, SavedSearch, match_all
from dailypapers.search.query import Filters, clean_query
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import alerts as sql
from dailypapers.store.batches import utc_now

Channel = Literal["email", "feed"]
CHANNELS: tuple[Channel, ...] = ("email", "feed")
MAX_ALERTS = 50  # per member
MAX_NAME = 120


class AlertError(ValueError):
    """A choice that cannot be used; the message says why (shown as is)."""


@dataclass(frozen=True)
class Alert:
    id: int
    user_id: int
    name: str
    query: str
    params: dict[str, Any]  # from, to, category, code, sort
    channel: Channel
    has_vector: bool
    created_at: datetime
    last_run_at: datetime | None
    feed_key: str

    @classmethod
    def from_row(cls, row: Any) -> Alert:
        return cls(
            row["id"], row["user_id"], row["name"], row["query"], json.loads(row["filters"]),
            "feed" if row["channel"] == "feed" else "email", row["vector"] is not None,
            row["created_at"], row["last_run_at"], row["feed_key"],
        )  # fmt: skip

    @property
    def filters(self) -> Filters:
        return filters_of(self.params)

    def search_url(self) -> str:
        """The search page this alert was saved from (relative)."""
        from urllib.parse import urlencode

        pairs: list[tuple[str, str]] = [("q", self.query)]
        pairs += [
            (name, str(self.params[name])) for name in ("from", "to") if self.params.get(name)
        ]
        pairs += [("category", name) for name in self.params.get("category", [])]
        if self.params.get("code"):
            pairs.append(("code", "true"))
        if self.params.get("sort", "relevance") != "relevance":
            pairs.append(("sort", str(self.params["sort"])))
        return "/search?" + urlencode(pairs)


def filters_of(params: Mapping[str, Any]) -> Filters:
    since, until = params.get("from"), params.get("to")
    return Filters(
        date.fromisoformat(since) if since else None,
        date.fromisoformat(until) if until else None,
        tuple(params.get("category", ())),
        True if params.get("code") else None,
    )


def clean_params(
    settings: Settings,
    *,
    since: str | None,
    until: str | None,
    categories: list[str],
    code: bool,
    sort: str,
) -> dict[str, Any]:
    """The search page's filters, checked; AlertError on a bad one."""
    params: dict[str, Any] = {"category": [], "code": bool(code), "sort": sort}
    for name, value in (("from", since), ("to", until)):
        if value:
            try:
                params[name] = date.fromisoformat(value).isoformat()
            except ValueError:
                raise AlertError(f"{name}: expected a date as YYYY-MM-DD") from None
    unknown = [c for c in categories if c and c not in settings.categories]
    if unknown:
        raise AlertError(f"unknown category {unknown[0][:40]!r}")
    params["category"] = [c for c in settings.categories if c in categories]
    if sort not in ("relevance", "newest"):
        raise AlertError("sort must be relevance or newest")
    return params


def _name(text: str, fallback: str) -> str:
    name = " ".join(text.split())[:MAX_NAME] or fallback[:MAX_NAME]
    return name


def save_alert(
    store: Store,
    settings: Settings,
    user_id: int,
    query: str,
    params: dict[str, Any],
    *,
    channel: str = "email",
    name: str = "",
    embed: Any = None,
    now: datetime | None = None,
) -> Alert:
    """Save a search as an alert of ``user_id``; ``embed(text)`` makes its query vector
    (a unit-length float32 row), None when no model is at hand."""
    text, _cut = clean_query(query)
    if not text:
        raise AlertError("type a search first: an alert needs words to look for")
    if channel not in CHANNELS:
        raise AlertError("choose email or feed")
    vector = None if embed is None else np.asarray(embed(text), dtype=np.float32).reshape(-1)
    # To the microsecond, as papers' ``created_at`` is: a paper of the same second as the
    # saving is not "new since".
    now = now or utc_now(precise=True)
    values = {
        "user_id": user_id, "name": _name(name, text), "query": text,
        "filters": json.dumps(params, sort_keys=True), "channel": channel,
        "model": None if vector is None else model_name(settings),
        "vector": None if vector is None else vector.tobytes(),
        "feed_key": secrets.token_hex(16), "checked_until": now, "created_at": now,
    }  # fmt: skip
    with store.write() as connection:
        if len(sql.alerts_of_user(connection, user_id)) >= MAX_ALERTS:
            raise AlertError(f"you have {MAX_ALERTS} alerts already; delete one first")
        alert_id = sql.insert_alert(connection, values)
        row = sql.alert_by_id(connection, alert_id)
    assert row is not None
    return Alert.from_row(row)


def model_name(settings: Settings) -> str:
    from dailypapers.index.dense.embedder import embedder_name

    return embedder_name(settings)


def alerts_of(store: Store, user_id: int) -> list[Alert]:
    with store.read() as connection:
        return [Alert.from_row(row) for row in sql.alerts_of_user(connection, user_id)]


def alert_of(store: Store, user_id: int, alert_id: int) -> Alert | None:
    """One of ``user_id``'s alerts (None for another member's: not found, not forbidden)."""
    with store.read() as connection:
        row = sql.alert_by_id(connection, alert_id)
    if row is None or row["user_id"] != user_id:
        return None
    return Alert.from_row(row)


def change_alert(
    store: Store, user_id: int, alert_id: int, *, name: str | None = None,
    channel: str | None = None,
) -> bool:  # fmt: skip
    values: dict[str, Any] = {}
    if name is not None:
        cleaned = " ".join(name.split())[:MAX_NAME]
        if not cleaned:
            raise AlertError("give the alert a name")
        values["name"] = cleaned
    if channel is not None:
        if channel not in CHANNELS:
            raise AlertError("choose email or feed")
        values["channel"] = channel
    if not values:
        return alert_of(store, user_id, alert_id) is not None
    with store.write() as connection:
        return sql.update_alert(connection, alert_id, user_id, values)


def delete_alert(store: Store, user_id: int, alert_id: int) -> bool:
    with store.write() as connection:
        return sql.delete_alert(connection, alert_id, user_id)


def revoke_feed(store: Store, user_id: int, alert_id: int) -> bool:
    """A new secret feed URL; the old one stops working."""
    with store.write() as connection:
        return sql.update_alert(connection, alert_id, user_id, {"feed_key": secrets.token_hex(16)})


def feed_token(settings: Settings, alert: Alert) -> str:
    mac = hmac.new(
        settings.secret_key.encode(), f"alert-feed:{alert.id}:{alert.feed_key}".encode(),
        hashlib.sha256,
    ).hexdigest()[:32]  # fmt: skip
    return f"{alert.id}-{mac}"


def alert_by_feed_token(store: Store, settings: Settings, token: str) -> Alert | None:
    """The alert a feed URL names, None when forged or revoked."""
    number, _, _mac = token.partition("-")
    if not number.isdigit() or len(number) > 12:
        return None
    with store.read() as connection:
        row = sql.alert_by_id(connection, int(number))
    if row is None:
        return None
    alert = Alert.from_row(row)
    return alert if hmac.compare_digest(feed_token(settings, alert), token) else None


@dataclass
class RunReport:
    papers: int = 0
    alerts: int = 0
    matches: int = 0
    new: int = 0
    dry_run: bool = False

    def line(self) -> str:
        verb = "would record" if self.dry_run else "recorded"
        return (
            f"{self.alerts} alerts against {self.papers} new papers: {self.matches} matches, "
            f"{verb} {self.new} new"
        )


def saved_search(row: Any, model: str) -> SavedSearch:
    vector = None
    if row["vector"] is not None and row["model"] == model:
        vector = np.frombuffer(row["vector"], dtype=np.float32)
    return SavedSearch(
        row["id"], row["user_id"], row["query"], filters_of(json.loads(row["filters"])),
        vector, row["checked_until"],
    )  # fmt: skip


def _embed_missing(
    store: Store, rows: list[Any], model: str, embed: Callable[[str], Any]
) -> list[Any]:
    """Give the alerts saved without a query vector of ``model`` one (saved while the site
    had no model loaded, or under another model); the rows as they are now."""
    missing = [row for row in rows if row["vector"] is None or row["model"] != model]
    if not missing:
        return rows
    with store.write() as connection:
        for row in missing:
            vector = np.asarray(embed(row["query"]), dtype=np.float32).reshape(-1)
            sql.set_vector(connection, row["id"], model, vector.tobytes())
        return sql.runnable_alerts(connection)


def run_alerts(
    store: Store,
    settings: Settings,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    embed: Callable[[str], Any] | None = None,
) -> RunReport:
    """Match every alert against the papers new since its watermark (see the module);
    ``embed`` (the model's query embedding) first gives alerts without a vector one."""
    # Two seconds back: a paper written in this very second may commit after the read, and
    # the watermark must not pass it (times are kept to the second).
    now = now or utc_now(precise=True) - timedelta(seconds=2)
    model = model_name(settings)
    report = RunReport(dry_run=dry_run)
    with store.read() as connection:
        rows = sql.runnable_alerts(connection)
    if not rows:
        return report
    if embed is not None and not dry_run:
        rows = _embed_missing(store, rows, model, embed)
    with store.read() as connection:
        searches = [saved_search(row, model) for row in rows]
        channels = {row["id"]: row["channel"] for row in rows}
        oldest = min(search.checked_until for search in searches)
        documents = sql.new_papers(connection, oldest, now)
        ids = [document.id for document in documents]
        created = sql.created_times(connection, ids)
        vectors = sql.vectors_of(connection, model, ids)
        skip = sql.not_interested_of(connection, {s.user_id for s in searches})
    report.alerts, report.papers = len(searches), len(documents)
    matches = match_all(
        NewPapers(documents, created, vectors), searches, settings.alert_similarity, skip
    )
    report.matches = len(matches)
    if dry_run:
        report.new = len(matches)
        return report
    with store.write() as connection:
        recorded = utc_now(precise=True)
        report.new = sql.record_matches(connection, _rows(matches, channels), {}, recorded)
        sql.set_watermarks(connection, now, recorded)
    return report


def _rows(matches: list[Match], channels: Mapping[int, str]) -> list[dict[str, Any]]:
    return [
        {"alert_id": m.alert_id, "paper_id": m.paper_id, "words": ",".join(m.words),
         "similarity": m.similarity,
         "status": "feed" if channels[m.alert_id] == "feed" else "due"}
        for m in matches
    ]  # fmt: skip


def exported(store: Store, user: User) -> list[dict[str, Any]]:
    """A member's alerts for "export my data": what they saved and how it comes (the feed's
    secret stays out: the settings page shows it)."""
    return [
        {
            "name": alert.name,
            "query": alert.query,
            "filters": alert.params,
            "channel": alert.channel,
            "createdAt": alert.created_at.isoformat(),
            "lastRunAt": alert.last_run_at.isoformat() if alert.last_run_at else None,
        }
        for alert in alerts_of(store, user.id)
    ]


register_export("alerts", exported)


def delivery_counts(store: Store, alert_id: int) -> dict[str, int]:
    """How many of the alert's matches are in each state (due, sent, feed, bounced...)."""
    with store.read() as connection:
        return sql.status_counts(connection, alert_id)


def recent_matches(store: Store, alert_id: int) -> list[Any]:
    """The alert's newest matches with their papers' titles and abstracts (its feed)."""
    with store.read() as connection:
        return list(sql.matches_of(connection, alert_id))


def alert_named(store: Store, alert_id: int, user_id: int) -> Alert | None:
    """Alert ``alert_id`` if it is still ``user_id``'s (an unsubscribe link names both)."""
    with store.read() as connection:
        row = sql.alert_by_id(connection, alert_id)
    return Alert.from_row(row) if row is not None and row["user_id"] == user_id else None
