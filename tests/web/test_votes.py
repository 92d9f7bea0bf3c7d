"""Upvoting over HTTP: the cards' form without JavaScript (POST, 303 back to the card), the
same form as the script sends it (JSON back), the API with personal tokens, CSRF and scopes
enforced; every card and the paper page show the member's own upvote."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import unquote_plus, urlencode

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.users import update_user
from dailypapers.web import votes
from dailypapers.web.app import create_app
from dailypapers.web.personal import SessionCache
from dailypapers.web.routing import PrefixDispatch
from dailypapers.web.vote_front import VoteFront
from dailypapers.web.votes import FAILED_VOTE
from tests.support.forms import control_fields
from tests.support.layers import passing_fastapis_layers
from tests.support.members import add_members, api_token, sign_in

DAY = "/date/2026-06-12"


def _form(html: str, paper_id: str) -> dict[str, str]:
    """What ``paper_id``'s vote button posts: the page's member form and its state wanted."""
    return control_fields(html, paper_id, "upvote")


def _count(html: str, paper_id: str) -> int:
    start = html.index(f'formaction="/papers/{paper_id}/upvote"')
    return int(re.search(r'class="count">(\d+)<', html[start:])[1])  # type: ignore[index]


def _first_paper(html: str) -> str:
    return re.search(r'formaction="/papers/([^"]+)/upvote"', html)[1]  # type: ignore[index]


def test_anonymous_cards_show_counts_without_forms(client: TestClient) -> None:
    page = client.get(DAY).text
    assert 'class="votes"' in page and '/upvote"' not in page and "csrf_token" not in page


def test_vote_without_javascript_comes_back_to_the_card(client: TestClient, filled: Store) -> None:
    (member,) = add_members(filled, 1)
    sign_in(client, filled, member)
    page = client.get(DAY, params={"sort": "recent"}).text
    paper = _first_paper(page)
    before, fields = _count(page, paper), _form(page, paper)
    assert fields["upvoted"] == "1" and fields["next"] == f"{DAY}?sort=recent"
    card = f"{DAY}?sort=recent#t-{paper.replace('.', '-')}"
    assert f'id="t-{paper.replace(".", "-")}"' in page
    for _ in range(2):  # a double click: the same state asked twice
        answer = client.post(f"/papers/{paper}/upvote", data=fields, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == card  # the page, at the card
    page = client.get(DAY, params={"sort": "recent"}).text
    assert _count(page, paper) == before + 1
    assert _form(page, paper)["upvoted"] == "0"  # the card says "you upvoted"; again takes it back
    assert 'aria-pressed="true"' in page
    paper_page = client.get(f"/papers/{paper}").text
    assert f"{before + 1:,} upvotes, yours among them" in paper_page
    answer = client.post(f"/papers/{paper}/upvote", data=_form(page, paper),
                         headers={"Accept": "application/json"})  # fmt: skip
    assert answer.json() == {"paperId": paper, "upvotes": before, "upvoted": False}


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, filled: Store) -> None:
    (member,) = add_members(filled, 1)
    sign_in(client, filled, member)
    page = client.get(DAY).text
    paper = _first_paper(page)
    fields = {**_form(page, paper), "csrf_token": "forged"}
    answer = client.post(f"/papers/{paper}/upvote", data=fields, follow_redirects=False)
    assert answer.status_code == 403
    assert _count(client.get(DAY).text, paper) == _count(page, paper)


def test_the_api_takes_write_tokens_only(client: TestClient, filled: Store) -> None:
    (member,) = add_members(filled, 1)
    paper = client.get("/api/daily_papers", params={"date": "2026-06-12"}).json()[0]["paper"]
    url = f"/api/papers/{paper['id']}/upvote"
    write = {"Authorization": f"Bearer {api_token(filled, member, 'write')}"}
    read = {"Authorization": f"Bearer {api_token(filled, member, 'read')}"}
    assert client.post(url).status_code == 401
    assert client.post(url, headers=read).status_code == 403
    assert client.post(url, headers=write).json() == {
        "paperId": paper["id"], "upvotes": paper["upvotes"] + 1, "upvoted": True,
    }  # fmt: skip
    assert client.post(url, headers=write).json()["upvotes"] == paper["upvotes"] + 1
    shown = client.get(f"/api/papers/{paper['id']}").json()
    assert shown["upvotes"] == paper["upvotes"] + 1
    assert client.delete(url, headers=write).json()["upvotes"] == paper["upvotes"]
    assert client.post("/api/papers/2609.99999/upvote", headers=write).status_code == 404


def test_a_profile_lists_submitted_and_public_upvoted_papers(
    client: TestClient, filled: Store
) -> None:
    (member,) = add_members(filled, 1, prefix="shown")
    paper = client.get("/api/daily_papers", params={"date": "2026-06-12"}).json()[0]["paper"]
    write = {"Authorization": f"Bearer {api_token(filled, member, 'write')}"}
    client.post(f"/api/papers/{paper['id']}/upvote", headers=write)
    page = client.get("/users/shown0").text
    assert "Submitted papers" in page and "Upvoted papers" not in page  # private by default
    with filled.write() as connection:
        update_user(connection, member, {"upvotes_public": True})
    # (Another address: the anonymous page above is cached until papers or votes change.)
    page = client.get("/users/shown0", params={"after": "public"}).text
    assert "Upvoted papers" in page and f"/papers/{paper['id']}" in page


def test_votes_are_rate_limited_per_account(filled: Store) -> None:
    settings = get_settings().model_copy(update={"limit_vote": "account:3/1m"})
    (member,) = add_members(filled, 1, prefix="eager")
    write = {"Authorization": f"Bearer {api_token(filled, member, 'write')}"}
    with TestClient(create_app(filled, settings)) as client:
        items = client.get("/api/daily_papers", params={"date": "2026-06-12"}).json()
        answers = [
            client.post(f"/api/papers/{item['paper']['id']}/upvote", headers=write)
            for item in items[:4]
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) > 0


def _vote_cases(page: str, paper: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    """Vote requests: (name, path, headers, body), the form as the cards send it first, then
    ones the direct answer leaves to the router, then errors."""
    fields = _form(page, paper)
    token = fields["csrf_token"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    as_json = {**form, "Accept": "application/json"}

    def body(**changed: str) -> bytes:
        return urlencode({**fields, **changed}).encode()

    path = f"/papers/{paper}/upvote"
    others = {name: value for name, value in fields.items() if name != "next"}
    next_last = urlencode({**others, "next": fields["next"]}).encode()
    return [
        ("form", path, form, body()),
        ("json", path, as_json, body()),
        ("take back", path, as_json, body(upvoted="0")),
        ("next off site", path, form, body(upvoted="1", next="//evil.example/x")),
        ("next quoted", path, form, body(next="/date/2026-06-12?sort=recent&p=0#t-x y")),
        ("fields reordered", path, as_json, urlencode(dict(reversed(fields.items()))).encode()),
        ("forged", path, form, body(csrf_token="forged")),
        ("no token", path, form, urlencode({"upvoted": "1", "next": "/"}).encode()),
        ("bad state", path, form, body(upvoted="2")),
        ("empty state", path, form, body(upvoted="")),
        ("no next", path, as_json, urlencode({"csrf_token": token, "upvoted": "1"}).encode()),
        ("long next", path, form, body(next="/" + "x" * 2000)),
        ("repeated", path, as_json, body() + b"&upvoted=0"),
        ("semicolon", path, as_json, next_last + b";x=1"),  # "next" takes the ";x=1"
        ("charset", path, {"Content-Type": f"{form['Content-Type']}; charset=utf-8"}, body()),
        ("header token", path, {**as_json, "X-CSRF-Token": fields["csrf_token"]}, b""),
        ("unknown paper", "/papers/9999.99999/upvote", as_json, body()),
        ("unknown paper form", "/papers/9999.99999/upvote", form, body()),
        ("not urlencoded", path, {"Content-Type": "text/plain"}, body()),
    ]  # fmt: skip


def _answer(client: TestClient, path: str, headers: dict[str, str], body: bytes) -> Response:
    return client.post(path, headers=headers, content=body, follow_redirects=False)


def _same(direct: Response, routed: Response, name: str) -> None:
    assert direct.status_code == routed.status_code, name
    assert direct.content == routed.content, name
    assert direct.headers == routed.headers, name


def test_the_vote_form_answered_directly_answers_as_the_route(filled: Store) -> None:
    """The vote form's direct answer (``votes.FORMS``, without FastAPI's router) and the
    route's answer the same, byte for byte, to the form as sent and to anything else (which
    the direct answer hands to the router), and count the same votes."""
    settings = get_settings().model_copy(update={"page_cache_mb": 0, "limit_vote": "account:40/1m"})
    (member, other) = add_members(filled, 2, prefix="direct")
    app = create_app(filled, settings)
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch) and dispatch.forms
    with TestClient(app) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text
        paper = _first_paper(page)
        before = _count(page, paper)
        forms = dispatch.forms
        for name, path, headers, body in _vote_cases(page, paper):
            # Each request twice, directly then through the router: each asks for a state,
            # so the second finds what the first left and answers the same.
            dispatch.forms = forms
            direct = _answer(client, path, headers, body)
            dispatch.forms = {}
            routed = _answer(client, path, headers, body)
            _same(direct, routed, name)
        dispatch.forms = forms
        answers = {name: _answer(client, path, headers, body)
                   for name, path, headers, body in _vote_cases(page, paper)}  # fmt: skip
        # Without the router's routes for /papers/: the form as sent is answered all the same
        # (directly), the others find no route.
        assert dispatch.groups is not None
        dispatch.groups = {**dispatch.groups, "papers": Router(routes=[])}
        alone = {name: _answer(client, path, headers, body)
                 for name, path, headers, body in _vote_cases(page, paper)}  # fmt: skip
        dispatch.groups = None  # built again
        sign_in(client, filled, other)  # another session: the first one's token is refused
        stale = _answer(client, *_vote_cases(page, paper)[0][1:])
    assert answers["form"].status_code == 303 and answers["form"].headers["location"].startswith(
        DAY
    )
    assert answers["json"].json() == {"paperId": paper, "upvotes": before + 1, "upvoted": True}
    assert answers["next off site"].headers["location"] == f"/papers/{paper}"
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses["forged"] == statuses["no token"] == statuses["not urlencoded"] == 403
    assert statuses["header token"] == statuses["semicolon"] == 200 and statuses["charset"] == 303
    assert statuses["bad state"] == statuses["long next"] == 422
    assert statuses["unknown paper"] == statuses["unknown paper form"] == 404
    assert stale.status_code == 403
    directly = {"form", "json", "take back", "next off site", "next quoted", "fields reordered",
              "forged", "unknown paper", "unknown paper form"}  # fmt: skip
    no_route = alone["bad state"]
    assert no_route.status_code == 404
    answered = {name for name, answer in alone.items() if answer.content != no_route.content}
    assert answered == directly
    # The last vote that counted asked for the upvote (the form's empty "upvoted" is "1").
    assert _count(client.get(DAY, params={"sort": "recent"}).text, paper) == before + 1


def test_the_direct_vote_keeps_the_rate_limit(filled: Store) -> None:
    settings = get_settings().model_copy(update={"limit_vote": "account:2/1m"})
    (member,) = add_members(filled, 1, prefix="limited")
    with TestClient(create_app(filled, settings)) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text
        papers = re.findall(r'formaction="/papers/([^"]+)/upvote"', page)[:3]
        answers = [_vote_json(client, page, paper) for paper in papers]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) > 0


def test_a_vote_waits_in_a_thread_while_another_writer_holds_the_lock(filled: Store) -> None:
    """A vote that cannot write at once (another writer holds SQLite's lock) is written in
    a thread, waiting for the lock as every write does, and counts its limit there: the
    answers are those of votes written at once."""
    if not filled.is_sqlite:
        pytest.skip("only SQLite's votes are written at once")
    settings = get_settings().model_copy(update={"limit_vote": "account:2/1m"})
    (member,) = add_members(filled, 1, prefix="busy")
    released = threading.Event()

    def hold_the_lock(held: threading.Event) -> None:
        with filled.write():
            held.set()
            released.wait(10)

    with TestClient(create_app(filled, settings)) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text
        papers = re.findall(r'formaction="/papers/([^"]+)/upvote"', page)[:3]
        before = _count(page, papers[0])
        held = threading.Event()
        holder = threading.Thread(target=hold_the_lock, args=(held,))
        holder.start()
        held.wait(10)
        threading.Timer(0.3, released.set).start()  # the first vote waits for it meanwhile
        started = time.monotonic()
        first = _vote_json(client, page, papers[0])
        waited = time.monotonic() - started
        answers = [first] + [_vote_json(client, page, paper) for paper in papers[1:]]
        holder.join()
    assert waited >= 0.25  # it waited for the lock (in a thread: the loop answered meanwhile)
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0].json() == {"paperId": papers[0], "upvotes": before + 1, "upvoted": True}


def _vote_json(client: TestClient, page: str, paper: str) -> Response:
    """The vote form of ``paper`` on ``page``, as ``upvote.js`` sends it."""
    headers = {"Accept": "application/json"}
    return client.post(f"/papers/{paper}/upvote", data=_form(page, paper), headers=headers)


class _Front:
    """What :class:`~dailypapers.web.vote_front.VoteFront` did with each vote: answered it
    itself, handed a failed vote of its own on (``handed``), or let it through untouched
    (``passed``); ``on`` False lets every request through, as if it were not there."""

    def __init__(self) -> None:
        self.on = True
        self.answered: list[str] = []
        self.handed: list[str] = []
        self.passed: list[str] = []


@pytest.fixture
def front(monkeypatch: pytest.MonkeyPatch) -> _Front:
    seen = _Front()
    vote = VoteFront._vote

    async def watched(
        self: VoteFront, paper_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        inner, went_on = self.app, []

        async def going_on(scope: Scope, receive: Receive, send: Send) -> None:
            went_on.append(FAILED_VOTE in scope)
            await inner(scope, receive, send)

        if not seen.on:
            await inner(scope, receive, send)
            return
        self.app = going_on
        try:
            await vote(self, paper_id, scope, receive, send)
        finally:
            self.app = inner
        kind = seen.passed if went_on and not went_on[0] else seen.handed if went_on else None
        (seen.answered if kind is None else kind).append(scope["path"])

    monkeypatch.setattr(VoteFront, "_vote", watched)
    return seen


def _same_bytes(fronted: Response, layered: Response, name: str) -> None:
    """The same status, headers (names, values, order) and body."""
    assert fronted.status_code == layered.status_code, name
    assert fronted.headers.raw == layered.headers.raw, name
    assert fronted.content == layered.content, name


def _both(
    client: TestClient, front: _Front, path: str, headers: dict[str, str], body: bytes
) -> tuple[Response, Response]:
    """The request answered with the front, then without it (the layers alone)."""
    front.on = True
    fronted = _answer(client, path, headers, body)
    front.on = False
    layered = _answer(client, path, headers, body)
    front.on = True
    return fronted, layered


def test_the_vote_front_answers_as_the_layers_inside(filled: Store, front: _Front) -> None:
    """The vote made and answered in front of the layers (web/vote_front.py) and the same
    request through them answer the same, byte for byte, and count the same votes: the
    JSON form answered in front, a failed vote of the front answered by the layers (an
    unknown paper: 404), everything else let through to them before anything is done."""
    settings = get_settings().model_copy(update={"limit_vote": "account:40/1m"})
    (member,) = add_members(filled, 1, prefix="fronted")
    with TestClient(create_app(filled, settings)) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text  # the session now kept
        paper = _first_paper(page)
        before = _count(page, paper)
        fields = _form(page, paper)
        as_json = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "text/html, application/json"}  # fmt: skip
        path, body = f"/papers/{paper}/upvote", urlencode(fields).encode()
        cases = [
            *_vote_cases(page, paper),
            ("json forged", path, as_json, urlencode({**fields, "csrf_token": "x"}).encode()),
            ("json bad host", path, {**as_json, "Host": "a/b"}, body),
            ("json bearer", path, {**as_json, "Authorization": "Bearer x"}, body),
            (
                "json token not ascii",
                path,
                as_json,
                body.replace(b"csrf_token=", b"csrf_token=%C3%A9"),
            ),
            ("json again", path, as_json, body),
        ]
        statuses = {}
        for name, target, headers, sent in cases:
            fronted, layered = _both(client, front, target, headers, sent)
            _same_bytes(fronted, layered, name)
            statuses[name] = fronted.status_code
        sessions: SessionCache = client.app.state.sessions  # type: ignore[attr-defined]
        sessions.forget(client.cookies["dailypapers_session"], member)
        _same_bytes(*_both(client, front, path, as_json, body), "session not kept")
        after = _count(client.get(DAY, params={"sort": "recent"}).text, paper)
    assert after == before + 1
    assert statuses["json"] == statuses["json again"] == 200
    assert statuses["json forged"] == 403 and statuses["json bad host"] == 400
    assert statuses["json bearer"] == 401 and statuses["unknown paper"] == 404
    assert statuses["json token not ascii"] == 403  # not a 500: hmac cannot compare it
    # The JSON form: "json", "take back", "fields reordered", "json again".
    assert front.answered == [path] * 4
    assert front.handed == ["/papers/9999.99999/upvote"]  # the unknown paper's vote
    # The rest before anything was done, and the session not kept (kept by the layers).
    assert len(front.passed) == len(cases) - 4 - 1 + 1


def test_a_failed_vote_of_the_front_is_answered_by_the_layers(
    filled: Store, front: _Front, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vote the front made that failed (the rate limit, an error of the store) is answered
    as the layers answer it: 429 with Retry-After, the 500 page; it is not made again."""
    settings = get_settings().model_copy(update={"limit_vote": "account:2/1m"})
    (member,) = add_members(filled, 1, prefix="refused")
    with TestClient(create_app(filled, settings)) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text
        papers = re.findall(r'formaction="/papers/([^"]+)/upvote"', page)[:3]
        answers = [_vote_json(client, page, paper) for paper in papers[:2]]
        fronted, layered = _both(
            client, front, f"/papers/{papers[2]}/upvote",
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            urlencode(_form(page, papers[2])).encode(),
        )  # fmt: skip
        calls: list[str] = []

        def failing(store: Store, user_id: int, paper_id: str, *args: object, **kw: object) -> None:
            calls.append(paper_id)
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(votes, "set_upvote", failing)
        settings_free = get_settings().model_copy(update={"limit_vote": "account:40/1m"})
        with TestClient(create_app(filled, settings_free)) as free:
            sign_in(free, filled, member)
            page = free.get(DAY, params={"sort": "recent"}).text
            broken = _both(
                free, front, f"/papers/{papers[0]}/upvote",
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                urlencode(_form(page, papers[0])).encode(),
            )  # fmt: skip
    assert [answer.status_code for answer in answers] == [200, 200]
    assert fronted.status_code == layered.status_code == 429
    assert fronted.headers["retry-after"] and layered.headers["retry-after"]
    raw = [(k, v) for k, v in fronted.headers.raw if k.lower() != b"retry-after"]
    assert raw == [(k, v) for k, v in layered.headers.raw if k.lower() != b"retry-after"]
    assert fronted.content == layered.content
    assert broken[0].status_code == 500
    _same_bytes(*broken, "store error")
    assert calls == [papers[0], papers[0]]  # once each: the front's, the layers' own
    assert front.handed == [f"/papers/{papers[2]}/upvote", f"/papers/{papers[0]}/upvote"]


def test_the_vote_front_answers_outside_fastapis_layers(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON vote is answered before FastAPI's own layers (web/outer.py: its telemetry
    check, error page and body limit); the pages still pass them."""
    passed = passing_fastapis_layers(monkeypatch)
    (member,) = add_members(filled, 1, prefix="outside")
    with TestClient(create_app(filled, get_settings())) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text  # the session now kept
        paper = _first_paper(page)
        answer = _vote_json(client, page, paper)
    assert answer.status_code == 200 and answer.json()["upvoted"] is True
    assert DAY in passed and f"/papers/{paper}/upvote" not in passed


@pytest.mark.parametrize(
    "raw", ["%2Fdate%2F2026-06-12", "/a+b", "%C3%A9t%C3%A9", "%E2%82", "%zz%2", "%FF+%", "x"]
)
def test_the_direct_form_decodes_its_fields_as_unquote_plus(raw: str) -> None:
    """Form values as ``unquote_plus`` (Starlette's reading) decodes them, invalid UTF-8
    and stray percent signs included."""
    fields = votes.form_fields(f"csrf_token=t&upvoted=1&next={raw}".encode())
    assert fields is not None and fields["next"] == unquote_plus(raw)


def test_the_vote_front_leaves_several_cookie_headers_to_the_layers(
    filled: Store, front: _Front
) -> None:
    """Starlette merges every Cookie header; the front reads one, so a vote with several is
    let through to the layers (which make it, as they read the cookies)."""
    (member,) = add_members(filled, 1, prefix="cookies")
    with TestClient(create_app(filled, get_settings())) as client:
        sign_in(client, filled, member)
        page = client.get(DAY, params={"sort": "recent"}).text  # the session now kept
        paper = _first_paper(page)
        token = client.cookies["dailypapers_session"]
        client.cookies.clear()
        headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
            ("cookie", f"dailypapers_session={token}"),
            ("cookie", "theme=dark"),
        ]
        body = urlencode(_form(page, paper)).encode()
        answer = client.post(f"/papers/{paper}/upvote", headers=headers, content=body)
    assert answer.status_code == 200 and answer.json()["upvoted"] is True
    assert front.passed == [f"/papers/{paper}/upvote"] and front.answered == []
