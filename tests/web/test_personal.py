"""Signed-in pages served from the response cache (web/member_pages.py, web/personal.py):
the merged page is byte for byte the page rendered for the member directly; members never
see each other's state; the CSRF token of a merged page works; votes, log-out and ended
sessions show at once; no slot and no member ever reaches the shared cache."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from html import escape

import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts.models import User
from dailypapers.accounts.service import end_all_sessions
from dailypapers.community.votes import set_upvote
from dailypapers.discussion import collections
from dailypapers.paper import make_record
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.web import personal
from dailypapers.web.app import create_app
from dailypapers.web.auth import SESSION_COOKIE
from dailypapers.web.cache import CachedResponse, CacheKey, ResponseCache
from dailypapers.web.list_order import read_again
from tests.support.accounts import cookie_domain, csrf_of
from tests.support.forms import control_fields
from tests.support.members import add_members, set_role, sign_in

DAY = "/date/2026-06-12"
SHARED_PAGES = (DAY, f"{DAY}?sort=recent", "/", "/trending", "/about", "/search?q=language")


def _cache(client: TestClient) -> ResponseCache:
    cache: ResponseCache = client.app.state.vote_watch.cache  # type: ignore[attr-defined]
    return cache


@pytest.fixture
def uncached(filled: Store) -> Iterator[TestClient]:
    """The same site without the response cache: every page rendered for its reader."""
    settings = get_settings().model_copy(update={"page_cache_mb": 0})
    with TestClient(create_app(filled, settings)) as test_client:
        yield test_client


def _papers(client: TestClient) -> list[str]:
    page = client.get(DAY, params={"sort": "recent"}).text
    return re.findall(r'href="/papers/([^"]+)">', page)


def _as(client: TestClient, token: str) -> TestClient:
    client.cookies.set(SESSION_COOKIE, token, domain=cookie_domain(client))
    return client


def _upvoted(html: str) -> set[str]:
    return set(re.findall(r'formaction="/papers/([^"]+)/upvote" name="upvoted" value="0"', html))


def test_a_merged_page_is_the_page_rendered_for_the_member(
    indexed_client: TestClient, uncached: TestClient, filled: Store
) -> None:
    client = indexed_client
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    (ada,) = add_members(filled, 1, prefix="ada")
    papers = _papers(client)
    for paper in papers[:3]:
        set_upvote(filled, ada, paper, True)
    token = sign_in(client, filled, ada)
    _as(uncached, token)
    for path in (*SHARED_PAGES, f"/papers/{papers[0]}", f"/papers/{papers[5]}"):
        first, again, direct = client.get(path), client.get(path), uncached.get(path)
        assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit"), path
        assert first.text == again.text == direct.text, path
        assert again.headers["cache-control"] == "private, no-store"
        assert 'href="/users/ada0">ada0</a>' in again.text
    day = client.get(DAY).text
    assert _upvoted(day) == set(papers[:3]) and "csrf-slot" not in day
    assert (
        f"{papers[0]}" in day
        and "upvotes, yours among them" in client.get(f"/papers/{papers[0]}").text
    )
    assert "yours among them" not in client.get(f"/papers/{papers[5]}").text


def test_moderators_get_their_forms_and_members_do_not(
    client: TestClient, uncached: TestClient, filled: Store
) -> None:
    moderator, member = add_members(filled, 2)
    set_role(filled, moderator, "moderator")
    paper = _papers(client)[0]
    path = f"/papers/{paper}"
    _as(uncached, sign_in(client, filled, moderator))
    assert client.get(path).text == uncached.get(path).text
    other = TestClient(client.app)
    sign_in(other, filled, member)
    assert other.get(path).headers["x-cache"] == "miss"  # a rendering of its own
    assert 'href="/users/member1"' in other.get(path).text


def test_members_never_see_each_others_state(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2)
    paper = _papers(client)[0]
    set_upvote(filled, ada, paper, True)
    sign_in(client, filled, ada)
    other = TestClient(client.app)
    sign_in(other, filled, bob)
    anonymous = TestClient(client.app)
    ada_page, bob_page = client.get(DAY).text, other.get(DAY)
    assert bob_page.headers["x-cache"] == "hit"  # the same rendering, merged for bob
    assert paper in _upvoted(ada_page) and _upvoted(bob_page.text) == set()
    assert "member0" in ada_page and "member0" not in bob_page.text
    assert "member1" in bob_page.text
    ada_csrf = set(re.findall(r'name="csrf_token" value="([^"]+)"', ada_page))
    bob_csrf = set(re.findall(r'name="csrf_token" value="([^"]+)"', bob_page.text))
    assert len(ada_csrf) == len(bob_csrf) == 1 and ada_csrf != bob_csrf
    for page in (anonymous.get(DAY), anonymous.get(DAY)):
        assert "member0" not in page.text and "member1" not in page.text
        assert "csrf_token" not in page.text and '/upvote"' not in page.text
        assert personal.HEADER_SLOT not in page.text and "csrf-slot" not in page.text


def test_the_token_of_a_merged_page_works_and_the_vote_shows_next_time(
    client: TestClient, filled: Store
) -> None:
    ada, bob = add_members(filled, 2)
    sign_in(client, filled, ada)
    anonymous, other = TestClient(client.app), TestClient(client.app)
    sign_in(other, filled, bob)
    paper = _papers(client)[1]
    box = rf'/papers/{re.escape(paper)}/upvote" name="upvoted"'
    count = re.compile(box + r'.*?class="count">(\d+)<', re.S)
    anonymous_count = re.compile(rf'id="t-[^"]+"><a href="/papers/{re.escape(paper)}"')
    client.get(DAY), anonymous.get(DAY), other.get(DAY)
    page = client.get(DAY)
    assert page.headers["x-cache"] == "hit" and anonymous.get(DAY).headers["x-cache"] == "hit"
    before = int(count.search(page.text)[1])  # type: ignore[index]
    fields = control_fields(page.text, paper, "upvote")
    answer = client.post(f"/papers/{paper}/upvote", data=fields,
                         headers={"Accept": "application/json"})  # fmt: skip
    assert answer.status_code == 200 and answer.json()["upvotes"] == before + 1
    mine = client.get(DAY)
    assert paper in _upvoted(mine.text) and int(count.search(mine.text)[1]) == before + 1  # type: ignore[index]
    theirs = other.get(DAY).text
    assert paper not in _upvoted(theirs) and int(count.search(theirs)[1]) == before + 1  # type: ignore[index]
    seen = anonymous.get(DAY)  # corrected in place: still a hit, with the new count
    assert seen.headers["x-cache"] == "hit" and anonymous_count.search(seen.text)
    assert f'class="count">{before + 1}<' in seen.text
    # A page that does not show the paper stays cached.
    assert anonymous.get("/about").headers["x-cache"] in ("hit", "miss")
    client.post(f"/papers/{paper}/upvote", data={**fields, "upvoted": "0"})
    assert paper not in _upvoted(client.get(DAY).text)


def test_a_vote_here_corrects_the_pages_showing_its_paper(
    client: TestClient, uncached: TestClient, filled: Store
) -> None:
    (ada,) = add_members(filled, 1)
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    papers = _papers(client)
    voted, other_paper = f"/papers/{papers[0]}", f"/papers/{papers[5]}"
    anonymous = TestClient(client.app)
    before = anonymous.get(voted).text
    anonymous.get(other_paper)
    token = sign_in(client, filled, ada)
    client.get(voted)
    fields = {"csrf_token": csrf_of(client, DAY), "upvoted": "1", "next": "/"}
    _cache(client).check_every = 0.0  # every request looks at the store's stamp
    client.post(f"{voted}/upvote", data=fields, follow_redirects=False)
    after = anonymous.get(voted)
    assert after.headers["x-cache"] == "hit" and after.text != before
    assert after.text == uncached.get(voted).text  # as if rendered again
    assert int(after.headers["content-length"]) == len(after.content)
    assert anonymous.get(other_paper).headers["x-cache"] == "hit"  # not flushed by the vote
    page = client.get(voted)  # the member's copy: their vote and the new count
    assert page.headers["x-cache"] == "hit" and page.text == _as(uncached, token).get(voted).text
    # A vote made elsewhere (another process: straight into the store) drops everything.
    assert papers[1] not in _upvoted(client.get(DAY).text)  # the member's votes are known
    set_upvote(filled, ada, papers[1], True)
    assert anonymous.get(other_paper).headers["x-cache"] == "miss"
    assert papers[1] in _upvoted(client.get(DAY).text)  # and read again


def test_log_out_and_ended_sessions_take_effect(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2)
    sign_in(client, filled, ada)
    page = client.get(DAY)
    assert "member0" in page.text and client.get(DAY).headers["x-cache"] == "hit"
    token = re.search(
        r'action="/logout" class="logout"><input type="hidden" '
        r'name="csrf_token" value="([^"]+)"',
        page.text,
    )[1]  # type: ignore[index]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 200
    after = client.get(DAY)
    assert "member0" not in after.text and 'href="/login"' in after.text
    other = TestClient(client.app)
    sign_in(other, filled, bob)
    assert "member1" in other.get(DAY).text
    client.app.state.sessions.seconds = 0.0  # type: ignore[attr-defined]
    end_all_sessions(filled, bob)  # "log out everywhere" from another device
    assert "member1" not in other.get(DAY).text


def test_a_role_change_rotates_the_session_on_a_cached_page(
    client: TestClient, filled: Store
) -> None:
    (ada,) = add_members(filled, 1)
    old = sign_in(client, filled, ada)
    client.get(DAY)
    client.app.state.sessions.seconds = 0.0  # type: ignore[attr-defined]
    set_role(filled, ada, "moderator")
    page = client.get(DAY)
    assert "member0" in page.text and SESSION_COOKIE in page.headers["set-cookie"]
    assert client.cookies.get(SESSION_COOKIE) != old
    assert "member0" in client.get(DAY).text
    assert client.get(DAY).headers["x-cache"] == "hit"


def test_api_answers_are_the_same_for_everyone(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1)
    anonymous = TestClient(client.app)
    url = "/api/daily_papers?date=2026-06-12"
    first = anonymous.get(url)
    sign_in(client, filled, ada)
    signed = client.get(url)
    assert signed.headers["x-cache"] == "hit" and signed.json() == first.json()
    assert "x-cache" not in client.get("/api/whoami-v2").headers  # personal: never cached


def test_a_members_votes_load_is_kept_unless_they_voted_meanwhile() -> None:
    votes = personal.MemberVotes()
    ada_mark, bob_mark = votes.mark(1), votes.mark(2)
    votes.voted(2, "2501.00001", True)  # bob votes while both loads run
    votes.put(1, frozenset({"2501.00002"}), ada_mark)
    votes.put(2, frozenset(), bob_mark)  # it may miss his vote: not kept
    assert votes.get(1) == frozenset({"2501.00002"})
    assert votes.get(2) is None
    votes.voted(1, "2501.00001", True)  # kept up to date by this process's votes
    assert votes.get(1) == frozenset({"2501.00001", "2501.00002"})
    mark = votes.mark(2)
    votes.clear()  # votes changed elsewhere: every load under way is stale too
    votes.put(2, frozenset(), mark)
    assert votes.get(1) is None and votes.get(2) is None


def _saved(html: str) -> set[str]:
    return set(re.findall(r'formaction="/papers/([^"]+)/save" name="saved" value="0"', html))


def test_saved_and_hidden_papers_merge_as_the_page_rendered_for_the_member(
    indexed_client: TestClient, uncached: TestClient, filled: Store
) -> None:
    client = indexed_client
    client.app.state.engine.get()  # type: ignore[attr-defined]
    (ada,) = add_members(filled, 1, prefix="ada")
    papers = _papers(client)
    set_upvote(filled, ada, papers[0], True)
    for paper in papers[:4]:
        collections.add_paper(filled, ada, paper)
    for paper in papers[3:6]:  # one both saved and hidden
        collections.mark_not_interested(filled, ada, paper)
    _as(uncached, sign_in(client, filled, ada))
    for path in (*SHARED_PAGES, f"/papers/{papers[0]}", f"/papers/{papers[4]}"):
        first, again, direct = client.get(path), client.get(path), uncached.get(path)
        assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit"), path
        assert first.text == again.text == direct.text, path
    day = client.get(DAY).text
    shown = set(re.findall(r'<h2 class="title" id="[^"]+"><a href="/papers/([^"]+)">', day))
    assert shown.isdisjoint(papers[3:6]) and set(papers[6:]) <= shown
    assert _saved(day) == set(papers[:3]) and _upvoted(day) == {papers[0]}
    paper_page = client.get(f"/papers/{papers[4]}").text  # its own page still shows it
    assert f'formaction="/papers/{papers[4]}/save" name="saved"' in paper_page
    # Another member gets the same rendering with none of ada's state.
    other = TestClient(client.app)
    (bob,) = add_members(filled, 1, prefix="bob")
    sign_in(other, filled, bob)
    bob_day = other.get(DAY)
    assert bob_day.headers["x-cache"] == "hit" and _saved(bob_day.text) == set()
    assert set(papers[3:6]) <= set(re.findall(r'href="/papers/([^"]+)">', bob_day.text))


def test_a_save_or_a_hide_shows_on_the_next_cached_page(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1)
    paper, other_paper = _papers(client)[:2]
    sign_in(client, filled, ada)
    assert client.get(DAY).headers["x-cache"] in ("hit", "miss")
    csrf = csrf_of(client)
    client.post(f"/papers/{paper}/save", data={"csrf_token": csrf, "saved": "1", "next": DAY})
    client.post(f"/papers/{other_paper}/not-interested", data={"csrf_token": csrf, "next": DAY})
    page = client.get(DAY)
    assert page.headers["x-cache"] == "hit"
    assert _saved(page.text) == {paper}
    assert f'href="/papers/{other_paper}"' not in page.text


def test_sessions_seen_together_are_looked_up_again_over_a_stretch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = personal.SessionCache(seconds=60.0)
    member = User(1, "ada", None, None, "member", None, None, True, datetime(2026, 1, 1))
    start = time.monotonic()
    tokens = [f"token-{n}" for n in range(400)]
    monkeypatch.setattr(time, "monotonic", lambda: start)
    for token in tokens:
        sessions.put(token, member)
    monkeypatch.setattr(time, "monotonic", lambda: start + 44.0)  # under 0.75 x: all kept
    assert all(sessions.get(token) == member for token in tokens)
    monkeypatch.setattr(time, "monotonic", lambda: start + 52.5)  # within the stretch
    kept = sum(sessions.get(token) is not None for token in tokens)
    assert 0 < kept < len(tokens)
    monkeypatch.setattr(time, "monotonic", lambda: start + 60.5)  # past 1 x: none left
    assert all(sessions.get(token) is None for token in tokens)


def test_a_cut_template_merges_as_the_replacing_merge_does() -> None:
    """personal.Plan (cut once, one join per member) gives the bytes merge() gives, with
    "yours among them" slots of ids holding dashes and slashes, and a header per member."""
    template = (
        f"<header>{personal.HEADER_SLOT}</header>"
        f'<input name="csrf_token" value="{personal.CSRF_SLOT}">'
        f"<p>3 upvotes{personal.yours_slot('hep-th/9901001')}</p>"
        f"<p>1 upvote{personal.yours_slot('2606.00001')}</p>"
        f'<form><input value="{personal.CSRF_SLOT}"></form>'
    ).encode()
    plan = personal.Plan(template)
    for upvoted in (set(), {"hep-th/9901001"}, {"2606.00001", "hep-th/9901001"}):
        expected = personal.merge(
            template, username="ada", csrf_token="tok", path="/", upvoted=upvoted, unread=2
        )
        header = personal.member_nav("ada", "tok", "/", 2).encode()
        merged = personal.merge_planned(
            plan, username="ada", header=header, csrf_token="tok", upvoted=upvoted
        )
        assert merged == expected
        assert merged.count(b"yours among them") == len(upvoted)


def test_marks_changed_by_another_process_show_once_read_again_together(
    client: TestClient, filled: Store
) -> None:
    """A save and a hide written straight to the store (as another worker process would,
    without this process hearing of it) show once the member's marks are older than
    MemberMarks.seconds: the pages read every such member's marks again together, in the
    background, serving the old ones meanwhile."""
    (ada,) = add_members(filled, 1)
    paper, other_paper = _papers(client)[:2]
    sign_in(client, filled, ada)
    assert _saved(client.get(DAY).text) == set()  # ada's marks are now kept
    collections.add_paper(filled, ada, paper)
    collections.mark_not_interested(filled, ada, other_paper)
    assert _saved(client.get(DAY).text) == set()  # kept, not read again yet
    marks: personal.MemberMarks = client.app.state.member_marks  # type: ignore[attr-defined]
    marks.seconds = 0.0  # ada's are old now: the next page starts reading them again
    for _ in range(500):  # bounded; the look is every MARKS_CHECK_EVERY (2 s) at most
        client.get(DAY)
        if marks.peek(ada) is not None and marks.peek(ada)[0][0]:  # type: ignore[index]
            break
        time.sleep(0.01)
    page = client.get(DAY).text
    assert _saved(page) == {paper}
    assert f'href="/papers/{other_paper}"' not in page
    assert personal.MemberMarks(seconds=60.0).stale() == {}


def test_sessions_kept_for_a_while_are_read_again_together(
    client: TestClient, filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions kept longer than SESSION_RENEW_SHARE of their seconds are read again in the
    background, together: one ended elsewhere (another device's "log out everywhere") or
    whose role changed is forgotten, the others are kept afresh, and a request finds none
    of them missing (no lookup in its way)."""
    ada, bob, cy = add_members(filled, 3)
    sign_in(client, filled, ada)
    others = [TestClient(client.app), TestClient(client.app)]
    sign_in(others[0], filled, bob)
    sign_in(others[1], filled, cy)
    for one in (client, *others):
        assert "member" in one.get(DAY).text
    sessions: personal.SessionCache = client.app.state.sessions  # type: ignore[attr-defined]
    tokens = {
        user: one.cookies[SESSION_COOKIE]
        for user, one in zip((ada, bob, cy), (client, *others), strict=True)
    }
    assert sessions.stale() == {}  # kept only just now
    end_all_sessions(filled, bob)
    set_role(filled, cy, "moderator")
    monkeypatch.setattr(personal, "SESSION_RENEW_SHARE", 0.0)  # all of them are old now
    for _ in range(500):  # bounded; the look is every SESSIONS_CHECK_EVERY (2 s) at most
        client.get(DAY)
        if sessions.get(tokens[bob]) is None:
            break
        time.sleep(0.01)
    assert sessions.get(tokens[bob]) is None and sessions.get(tokens[cy]) is None
    assert sessions.get(tokens[ada]) is not None
    assert "member1" not in others[0].get(DAY).text  # ended
    page = others[1].get(DAY)  # resolved in the request: rotated, as before
    assert "member2" in page.text and SESSION_COOKIE in page.headers["set-cookie"]


