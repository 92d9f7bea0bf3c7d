"""Submitting over HTTP: ``POST /api/papers/submit`` (Hugging Face's body) with personal
tokens and the daily page's form, against a real HTTP server replaying a captured arXiv API
answer; the submitter's fields and ``?submitter=`` in the API; a moderator's removal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from tests.support.members import add_members, api_token, set_role, sign_in
from tests.support.replay import ReplayServer, Response

ARXIV = "arxiv-responses/api-atom/arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"


@pytest.fixture
def arxiv(replay: ReplayServer, shared_data: Path) -> ReplayServer:
    body = (shared_data / ARXIV).read_bytes()
    replay.add("/api/query", Response(200, body, {"Content-Type": "application/atom+xml"}))
    return replay


@pytest.fixture
def site(filled: Store, arxiv: ReplayServer) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={
        "arxiv_api_url": arxiv.base_url + "/api/query", "submission_max_age_days": 100_000,
        "http_retries": 0,
    })  # fmt: skip
    with TestClient(create_app(filled, settings)) as test_client:
        yield test_client


def test_submit_through_the_api(site: TestClient, filled: Store) -> None:
    alice, bob = add_members(filled, 2, prefix="api")
    write = {"Authorization": f"Bearer {api_token(filled, alice, 'write')}"}
    read = {"Authorization": f"Bearer {api_token(filled, alice, 'read')}"}
    body = {"paper_id": "1707.08567", "comment": "<script>x</script> good"}
    assert site.post("/api/papers/submit", json=body).status_code == 401
    assert site.post("/api/papers/submit", json=body, headers=read).status_code == 403
    answer = site.post("/api/papers/submit", json=body, headers=write).json()
    today = datetime.now(UTC).date().isoformat()
    assert (answer["paperId"], answer["new"], answer["day"], answer["upvotes"]) == (
        "1707.08567", True, today, 1,
    )  # fmt: skip
    items = site.get("/api/daily_papers", params={"submitter": "api0"}).json()
    assert [item["paper"]["id"] for item in items] == ["1707.08567"]
    assert items[0]["submittedBy"]["name"] == "api0"
    assert items[0]["paper"]["submittedOnDailyBy"]["name"] == "api0"
    submitted_at = items[0]["paper"]["submittedOnDailyAt"]  # the moment, to the millisecond
    assert re.fullmatch(rf"{today}T\d\d:\d\d:\d\d\.\d{{3}}Z", submitted_at), submitted_at
    by_bob = {"Authorization": f"Bearer {api_token(filled, bob, 'write')}"}
    again = site.post("/api/papers/submit", json=body, headers=by_bob)
    assert (again.json()["new"], again.json()["upvotes"]) == (False, 2)
    bad = site.post("/api/papers/submit", json={"paper_id": "nonsense"}, headers=write)
    assert bad.status_code == 422 and "not an arXiv id" in bad.json()["message"]
    # The note is text everywhere: escaped on the page.
    page = site.get(f"/date/{today}").text
    assert "&lt;script&gt;x&lt;/script&gt; good" in page and "<script>x" not in page


def test_submit_from_the_daily_page_and_a_moderator_removes_it(
    site: TestClient, filled: Store
) -> None:
    (member,) = add_members(filled, 1, prefix="form")
    sign_in(site, filled, member)
    page = site.get("/date/2026-06-12").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    form = {"csrf_token": token, "paper": "arXiv:1707.08567v1", "note": "Read this"}
    answer = site.post("/submit", data=form, follow_redirects=False)
    assert answer.status_code == 303
    today = datetime.now(UTC).date().isoformat()
    assert answer.headers["location"] == f"/date/{today}?submitted=1707.08567&new=1#submit"
    shown = site.get(answer.headers["location"]).text
    assert "Submitted" in shown and "Read this" in shown and "submitted by" in shown
    refused = site.post("/submit", data={**form, "csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    removal = {"csrf_token": token}
    url = "/papers/1707.08567/remove-submission"
    assert site.post(url, data=removal, follow_redirects=False).status_code == 403
    set_role(filled, member, "moderator")
    sign_in(site, filled, member)
    token = re.search(r'name="csrf_token" value="([^"]+)"', site.get("/").text)[1]  # type: ignore[index]
    assert site.post(url, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert site.get("/api/papers/1707.08567").status_code == 404
