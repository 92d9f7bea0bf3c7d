"""The moderators' queues through the app: submissions (newest first, with the submitter's
user name linked, the note and the time; removal with the CSRF token) and authorship claims
(user names, not ids); what members wrote (a name or a note with HTML in it) is text on every
page, in the API and in the feeds.

Submissions go through the real route, which fetches the paper from a real HTTP server
replaying a captured arXiv API answer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts import service as accounts
from dailypapers.community import claims
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from tests.support.accounts import api_token, bearer, csrf_of, make_user, sign_in
from tests.support.members import add_members
from tests.support.replay import ReplayServer, Response
from tests.web.test_claims import a_paper_and_author

ARXIV = "arxiv-responses/api-atom/arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"
# Ten papers arXiv answered a search with; any of them is found by id in it.
ARXIV_MORE = "arxiv-responses/api-atom/arxivpy_2026_search_testing_start0_max10.body.xml"
ATOM = {"Content-Type": "application/atom+xml"}
NAME = 'Ada <b>Lovelace</b> & "friends"'
NOTE = "<script>alert(1)</script> & <i>read</i> this"


@pytest.fixture
def site(filled: Store, replay: ReplayServer, shared_data: Path) -> Iterator[TestClient]:
    one, more = ((shared_data / name).read_bytes() for name in (ARXIV, ARXIV_MORE))
    replay.add("/api/query", Response(200, more, ATOM))
    replay.add("/api/query", Response(200, one, ATOM), query={"id_list": "1707.08567"})
    settings = get_settings().model_copy(update={
        "arxiv_api_url": replay.base_url + "/api/query", "submission_max_age_days": 100_000,
        "http_retries": 0, "page_cache_mb": 0,
    })  # fmt: skip
    with TestClient(create_app(filled, settings)) as test_client:
        yield test_client


def _submit(site: TestClient, store: Store, username: str, paper: str, note: str) -> None:
    user = make_user(store, username, fullname=NAME)
    headers = bearer(api_token(store, user, "write"))
    body = {"paper_id": paper, "comment": note}
    answer = site.post("/api/papers/submit", json=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["new"], answer.text


def test_the_queue_lists_submissions_newest_first_to_moderators_only(
    site: TestClient, filled: Store
) -> None:
    _submit(site, filled, "ada", "1707.08567", NOTE)
    _submit(site, filled, "bob", "2202.12139", "second")
    assert site.get("/moderation/submissions", follow_redirects=False).status_code == 303
    sign_in(site, filled, make_user(filled, "carol"))
    refused = site.get("/moderation/submissions")
    assert refused.status_code == 403 and "moderator" in refused.text
    assert "/moderation/submissions" not in site.get("/settings").text
    site.cookies.clear()
    sign_in(site, filled, make_user(filled, "mod", role="moderator"))
    settings_page = site.get("/settings").text
    assert 'href="/moderation/submissions"' in settings_page
    assert 'href="/moderation/claims"' in settings_page
    queue = site.get("/moderation/submissions")
    assert queue.status_code == 200 and "no-store" in queue.headers["cache-control"]
    rows = re.findall(r'<td><a href="/users/(\w+)">(\w+)</a></td>', queue.text)
    assert rows == [("bob", "bob"), ("ada", "ada")]  # newest first, user names linked
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;i&gt;read&lt;/i&gt; this" in queue.text
    assert "<script>alert" not in queue.text
    today = datetime.now(UTC).date().isoformat()
    assert re.search(rf'<time datetime="{today}T\d\d:\d\d:\d\dZ">', queue.text)
    assert "2 in all" in queue.text


def test_a_moderator_removes_a_submission_with_the_csrf_token(
    site: TestClient, filled: Store
) -> None:
    _submit(site, filled, "ada", "1707.08567", NOTE)
    url = "/moderation/submissions/1707.08567/remove"
    sign_in(site, filled, make_user(filled, "carol"))
    assert site.post(url, data={"csrf_token": csrf_of(site)}).status_code == 403
    site.cookies.clear()
    sign_in(site, filled, make_user(filled, "mod", role="moderator"))
    assert site.post(url, data={"csrf_token": "forged"}).status_code == 403
    removed = site.post(url, data={"csrf_token": csrf_of(site)}, follow_redirects=False)
    assert removed.status_code == 303
    assert removed.headers["location"] == "/moderation/submissions?removed=1707.08567"
    after = site.get(removed.headers["location"]).text
    assert "Removed the submission of 1707.08567" in after and "No submissions" in after
    assert site.get("/api/papers/1707.08567").status_code == 404  # known only from it: gone
    again = site.post(url, data={"csrf_token": csrf_of(site)})
    assert again.status_code == 404


def test_the_claims_queue_names_users_not_ids(site: TestClient, filled: Store) -> None:
    paper_id, name = a_paper_and_author(filled)
    ada = make_user(filled, "ada", fullname=NAME)
    claims.claim_authorship(filled, ada, paper_id, name)
    sign_in(site, filled, make_user(filled, "mod", role="moderator"))
    queue = site.get("/moderation/claims").text
    assert '<a href="/users/ada">ada</a> claims to be' in queue
    assert f"User #{ada.id}" not in queue and 'href="/moderation/submissions"' in queue


def test_names_and_notes_with_html_are_text_in_pages_api_and_feeds(
    site: TestClient, filled: Store
) -> None:
    _submit(site, filled, "ada", "1707.08567", NOTE)
    today = datetime.now(UTC).date().isoformat()
    escaped_name = "Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; &#34;friends&#34;"
    escaped_note = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;i&gt;read&lt;/i&gt; this"
    for path in (f"/date/{today}", "/papers/1707.08567", "/users/ada"):
        page = site.get(path).text
        assert "<b>Lovelace" not in page and "<script>alert" not in page, path
        assert escaped_name in page or "Ada &lt;b&gt;Lovelace" in page, path
    assert escaped_note in site.get(f"/date/{today}").text
    # The API carries the text as it was written (JSON strings hold no markup).
    (item,) = site.get("/api/daily_papers", params={"submitter": "ada"}).json()
    assert item["submittedBy"]["fullname"] == NAME
    assert item["paper"]["submittedOnDailyBy"]["fullname"] == NAME
    # The feeds are well-formed XML whatever a member wrote.
    for kind in ("atom", "rss"):
        feed = site.get(f"/feeds/daily.{kind}")  # the latest day: today
        assert feed.status_code == 200
        ElementTree.fromstring(feed.content)
        assert b"<script>alert" not in feed.content and b"<b>Lovelace" not in feed.content


def test_the_export_holds_the_members_upvotes_submissions_and_claims(
    site: TestClient, filled: Store
) -> None:
    _submit(site, filled, "ada", "1707.08567", NOTE)
    ada = accounts.find_user(filled, "ada")
    assert ada is not None
    paper_id, name = a_paper_and_author(filled)
    claims.claim_authorship(filled, ada, paper_id, name)
    sign_in(site, filled, ada)
    exported = site.get("/settings/export.json")
    assert exported.status_code == 200
    data = exported.json()
    assert [(s["paperId"], s["note"]) for s in data["submissions"]] == [("1707.08567", NOTE)]
    assert [vote["paperId"] for vote in data["upvotes"]] == ["1707.08567"]  # the submission's
    assert [(c["paperId"], c["authorName"], c["status"]) for c in data["authorshipClaims"]] == [
        (paper_id, name, "pending")
    ]
    assert data["linkedIdentities"] == []
    assert all(v["createdAt"].endswith("Z") for v in data["upvotes"] + data["submissions"])


def test_a_deleted_account_leaves_exact_counts_and_no_name(site: TestClient, filled: Store) -> None:
    _submit(site, filled, "ada", "1707.08567", NOTE)
    (bob_id,) = add_members(filled, 1, prefix="bob")
    bob = accounts.user_by_id(filled, bob_id)
    assert bob is not None
    headers = bearer(api_token(filled, bob, "write"))
    assert site.post("/api/papers/1707.08567/upvote", headers=headers).json()["upvotes"] == 2
    ada = accounts.find_user(filled, "ada")
    assert ada is not None and accounts.delete_user(filled, ada.id)
    paper = site.get("/api/papers/1707.08567").json()
    assert paper["upvotes"] == 1  # bob's; ada's vote went with her account
    assert paper["submittedOnDailyBy"] is None
    page = site.get("/papers/1707.08567").text
    assert "Lovelace" not in page and "alert(1)" not in page