def test_a_session_forgotten_while_read_again_stays_forgotten() -> None:
    sessions = personal.SessionCache(seconds=0.01)
    member = User(1, "ada", None, None, "member", None, None, True, datetime(2026, 1, 1))
    for token in ("kept", "ended", "logged-out", "new"):
        sessions.put(token, member)
    time.sleep(0.02)
    stale = sessions.stale()
    assert set(stale) == {"kept", "ended", "logged-out", "new"}
    read_at = time.monotonic()
    sessions.forget("logged-out")  # a log-out while the store was read
    sessions.put("new", member)  # signed in again meanwhile: kept as that left it
    found = {"kept": member, "logged-out": member, "new": member}
    sessions.renew(stale, found, read_at)
    sessions.seconds = 60.0
    assert sessions.get("kept") == member and sessions.get("new") == member
    assert sessions.get("ended") is None and sessions.get("logged-out") is None


def test_a_corrected_templates_cut_moves_with_the_counts(client: TestClient, filled: Store) -> None:
    """A vote's count edits move a member template's cut (Plan.shifted) to exactly where
    cutting the corrected body again puts its slots and parts, correction after correction
    (views of the corrected body, none of an older one kept alive), for every paper of a
    day and of a paper's page (its line and its similar papers), with counts that change
    the text's width and counts that keep it (12 to 13: the slots do not move)."""
    (ada,) = add_members(filled, 1)
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    sign_in(client, filled, ada)
    pages = (DAY, f"{DAY}?sort=recent", f"/papers/{_papers(client)[0]}")
    for path in pages:
        client.get(path)
    cache = _cache(client)
    urls = {(path, query.encode()) for path, _, query in (url.partition("?") for url in pages)}
    templates = [e for k, e in cache._entries.items() if k[0].endswith("member") and k[2:] in urls]
    assert len(templates) == len(pages)
    for template in templates:
        body, plan = template.body, personal.Plan(template.body)
        assert template.paper_ids
        shown = sorted(template.paper_ids)
        # A member with marks on the page: the plan finds its boxes and cards before the
        # corrections, and follows them through each (the marks merged as merge() makes them).
        marks = (set(shown[:2]), set(shown[1:3]), {shown[-1]})
        for paper_id in shown:
            for upvotes in (0, 1, 10, 11, 1234, 1235, 2, 3):
                edits = personal.count_edits(body, paper_id, upvotes)
                assert edits, paper_id
                corrected = personal.apply_edits(body, edits)
                assert plan.fill_marked(b"tok", b"<nav>", *marks) is not None
                moved = plan.shifted(corrected, edits)
                again = personal.Plan(corrected)
                assert moved is not None and moved.slots == again.slots
                assert [bytes(p) for p in moved.parts] == [bytes(p) for p in again.parts]
                # Its parts are views of the corrected body alone: no copy, no older body.
                views = [p for p in moved.parts if isinstance(p, memoryview)]
                assert len(views) == len(moved.parts)
                assert {id(p.obj) for p in views} == {id(corrected)}
                assert moved.fill_marked(b"tok", b"<nav>", *marks) == again.fill_marked(
                    b"tok", b"<nav>", *marks
                )
                body, plan = corrected, moved


