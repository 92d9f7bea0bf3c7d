"""The JSON API over HTTP (in process): a store filled by the real ingest, a real index."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from pydantic_core import to_json

from dailypapers.feed.reader import Store, read
from dailypapers.web.models import Paper, daily_item, items_json, paper_json, paper_model

DAY = "2026-06-12"


def _ids(items: list[dict[str, object]]) -> list[str]:
    return [item["paper"]["id"] for item in items]  # type: ignore[index]


def test_daily_papers_of_a_day_in_hf_shape(client: TestClient) -> None:
    response = client.get("/api/daily_papers", params={"date": DAY, "limit": 100})
    assert response.status_code == 200
    items = response.json()
    assert len(items) == 30
    upvotes = [item["paper"]["upvotes"] for item in items]
    assert upvotes == sorted(upvotes, reverse=True)
    top = items[0]
    assert top["paper"]["id"] == "2606.13681" and upvotes[0] == 118
    assert set(top) == {
        "paper", "publishedAt", "title", "summary", "thumbnail", "numComments",
        "submittedBy", "isAuthorParticipating",
    }  # fmt: skip
    assert set(top["paper"]) >= {
        "id", "authors", "publishedAt", "title", "summary", "upvotes", "githubRepo",
        "githubStars", "projectPage", "submittedOnDailyAt", "submittedOnDailyBy",
    }  # fmt: skip
    assert top["paper"]["authors"] and set(top["paper"]["authors"][0]) == {"name"}
    assert top["paper"]["submittedOnDailyAt"].startswith(DAY)
    assert (top["numComments"], top["isAuthorParticipating"]) == (3, False)


def test_paging_week_month_sorts_and_default_day(client: TestClient) -> None:
    first = client.get("/api/daily_papers", params={"date": DAY, "limit": 10}).json()
    second = client.get("/api/daily_papers", params={"date": DAY, "limit": 10, "p": 1}).json()
    assert len(first) == len(second) == 10 and not set(_ids(first)) & set(_ids(second))
    week = client.get("/api/daily_papers", params={"week": "2026-W24", "limit": 100}).json()
    month = client.get("/api/daily_papers", params={"month": "2026-06", "limit": 100}).json()
    assert len(week) == len(month) == 30
    assert client.get("/api/daily_papers", params={"month": "2026-05"}).json() == []
    default = client.get("/api/daily_papers", params={"limit": 100}).json()
    assert len(default) == 30  # the latest day with papers
    for sort in ("trending", "publishedAt"):
        ranked = client.get("/api/daily_papers", params={"date": DAY, "sort": sort, "limit": 100})
        assert ranked.status_code == 200 and len(ranked.json()) == 30
    trending = client.get("/api/daily_papers", params={"date": DAY, "sort": "trending"}).json()
    assert trending[0]["paper"]["id"] == "2606.13681"  # same day: the most upvoted
    published = client.get(
        "/api/daily_papers", params={"date": DAY, "sort": "publishedAt", "limit": 100}
    ).json()
    dates = [item["publishedAt"] for item in published]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-13-01"},
        {"date": "12/06/2026"},
        {"date": "20260612"},
        {"week": "2026-W60"},
        {"week": "2026-24"},
        {"month": "2026-13"},
        {"month": "June"},
        {"date": DAY, "week": "2026-W24"},
        {"limit": "0"},
        {"limit": "10000"},
        {"limit": "many"},
        {"p": "-1"},
        {"sort": "random"},
    ],
)
def test_bad_feed_parameters_are_4xx_json(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/daily_papers", params=params)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["message"], str) and body["message"]


def test_one_paper_redirects_and_404(client: TestClient) -> None:
    found = client.get("/api/papers/2606.13681")
    assert found.status_code == 200
    assert found.json()["id"] == "2606.13681" and found.json()["upvotes"] == 118
    old = client.get("/api/papers/hep-th/9901001")
    assert old.status_code == 200 and old.json()["title"] == "An Old-Style Identifier"
    for alias in ("2606.13681v2", "https://arxiv.org/abs/2606.13681v1"):
        moved = client.get(f"/api/papers/{alias}", follow_redirects=False)
        assert moved.status_code == 307
        assert moved.headers["location"].endswith("/api/papers/2606.13681")
    assert client.get("/api/papers/2606.13681v2").json()["id"] == "2606.13681"
    for unknown in ("2999.99999", "not-a-paper"):
        missing = client.get(f"/api/papers/{unknown}")
        assert missing.status_code == 404
        assert missing.json()["status"] == 404 and missing.json()["message"]
    assert client.get("/api/papers/2999.99999/similar").status_code == 404
    assert client.get("/api/nothing-here").json()["status"] == 404


def test_search_and_similar(indexed_client: TestClient) -> None:
    client = indexed_client
    title = client.get("/api/papers/2606.13681").json()["title"]
    hits = client.get("/api/papers/search", params={"q": title, "limit": 5})
    assert hits.status_code == 200
    assert _ids(hits.json())[0] == "2606.13681" and len(hits.json()) <= 5
    long = client.get("/api/papers/search", params={"q": title + " x" * 300})
    assert long.status_code == 200  # cut to 250 characters, not refused
    for params in ({"q": "a", "limit": "0"}, {"q": "a", "limit": "121"}, {}):
        bad = client.get("/api/papers/search", params=params)
        assert bad.status_code == 422 and bad.json()["message"]
    similar = client.get("/api/papers/2606.13681/similar", params={"limit": 3})
    assert similar.status_code == 200
    ids = _ids(similar.json())
    assert 0 < len(ids) <= 3 and "2606.13681" not in ids


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}/similar"} <= set(
        paths
    )


def test_items_written_without_models_are_the_models_json(filled: Store) -> None:
    # Lists are written from plain dicts (web.models.items_json): the same JSON as the
    # DailyPaper models, for every paper of the store (featured or not, with code or not).
    with read(filled) as reader:
        ids = [
            item.id for item in reader.period(date(1, 1, 1), date(9999, 1, 1), limit=500).entries
        ]
        entries = reader.entries(ids)
    assert len(entries) > 30
    # One submitted by a member here: its moment, to the millisecond, beside the others.
    featured = next(entry for entry in entries if entry.featured_on is not None)
    assert featured.featured_on is not None
    moment = datetime.combine(featured.featured_on, time(14, 3, 7, 123456))
    entries = [replace(e, submitted_here_at=moment) if e is featured else e for e in entries]
    written = json.loads(items_json(entries))
    expected = [daily_item(e).model_dump(mode="json") for e in entries]
    assert written == expected
    assert any(item["paper"]["submittedOnDailyAt"].endswith("14:03:07.123Z") for item in written)
    assert any(item["submittedBy"] for item in written)
    assert any(item["paper"]["publishedAt"] for item in written)


def test_a_papers_answer_is_its_models_json_byte_for_byte(
    client: TestClient, filled: Store
) -> None:
    # /api/papers/<id> is written from a plain dict (web/api.py, get_paper): the very bytes
    # FastAPI writes for the Paper model, for every paper of the store and one submitted by
    # a member here (its moment to the millisecond).
    model_json = TypeAdapter(Paper).dump_json
    with read(filled) as reader:
        ids = [e.id for e in reader.period(date(1, 1, 1), date(9999, 1, 1), limit=500).entries]
        entries = reader.entries(ids)
    assert len(entries) > 30
    moment = datetime(2026, 6, 12, 14, 3, 7, 123456)
    for entry in [*entries, replace(entries[0], submitted_here_at=moment)]:
        assert to_json(paper_json(entry)) == model_json(paper_model(entry), by_alias=True)
    for entry in entries[:5]:
        answer = client.get(f"/api/papers/{entry.id}")
        assert answer.content == model_json(paper_model(entry), by_alias=True)
        assert answer.headers["content-type"] == "application/json"
