"""Upvoting over HTTP: the cards' form without JavaScript (POST, 303 back to the card), the
same form as the script sends it (JSON back), the API with personal tokens, CSRF and scopes
enforced; every card and the paper page show the member's own upvote."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.users import update_user
from dailypapers.web.app import create_app
from tests.support.members import add_members, api_token, sign_in

DAY = "/date/2026-06-12"


def _form(html: str, paper_id: str) -> dict[str, str]:
    """The hidden fields of ``paper_id``'s vote form on a page."""
    action = f'action="/papers/{paper_id}/upvote"'
    start = html.index(action)
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))


def _count(html: str, paper_id: str) -> int:
    start = html.index(f'action="/papers/{paper_id}/upvote"')
    return int(re.search(r'class="count">(\d+)<', html[start:])[1])  # type: ignore[index]


def _first_paper(html: str) -> str:
    return re.search(r'action="/papers/([^"]+)/upvote"', html)[1]  # type: ignore[index]


def test_anonymous_cards_show_counts_without_forms(client: TestClient) -> None:
    page = client.get(DAY).text
    assert 'class="votes"' in page and '/upvote"' not in page and "csrf_token" not in page


def test_vote_without_javascript_comes_back_to_the_card(client: TestClient, filled: Store) -> None:
    (member,) = add_members(filled, 1)
    sign_in(client, filled, member)
    page = client.get(DAY, params={"sort": "recent"}).text
    paper = _first_paper(page)
    before, fields = _count(page, paper), _form(page, paper)
    assert fields["upvoted"] == "1" and fields["next"].startswith(f"{DAY}?sort=recent#t-")
    for _ in range(2):  # a double click: the same state asked twice
        answer = client.post(f"/papers/{paper}/upvote", data=fields, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == fields["next"]
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