def test_count_boxes_found_once_follow_the_counts(client: TestClient, filled: Store) -> None:
    """The count boxes of a cached page's papers, each found once (CountBoxes) and moved
    along with the page's corrections, give count_edits the edits a search of the
    corrected body gives, correction after correction, for every paper of a day and of a
    paper's page (its line and its similar papers), each corrected twice in a row: the
    same index while the counts keep their widths, the boxes seen moved when they change."""
    (ada,) = add_members(filled, 1)
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    sign_in(client, filled, ada)
    pages = (DAY, f"/papers/{_papers(client)[0]}")
    for path in pages:
        client.get(path)
    cache = _cache(client)
    kept = {k: e for k, e in cache._entries.items() if k[0].endswith("member") and k[2] in pages}
    assert {k[2] for k in kept} == set(pages)
    for template in kept.values():
        body, boxes = template.body, personal.CountBoxes()
        assert template.paper_ids
        shown = sorted(template.paper_ids)
        for paper_id in [*shown, *shown]:  # the second time, each one's boxes were seen
            for upvotes in (0, 1, 10, 11, 1234, 1235, 2, 3):
                spelled = escape(paper_id).encode()
                searched = [m.start() for m in re.finditer(b'data-paper="' + spelled + b'"', body)]
                seen = boxes.seen.get(spelled)
                assert seen is None or list(seen) == searched  # followed, not searched for
                edits = personal.count_edits(body, paper_id, upvotes, boxes)
                assert list(boxes.seen[spelled]) == searched
                assert edits and edits == personal.count_edits(body, paper_id, upvotes)
                body = personal.apply_edits(body, edits)
                moved = boxes.shifted(body, edits)
                widths = all(len(new) == stop - start for start, stop, new in edits)
                assert (moved is boxes) == widths
                boxes = moved
        assert len(boxes.seen) == len(shown)


