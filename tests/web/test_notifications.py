"""Notifications through the site: the header's unread count on every page a member reads
(cached member pages too: byte for byte the page rendered directly), the list, marking one
and all read with the CSRF token, the email choices in settings; and the report -> queue ->
hide -> unhide flow through the moderators' pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts import User
from dailypapers.discussion import comments as service
from dailypapers.discussion import notifications
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.schema import papers
from dailypapers.web.app import create_app
from tests.support.accounts import csrf_of, make_user, sign_in
from tests.support.members import add_members, member
from tests.web.test_claims import a_paper_and_author

UNREAD = re.compile(r'<span class="unread">(\d+)<span class="visually-hidden"> unread</span>')


@pytest.fixture
def uncached(filled: Store) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"page_cache_mb": 0})
    with TestClient(create_app(filled, settings)) as test_client:
        yield test_client


def _two(store: Store) -> tuple[User, User]:
    ada, bob = add_members(store, 2, prefix="p")
    return member(store, ada), member(store, bob)


def _unread(page: str) -> int:
    found = UNREAD.search(page)
    return int(found.group(1)) if found else 0


def test_the_header_count_on_cached_and_direct_pages(
    client: TestClient, uncached: TestClient, filled: Store
) -> None:
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    paper, _ = a_paper_and_author(filled)
    ada, bob = _two(filled)
    top = service.post_comment(filled, get_settings(), ada, paper, "hello")
    sign_in(client, filled, ada)
    uncached.cookies.update(client.cookies)
    for path in ("/", "/trending", f"/papers/{paper}"):
        first, again = client.get(path), client.get(path)
        assert again.status_code == 200, (path, again.status_code)
        assert again.headers["x-cache"] == "hit", (path, again.headers)
        assert first.text == again.text == uncached.get(path).text, path
        assert _unread(again.text) == 0 and 'href="/notifications"' in again.text
    for text in ("one", "two @p0"):
        service.post_comment(filled, get_settings(), bob, paper, text, parent_id=top.id)
    first, cached, direct = client.get("/"), client.get("/"), uncached.get("/")
    assert cached.headers["x-cache"] == "hit"  # the count is merged, not rendered
    assert _unread(cached.text) == 2 and first.text == cached.text == direct.text
    assert _unread(client.get("/settings").text) == 2  # personal pages render it
    other = TestClient(client.app)
    sign_in(other, filled, bob)
    assert _unread(other.get("/").text) == 0  # bob's own replies tell bob nothing


def test_list_mark_one_and_all_read(client: TestClient, filled: Store) -> None:
    paper, _ = a_paper_and_author(filled)
    ada, bob = _two(filled)
    top = service.post_comment(filled, get_settings(), ada, paper, "hello")
    for text in ("first <b>reply</b>", "second reply"):
        service.post_comment(filled, get_settings(), bob, paper, text, parent_id=top.id)
    assert client.get("/notifications", follow_redirects=False).status_code == 303  # log in
    sign_in(client, filled, ada)
    page = client.get("/notifications")
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    ids = [int(i) for i in re.findall(r'id="notification-(\d+)"', page.text)]
    assert len(ids) == 2 and ids[0] > ids[1]  # newest first
    assert f'href="/papers/{paper}#comment-' in page.text
    assert "first &lt;b&gt;reply&lt;/b&gt;" in page.text and "<b>reply" not in page.text
    refused = client.post(f"/notifications/{ids[0]}/read", follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    marked = client.post(
        f"/notifications/{ids[0]}/read",
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    assert _unread(client.get("/notifications").text) == 1
    bobs = TestClient(client.app)
    sign_in(bobs, filled, bob)  # bob cannot mark ada's
    bobs.post(f"/notifications/{ids[1]}/read", data={"csrf_token": csrf_of(bobs)})
    assert notifications.unread_count(filled, ada.id) == 1
    client.post("/notifications/read", data={"csrf_token": csrf_of(client)})
    done = client.get("/notifications").text
    assert _unread(done) == 0 and "Mark all as read" not in done and "Mark as read" not in done


def test_email_choices_from_the_settings_page(client: TestClient, filled: Store) -> None:
    ada = make_user(filled, "ada")
    sign_in(client, filled, ada)
    page = client.get("/settings").text
    assert len(re.findall(r'name="(reply|mention|paper_comment)" value="on" checked', page)) == 3
    saved = client.post(
        "/settings/notifications",
        data={"csrf_token": csrf_of(client), "mention": "on"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert notifications.email_prefs(filled, ada.id) == {
        "reply": False, "mention": True, "paper_comment": False
    }  # fmt: skip
    page = client.get(saved.headers["location"]).text
    assert re.findall(r'name="(\w+)" value="on" checked', page) == ["mention"]
    assert "notification choices are saved" in page


def _local_comments(store: Store, paper_id: str) -> int:
    with store.read() as connection:
        query = papers.select().where(papers.c.arxiv_id == paper_id)
        return int(connection.execute(query).mappings().one()["local_comments"])


def test_report_queue_hide_and_unhide_through_the_pages(client: TestClient, filled: Store) -> None:
    paper, _ = a_paper_and_author(filled)
    ada, bob = _two(filled)
    top = service.post_comment(filled, get_settings(), ada, paper, "rude <i>words</i>")
    sign_in(client, filled, bob)
    assert f'action="/comments/{top.id}/report"' in client.get(f"/papers/{paper}").text
    path = f"/comments/{top.id}/report"
    assert client.post(path, data={"reason": "rude"}).status_code == 403  # no CSRF token
    reported = client.post(
        path,
        data={"reason": "rude", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert reported.status_code == 303
    assert reported.headers["location"] == f"/papers/{paper}?reported=1#comment-{top.id}"
    again = client.post(path, data={"reason": "rude", "csrf_token": csrf_of(client)})
    assert again.status_code == 409 and "already" in again.text
    assert client.get("/moderation/reports").status_code == 403
    client.cookies.clear()
    sign_in(client, filled, make_user(filled, "mod", role="moderator"))
    queue = client.get("/moderation/reports")
    assert queue.status_code == 200 and "rude &lt;i&gt;words&lt;/i&gt;" in queue.text
    assert "<i>words" not in queue.text and 'href="/users/p1">p1</a> reported' in queue.text
    assert "1 open" in client.get("/moderation").text
    assert 'href="/moderation/log"' not in client.get("/moderation").text  # admins only
    hide = f"/moderation/comments/{top.id}/hide"
    token = csrf_of(client)
    assert client.post(hide, data={"csrf_token": token}).status_code == 422  # no reason
    before = _local_comments(filled, paper)
    hidden = client.post(
        hide, data={"csrf_token": token, "reason": "insults"}, follow_redirects=False
    )
    assert hidden.status_code == 303 and _local_comments(filled, paper) == before - 1
    after = client.get(hidden.headers["location"]).text
    assert "The comment is hidden" in after and "No open reports" in after
    shown = service.comment_by_id(filled, top.id, moderator=True)
    assert shown is not None and shown.hidden and shown.hidden_reason == "insults"
    readers = service.comment_by_id(filled, top.id)
    assert readers is not None and readers.body == "" and readers.html == ""
    moderators_page = client.get(f"/papers/{paper}").text
    assert "hidden: insults" in moderators_page and "rude &lt;i&gt;words" in moderators_page
    assert f'action="/moderation/comments/{top.id}/unhide"' in moderators_page
    anonymous = TestClient(client.app)
    assert "rude" not in anonymous.get(f"/papers/{paper}").text
    unhide = f"/moderation/comments/{top.id}/unhide"
    shown_again = client.post(
        unhide, data={"csrf_token": token, "reason": "ok after all"}, follow_redirects=False
    )
    assert shown_again.status_code == 303 and _local_comments(filled, paper) == before
    assert client.post(unhide, data={"csrf_token": token, "reason": "x"}).status_code == 409
    assert (
        client.post(
            "/moderation/comments/999999/hide", data={"csrf_token": token, "reason": "x"}
        ).status_code
        == 404
    )
