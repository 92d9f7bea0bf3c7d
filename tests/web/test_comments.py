"""Comments over HTTP on the real app (TestClient over a real SQLite store with real papers):
the API (write tokens, session + X-CSRF-Token, its 4xx answers), the paper page's forms
without JavaScript, own controls in the member merge, placeholders, counts in the API and
cached pages dropping when a comment is written."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts.flows import set_suspended
from dailypapers.discussion import comments as discussion
from dailypapers.discussion.comments import thread
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from dailypapers.web.auth import SESSION_COOKIE
from dailypapers.web.comments import comment_json, comment_out
from tests.support.accounts import bearer, cookie_domain, csrf_of, make_user
from tests.support.members import add_members, api_token, member, set_role, sign_in

DAY = "2026-06-12"
HF_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _papers(client: TestClient) -> list[str]:
    items = client.get("/api/daily_papers", params={"date": DAY, "limit": 10}).json()
    return [item["paper"]["id"] for item in items]


@pytest.fixture
def uncached(filled: Store) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"page_cache_mb": 0})
    with TestClient(create_app(filled, settings)) as test_client:
        yield test_client


def _num_comments(client: TestClient, paper: str) -> int:
    items = client.get("/api/daily_papers", params={"date": DAY, "limit": 100}).json()
    return int(next(item["numComments"] for item in items if item["paper"]["id"] == paper))


def test_the_api_posts_replies_edits_and_deletes(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2, prefix="api")
    paper, other = _papers(client)[:2]
    before = _num_comments(client, paper)
    write = bearer(api_token(filled, ada, "write"))
    url = f"/api/papers/{paper}/comments"
    made = client.post(url, json={"text": "Bound: $\\mathcal{O}(n)$", "parent": None},
                       headers=write)  # fmt: skip
    assert made.status_code == 201, made.text
    top = made.json()
    assert top["author"] == {"fullname": "api0", "name": "api0", "user": "api0",
                             "avatarUrl": None, "type": "user"}  # fmt: skip
    assert top["text"] == "Bound: $\\mathcal{O}(n)$" and "<math" in top["html"]
    assert HF_TIME.match(top["createdAt"]) and top["parent"] is None and not top["edited"]
    theirs = bearer(api_token(filled, bob, "write"))
    reply = client.post(url, json={"text": "Agreed", "parent": top["id"]}, headers=theirs)
    assert reply.status_code == 201 and reply.json()["parent"] == top["id"]
    thread = client.get(url).json()
    assert [c["id"] for c in thread] == [top["id"], reply.json()["id"]]
    assert _num_comments(client, paper) == before + 2
    # Changes: only the author (or a moderator).
    edit = f"/api/comments/{top['id']}"
    assert client.patch(edit, json={"text": "x"}, headers=theirs).status_code == 403
    assert (
        client.patch("/api/comments/999999", json={"text": "x"}, headers=write).status_code == 404
    )
    edited = client.patch(edit, json={"text": "Bound: $O(n \\log n)$"}, headers=write).json()
    assert edited["edited"] and HF_TIME.match(edited["editedAt"])
    assert client.delete(edit, headers=theirs).status_code == 403
    gone = client.delete(edit, headers=write)
    assert gone.status_code == 200 and gone.json()["deleted"] and gone.json()["text"] == ""
    thread = client.get(url).json()
    assert thread[0]["deleted"] and thread[0]["author"] is None and thread[0]["html"] == ""
    assert thread[1]["text"] == "Agreed"
    assert _num_comments(client, paper) == before + 1
    assert client.get(f"/api/papers/{other}/comments").json() == []


def test_the_api_refuses_bad_input_with_a_message(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2, prefix="bad")
    paper, other = _papers(client)[:2]
    write = bearer(api_token(filled, ada, "write"))
    url = f"/api/papers/{paper}/comments"
    top = client.post(url, json={"text": "top"}, headers=write).json()
    reply = client.post(url, json={"text": "r", "parent": top["id"]}, headers=write).json()
    long_text = "x" * (get_settings().comment_max_chars + 1)
    cases = [
        (url, {"text": "   "}, 400, "empty"),
        (url, {"text": long_text}, 400, "at most"),
        (url, {"text": "x", "parent": 999_999}, 400, "no comment"),
        (f"/api/papers/{other}/comments", {"text": "x", "parent": top["id"]}, 400, "no comment"),
        (url, {"text": "x", "parent": reply["id"]}, 400, "one level"),
        (url, {"parent": None}, 422, "text"),
        ("/api/papers/2501.99999/comments", {"text": "x"}, 404, "no paper"),
    ]
    for path, body, status, message in cases:
        answer = client.post(path, json=body, headers=write)
        assert answer.status_code == status, (body, answer.text)
        assert message in answer.json()["message"]
    read_only = bearer(api_token(filled, bob, "read"))
    assert client.post(url, json={"text": "x"}, headers=read_only).status_code == 403
    assert client.post(url, json={"text": "x"}).status_code == 401
    assert client.get("/api/papers/2501.99999/comments").status_code == 404


def test_a_browser_session_posts_with_its_csrf_header(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1, prefix="js")
    paper = _papers(client)[0]
    sign_in(client, filled, ada)
    url = f"/api/papers/{paper}/comments"
    assert client.post(url, json={"text": "no token"}).status_code == 403
    answer = client.post(url, json={"text": "hi"}, headers={"X-CSRF-Token": csrf_of(client)})
    assert answer.status_code == 201


@pytest.mark.parametrize("held", [0.05, 0.6])  # shorter and longer than RETRY_FOR
def test_a_post_waits_for_another_writer_and_is_written_once(
    client: TestClient, filled: Store, held: float
) -> None:
    prefix = f"wait{int(held * 100)}x"
    (ada,) = add_members(filled, 1, prefix=prefix)
    paper = _papers(client)[0]
    write = bearer(api_token(filled, ada, "write"))
    taken, release = threading.Event(), threading.Event()

    def writer() -> None:  # another writer holds SQLite's write lock (a notification, a vote)
        with filled.write() as connection:
            connection.exec_driver_sql("UPDATE papers SET arxiv_id = arxiv_id WHERE 0")
            taken.set()
            release.wait(5)

    other = threading.Thread(target=writer)
    other.start()
    assert taken.wait(5)
    threading.Timer(held, release.set).start()
    made = client.post(f"/api/papers/{paper}/comments", json={"text": "late"}, headers=write)
    other.join()
    assert made.status_code == 201, made.text
    thread = client.get(f"/api/papers/{paper}/comments").json()
    mine = [c for c in thread if c["author"] and c["author"]["name"] == f"{prefix}0"]
    assert [c["id"] for c in mine] == [made.json()["id"]]


def _form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` on ``page``."""
    start = page.index(f'action="{action}"')
    form = page[start : page.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def test_the_page_forms_work_without_javascript(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2, prefix="form")
    paper = _papers(client)[0]
    path = f"/papers/{paper}"
    anonymous = TestClient(client.app)
    page = anonymous.get(path).text
    assert "Log in to comment" in page and "csrf_token" not in page
    sign_in(client, filled, ada)
    page = client.get(path).text
    fields = _form(page, f"/papers/{paper}/comments")
    posted = client.post(f"{path}/comments", data={**fields, "text": "Nice $x^2$ @form1"},
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303
    comment_id = int(posted.headers["location"].split("#comment-")[1])
    page = client.get(path).text
    assert f'id="comment-{comment_id}"' in page and "<math" in page
    assert 'href="/users/form1" class="mention"' in page
    assert f'action="/comments/{comment_id}/edit"' in page  # the author's own controls
    # A refused comment: the page again, the error beside the form, the text kept.
    refused = client.post(f"{path}/comments",
                          data={**fields, "text": "x", "parent": "999999"})  # fmt: skip
    assert refused.status_code == 400 and "no comment 999999" in refused.text
    # Reply, edit, delete.
    other = TestClient(client.app)
    sign_in(other, filled, bob)
    theirs = other.get(path).text
    assert f'action="/comments/{comment_id}/edit"' not in theirs  # not bob's to change
    their_fields = _form(theirs, f"/papers/{paper}/comments")
    reply_data = {**their_fields, "text": "Thanks", "parent": str(comment_id)}
    reply = other.post(f"{path}/comments", data=reply_data, follow_redirects=False)
    assert reply.status_code == 303
    edited = client.post(f"/comments/{comment_id}/edit", data={**fields, "text": "Nicer"},
                         follow_redirects=False)  # fmt: skip
    assert edited.headers["location"] == f"/papers/{paper}#comment-{comment_id}"
    page = anonymous.get(path).text
    assert "Nicer" in page and 'class="edited"' in page and "Thanks" in page
    forbidden = other.post(
        f"/comments/{comment_id}/delete", data=_form(theirs, f"/papers/{paper}/comments")
    )
    assert forbidden.status_code == 403
    client.post(f"/comments/{comment_id}/delete", data=fields)
    page = anonymous.get(path).text
    assert "This comment was deleted." in page and "Nicer" not in page and "Thanks" in page


def test_merged_member_pages_keep_own_controls_for_their_author_only(
    client: TestClient, uncached: TestClient, filled: Store
) -> None:
    ada, bob, mod = add_members(filled, 3, prefix="own")
    set_role(filled, mod, "moderator")
    paper = _papers(client)[0]
    path = f"/papers/{paper}"
    write = bearer(api_token(filled, ada, "write"))
    top = client.post(f"/api/papers/{paper}/comments", json={"text": "mine"}, headers=write)
    also = {"text": "also mine", "parent": top.json()["id"]}
    client.post(f"/api/papers/{paper}/comments", json=also, headers=write)
    edit = f'action="/comments/{top.json()["id"]}/edit"'
    report = f'action="/comments/{top.json()["id"]}/report"'
    # Rendered once first: the templates compiled and the cache's look at the store made
    # after the comments. Run alone, the first rendering took longer than the look's
    # interval, and the look of the next request dropped the member's template just kept.
    assert client.get(path).status_code == 200
    for user_id, sees in ((ada, True), (bob, False), (mod, True)):
        cached = TestClient(client.app)
        token = sign_in(cached, filled, user_id)
        uncached.cookies.set(SESSION_COOKIE, token, domain=cookie_domain(uncached))
        first, again, direct = cached.get(path), cached.get(path), uncached.get(path)
        assert again.headers["x-cache"] == "hit", (user_id, first.headers, again.headers)
        assert first.text == again.text == direct.text, user_id
        assert (edit in again.text) is sees
        # The report form: never on your own comment; moderators hide instead.
        assert (report in again.text) is (user_id == bob), user_id
        assert "<!--own" not in again.text


def test_new_accounts_are_limited_and_suspended_authors_hidden(
    client: TestClient, filled: Store
) -> None:
    newbie = make_user(filled, "newbie")  # made now: a new account
    paper = _papers(client)[0]
    write = bearer(api_token(filled, newbie.id, "write"))
    url = f"/api/papers/{paper}/comments"
    links = "a https://a.example b https://b.example c https://c.example"
    answer = client.post(url, json={"text": links}, headers=write)
    assert answer.status_code == 400 and "links" in answer.json()["message"]
    allowed = 3  # LIMIT_COMMENT_NEW's default: account:3/1h
    for index in range(allowed):
        assert client.post(url, json={"text": f"c{index}"}, headers=write).status_code == 201
    limited = client.post(url, json={"text": "more"}, headers=write)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    # A suspended author's comments are hidden, and uncounted. (The suspension is a change
    # from elsewhere, seen by the cache at its next look at the store: now.)
    client.app.state.vote_watch.cache.check_every = 0.0  # type: ignore[attr-defined]
    before = _num_comments(client, paper)
    set_suspended(filled, member(filled, newbie.id), True)
    assert client.get(url).json() == []
    assert _num_comments(client, paper) == before - allowed
    assert "c0" not in client.get(f"/papers/{paper}").text


def test_cached_pages_show_a_new_comment_at_once(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1, prefix="cache")
    paper = _papers(client)[0]
    anonymous = TestClient(client.app)
    path = f"/papers/{paper}"
    anonymous.get(path), anonymous.get("/api/daily_papers", params={"date": DAY})
    assert anonymous.get(path).headers["x-cache"] == "hit"
    write = bearer(api_token(filled, ada, "write"))
    client.post(f"/api/papers/{paper}/comments", json={"text": "fresh news"}, headers=write)
    page = anonymous.get(path)
    assert page.headers["x-cache"] == "miss" and "fresh news" in page.text
    assert "1 comment" in page.text or "comments" in page.text


def test_the_thread_json_is_what_the_model_writes(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1, prefix="json")
    paper = _papers(client)[0]
    write = bearer(api_token(filled, ada, "write"))
    top = client.post(f"/api/papers/{paper}/comments", json={"text": "$x$"}, headers=write)
    client.patch(f"/api/comments/{top.json()['id']}", json={"text": "$y$"}, headers=write)
    [shown] = thread(filled, paper)
    assert comment_json(shown) == comment_out(shown).model_dump(mode="json")
    assert client.get(f"/api/papers/{paper}/comments").json() == [comment_json(shown)]


def test_listeners_hear_of_comments_posted_through_the_api(
    client: TestClient, filled: Store
) -> None:
    ada, bob = add_members(filled, 2, prefix="heard")
    heard: list[discussion.CommentEvent] = []
    discussion.add_listener(lambda _store, event: heard.append(event))
    paper = _papers(client)[0]
    write = bearer(api_token(filled, ada, "write"))
    made = client.post(f"/api/papers/{paper}/comments", json={"text": "cc @heard1"}, headers=write)
    assert made.status_code == 201
    [event] = [e for e in heard if e.comment.id == made.json()["id"]]
    assert event.kind == "posted" and event.mentioned_user_ids == (bob,)


def test_moderators_see_earlier_versions_and_members_do_not(
    client: TestClient, filled: Store
) -> None:
    ada, mod = add_members(filled, 2, prefix="ver")
    set_role(filled, mod, "moderator")
    paper = _papers(client)[0]
    write = bearer(api_token(filled, ada, "write"))
    made = client.post(f"/api/papers/{paper}/comments", json={"text": "first <text>"},
                       headers=write).json()  # fmt: skip
    client.patch(f"/api/comments/{made['id']}", json={"text": "second"}, headers=write)
    sign_in(client, filled, ada)
    assert client.get(f"/comments/{made['id']}/versions").status_code == 403
    moderator = TestClient(client.app)
    sign_in(moderator, filled, mod)
    page = moderator.get(f"/comments/{made['id']}/versions")
    assert page.status_code == 200 and "first &lt;text&gt;" in page.text and "second" in page.text
    assert f'href="/comments/{made["id"]}/versions"' in moderator.get(f"/papers/{paper}").text
    versions = moderator.get(f"/api/comments/{made['id']}/versions").json()
    assert [v["text"] for v in versions] == ["first <text>"]