def _past_its_lifetime(cache: ResponseCache, key: CacheKey) -> CachedResponse:
    """The entry of ``key`` made older: past its lifetime, within the time it is served
    while rendered again (a ttl of 1 s: lifetimes of 0.75 to 1 s, then up to 1.5 x that)."""
    cache.ttl = 1.0
    entry = cache._entries[key]
    cache._entries[key] = replace(entry, created=time.monotonic() - 1.1)
    return cache._entries[key]


def test_a_day_no_vote_changed_is_kept_on_and_a_store_change_still_drops_it(
    client: TestClient, uncached: TestClient, filled: Store
) -> None:
    """Past its lifetime, a member's day that no vote changed is served on as it was (the
    page rendered for the member directly); after a vote on one of its papers, its list is
    read again: in the same order, it is kept on with its count corrected (again the page
    rendered directly), in another it is rendered again; a change of the store that is not
    a vote (a new paper of the day) drops it at once, kept on or not."""
    (ada,) = add_members(filled, 1)
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    token = sign_in(client, filled, ada)
    cache = _cache(client)
    cache.check_every = 0.0
    assert client.get(DAY).headers["x-cache"] == "miss"
    key = next(k for k in cache._entries if k[0].endswith("member") and k[2:] == (DAY, b""))
    old = _past_its_lifetime(cache, key)
    page = client.get(DAY)
    kept = cache._entries[key]
    assert page.headers["x-cache"] == "hit" and kept.rendered == old.created
    assert kept.body == old.body and kept.created > old.created and not cache._renewing
    assert page.text == _as(uncached, token).get(DAY).text
    # A vote on the first paper of the day (by upvotes: it stays first): past its
    # lifetime, its list is read again, found in the same order, and the page kept on.
    order = cache._entries[key].order
    assert order is not None and len(order.ids) > 1
    fields = {"csrf_token": csrf_of(client, DAY), "upvoted": "1", "next": "/"}
    client.post(f"/papers/{order.ids[0]}/upvote", data=fields, follow_redirects=False)
    checked = _past_its_lifetime(cache, key)
    assert client.get(DAY).headers["x-cache"] == "hit"  # served while checked
    _wait_for_renewal(cache, key, checked)
    assert cache._entries[key].rendered == old.created  # kept on, not rendered
    assert client.get(DAY).text == _as(uncached, token).get(DAY).text
    assert read_again(filled, order) == order.ids  # what the check read; not another order
    assert read_again(filled, replace(order, ids=order.ids[::-1])) != order.ids[::-1]
    # The anonymous page likewise, checked by the cache's own layer.
    client.cookies.clear()
    assert client.get(DAY).headers["x-cache"] == "miss"
    anonymous = next(k for k in cache._entries if k[0] == "http" and k[2:] == (DAY, b""))
    fields["upvoted"] = "0"  # taken back
    _as(client, token).post(f"/papers/{order.ids[0]}/upvote", data=fields, follow_redirects=False)
    checked = _past_its_lifetime(cache, anonymous)
    client.cookies.clear()
    assert client.get(DAY).headers["x-cache"] == "hit"  # served while checked
    _wait_for_renewal(cache, anonymous, checked)
    assert cache._entries[anonymous].rendered == checked.created  # kept on, not rendered
    uncached.cookies.clear()
    assert client.get(DAY).text == uncached.get(DAY).text
    _as(client, token)
    # Its list in another order (as read again): past its lifetime, it is rendered again.
    fields["upvoted"] = "1"  # upvoted again
    client.post(f"/papers/{order.ids[0]}/upvote", data=fields, follow_redirects=False)
    cache.recheck = lambda order: None  # other papers
    checked = _past_its_lifetime(cache, key)
    assert client.get(DAY).headers["x-cache"] == "hit"  # served while rendered again
    _wait_for_renewal(cache, key, checked)
    assert cache._entries[key].rendered < 0  # a new rendering
    assert client.get(DAY).text == _as(uncached, token).get(DAY).text
    # A new paper of the day (an ingest): the store's stamp drops the page at once.
    cache.ttl = 60.0
    _past_its_lifetime(cache, key)
    client.get(DAY)
    assert cache._entries[key].rendered >= 0  # kept on
    record = make_record("2606.99999", "A paper ingested since", first_listed_on=date(2026, 6, 12))
    with filled.write() as connection:
        upsert_papers(connection, [record])
    page = client.get(DAY, params={"sort": "recent"})
    assert page.headers["x-cache"] == "miss" and "A paper ingested since" in page.text
    assert client.get(DAY).headers["x-cache"] == "miss"


def test_a_day_whose_order_votes_changed_has_its_cards_put_in_order(
    client: TestClient, uncached: TestClient, filled: Store
) -> None:
    """Past its lifetime, a day whose list a vote reordered (the same papers) is not
    rendered again: its cards are put in the new order, each place keeping its rank, and
    the page is byte for byte the page rendered afresh, for a member (their template) and
    for anonymous readers."""
    (ada,) = add_members(filled, 1)
    client.app.state.engine.get()  # type: ignore[attr-defined]  # opened: its generation stays
    token = sign_in(client, filled, ada)
    cache = _cache(client)
    cache.check_every = 0.0
    assert client.get(DAY).headers["x-cache"] == "miss"
    member = next(k for k in cache._entries if k[0].endswith("member") and k[2:] == (DAY, b""))
    client.cookies.clear()
    assert client.get(DAY).headers["x-cache"] == "miss"
    anonymous = next(k for k in cache._entries if k[0] == "http" and k[2:] == (DAY, b""))
    order = cache._entries[member].order
    assert order is not None and len(order.ids) > 2
    counts = [int(n) for n in re.findall(r'class="count">(\d+)<', uncached.get(DAY).text)]
    # A paper whose one vote more takes it above the one before it (a tie: the order's
    # next keys put it below).
    moved = next(i for i in range(1, len(counts)) if counts[i] == counts[i - 1])
    _as(client, token)
    fields = {"csrf_token": csrf_of(client, DAY), "upvoted": "1", "next": "/"}
    voted = client.post(f"/papers/{order.ids[moved]}/upvote", data=fields, follow_redirects=False)
    assert voted.status_code == 303
    for key, cookies in ((member, True), (anonymous, False)):
        if not cookies:
            client.cookies.clear()
        checked = _past_its_lifetime(cache, key)
        assert client.get(DAY).headers["x-cache"] == "hit"  # served while checked
        _wait_for_renewal(cache, key, checked)
        kept = cache._entries[key]
        assert kept.rendered == checked.created and kept.order is not None  # not rendered
        assert kept.order.ids[moved - 1 : moved + 1] == order.ids[moved - 1 : moved + 1][::-1]
        direct = _as(uncached, token) if cookies else uncached
        if not cookies:
            uncached.cookies.clear()
        assert client.get(DAY).content == direct.get(DAY).content
        _as(client, token)


def _wait_for_renewal(cache: ResponseCache, key: CacheKey, expired: CachedResponse) -> None:
    """Until the entry of ``key``, ``expired`` past its lifetime, was kept on or replaced."""
    deadline = time.monotonic() + 30
    while cache._entries[key].created == expired.created and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache._entries[key].created != expired.created


def test_marks_merged_in_the_join_are_the_marks_of_the_replacing_merge(
    client: TestClient, filled: Store
) -> None:
    """personal.Plan.fill_marked (the member's boxes and cards looked up where the plan
    found them once, their edits made in the same join) gives the bytes merge() gives (a
    pass over the page), for upvoted, saved and hidden papers together, on a day and a
    paper's page, before and after a vote's count edits moved the plan."""
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    papers = _papers(client)
    pages = (DAY, f"/papers/{papers[0]}")
    for path in pages:
        client.get(path)
    cache = _cache(client)
    templates = {k[2]: e for k, e in cache._entries.items() if k[0].endswith("member")}
    marks = [
        (set(papers[:3]), set(), set()),
        (set(), set(papers[1:4]), set()),
        ({papers[0], papers[2]}, {papers[2], papers[5]}, {papers[0], papers[5], papers[7]}),
        (set(), set(), {papers[0]}),  # on its own page: the toggle flipped, the page kept
    ]
    for path in pages:
        body = templates[path].body
        plan = personal.Plan(body)
        for round_ in range(2):
            header = personal.member_nav("member0", "tok", path, 0).encode()
            for upvoted, saved, hidden in marks:
                expected = personal.merge(
                    body, username="member0", csrf_token="tok", path=path,
                    upvoted=upvoted, saved=saved, hidden=hidden,
                )  # fmt: skip
                if path == DAY:  # the marks show, as the page rendered for the member (above)
                    page = expected.decode()
                    assert _upvoted(page) == upvoted - hidden and _saved(page) == saved - hidden
                    assert not any(f'href="/papers/{paper}"' in page for paper in hidden)
                assert plan.fill_marked(b"tok", header, upvoted, saved, hidden) == expected
                merged = personal.merge_planned(plan, username="member0", header=header,
                                                csrf_token="tok", upvoted=upvoted, saved=saved,
                                                hidden=hidden)  # fmt: skip
                assert merged == expected, (path, round_)
            if round_ == 0:  # a vote on the first paper: its counts corrected, the plan moved
                edits = personal.count_edits(body, papers[0], 1234)
                body = personal.apply_edits(body, edits)
                moved = plan.shifted(body, edits)
                # The boxes and cards found before are followed, not found again.
                assert moved is not None and moved.places is plan.places and moved.moves
                plan = moved
