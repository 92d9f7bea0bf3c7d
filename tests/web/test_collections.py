"""Collections and "not interested" over HTTP (in process, real store): the cards' forms
without JavaScript (303 back to the card) and as a script sends them (JSON), the pages
(public for all, private 404 to others), exports and the import form, the Atom feed read by
feedparser, the API with read and write tokens (4xx JSON with a message on bad input), and
the settings' list of hidden papers with its undo."""

from __future__ import annotations

import json
import re

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.discussion import collections as service
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web import collections as web_collections
from dailypapers.web.app import create_app
from dailypapers.web.auth import SESSION_COOKIE
from tests.support.accounts import bearer, cookie_domain, csrf_of
from tests.support.forms import button_of, page_form_fields
from tests.support.members import add_members, api_token, sign_in

DAY = "/date/2026-06-12"


def _papers(client: TestClient) -> list[str]:
    return re.findall(
        r'<h2 class="title" id="[^"]+"><a href="/papers/([^"]+)">', client.get(DAY).text
    )


def _anonymous(client: TestClient) -> TestClient:
    return TestClient(client.app)


def test_cards_carry_the_controls_for_members_only(client: TestClient, filled: Store) -> None:
    paper = _papers(client)[0]
    anonymous = client.get(DAY).text
    assert "/save" not in anonymous and "not-interested" not in anonymous
    paper_page = client.get(f"/papers/{paper}").text
    assert f'<a href="/login?next=/papers/{paper}">Log in</a> to save it' in paper_page
    assert "csrf_token" not in paper_page
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    page = client.get(DAY).text
    assert 'name="saved" value="1"' in button_of(page, paper, "save")
    assert button_of(page, paper, "not-interested").startswith('<button class="hide" form="m"')
    # The cards' controls carry no token and no way back: the page's one form does.
    cards = re.findall(r"<article class=\"card\".*?</article>", page, re.S)
    assert cards and not any("csrf_token" in card or 'name="next"' in card for card in cards)
    assert set(page_form_fields(page)) == {"csrf_token", "next"}
    member_paper = client.get(f"/papers/{paper}").text
    assert f'<a href="/collections/add?paper={paper}">Collections…</a>' in member_paper
    reading = service.create_collection(filled, ada, "Later, maybe")
    choose = client.get(f"/collections/add?paper={paper}").text
    assert f'action="/collections/{reading.id}/items"' in choose
    back = f"/collections/add?paper={paper}"
    done = client.post(
        f"/collections/{reading.id}/items",
        data={"csrf_token": csrf_of(client), "paper": paper, "next": back},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, back)
    assert f'action="/collections/{reading.id}/items/remove"' in client.get(back).text


def test_save_without_and_with_javascript(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    first, second = _papers(client)[:2]
    csrf = csrf_of(client)
    back = f"{DAY}#t-{first.replace('.', '-')}"
    done = client.post(
        f"/papers/{first}/save",
        data={"csrf_token": csrf, "saved": "1", "next": back},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, back)
    scripted = client.post(
        f"/papers/{second}/save",
        data={"saved": "1"},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert scripted.json() == {"paperId": second, "saved": True}
    (reading,) = service.collections_of(filled, ada)
    assert [i.paper_id for i in service.items_of(filled, reading.id)] == [first, second]
    client.post(f"/papers/{first}/save", data={"csrf_token": csrf, "saved": "0"})
    assert service.saved_ids(filled, ada) == {second}
    refused = client.post(f"/papers/{first}/save", data={"saved": "1"})
    assert refused.status_code == 403  # no CSRF token
    bad = client.post(
        "/papers/2101.99999/save", data={"csrf_token": csrf}, headers={"Accept": "text/html"}
    )
    assert bad.status_code == 404 and "No paper 2101.99999 on this site" in bad.text


def test_not_interested_hides_cards_until_undone_in_settings(
    indexed_client: TestClient, filled: Store
) -> None:
    client = indexed_client
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    paper = _papers(client)[0]
    title = re.search(rf'href="/papers/{re.escape(paper)}">([^<]+)<', client.get(DAY).text)
    assert title is not None
    query = "/search?q=" + title.group(1).replace(" ", "+")
    pages = (DAY, "/trending?window=month", query)
    assert all(f'href="/papers/{paper}"' in client.get(p).text for p in pages)
    csrf = csrf_of(client)
    done = client.post(
        f"/papers/{paper}/not-interested",
        data={"csrf_token": csrf, "hidden": "1", "next": DAY},
        follow_redirects=False,
    )
    card = f"{DAY}#t-{paper.replace('.', '-')}"  # the page at the card (gone now)
    assert (done.status_code, done.headers["location"]) == (303, card)
    for path in pages:
        assert f'href="/papers/{paper}"' not in client.get(path).text, path
    assert f'href="/papers/{paper}"' in _anonymous(client).get(DAY).text
    settings = client.get("/settings").text
    assert f'action="/papers/{paper}/not-interested"' in settings
    client.post(f"/papers/{paper}/not-interested", data={"csrf_token": csrf, "hidden": "0"})
    assert f'href="/papers/{paper}"' in client.get(DAY).text
    assert "None: " in client.get("/settings").text


def _toggle(page: str, paper: str) -> str:
    """The paper page's "Not interested" button."""
    button = button_of(page, paper, "not-interested")
    assert button.startswith('<button class="hide-toggle')
    return button


def test_the_paper_page_hides_and_undoes_without_and_with_javascript(
    client: TestClient, filled: Store
) -> None:
    paper = _papers(client)[0]
    path = f"/papers/{paper}"
    assert "hide-toggle" not in _anonymous(client).get(path).text
    (ada,) = add_members(filled, 1, prefix="toggle")
    token = sign_in(client, filled, ada)
    settings = get_settings().model_copy(update={"page_cache_mb": 0})

    def direct() -> str:  # rendered for her (no cache; an app of its own knows her marks now)
        uncached = TestClient(create_app(filled, settings))
        uncached.cookies.set(SESSION_COOKIE, token, domain=cookie_domain(uncached))
        return uncached.get(path).text

    box = _toggle(client.get(path).text, paper)
    assert 'name="hidden" value="1"' in box and 'aria-pressed="false"' in box
    assert ">Not interested</button>" in box
    csrf = csrf_of(client)
    done = client.post(
        f"{path}/not-interested",
        data={"csrf_token": csrf, "hidden": "1", "next": f"{path}#hiding"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{path}#hiding")
    merged = client.get(path)  # her merge of the member template
    assert merged.headers["x-cache"] in {"hit", "miss"} and merged.text == direct()
    box = _toggle(merged.text, paper)
    assert 'name="hidden" value="0"' in box and 'aria-pressed="true"' in box
    assert "Undo “Not interested”</button>" in box and 'class="hide-toggle marked"' in box
    assert f'href="/papers/{paper}"' not in client.get(DAY).text  # gone from her lists
    scripted = client.post(
        f"{path}/not-interested",
        data={"hidden": "0"},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert scripted.json() == {"paperId": paper, "hidden": False}
    again = client.get(path).text
    assert 'name="hidden" value="1"' in _toggle(again, paper) and again == direct()
    assert f'href="/papers/{paper}"' in client.get(DAY).text


def test_collection_pages_public_private_and_managed(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2)
    papers = _papers(client)[:3]
    sign_in(client, filled, ada)
    csrf = csrf_of(client)
    made = client.post("/collections", data={"csrf_token": csrf, "name": "Reading group"})
    assert made.url.path == "/users/member0/collections/reading-group"
    (group,) = service.collections_of(filled, ada)
    for paper in papers:
        client.post(f"/collections/{group.id}/items", data={"csrf_token": csrf, "paper": paper})
    client.post(f"/collections/{group.id}/items/move",
                data={"csrf_token": csrf, "paper": papers[2], "position": "1"})  # fmt: skip
    note = {"csrf_token": csrf, "paper": papers[0], "note": "the <b>baseline</b>"}
    client.post(f"/collections/{group.id}/items/note", data=note)
    page = client.get(made.url.path).text
    assert page.index(papers[2]) < page.index(papers[0]) < page.index(papers[1])
    assert 'value="the &lt;b&gt;baseline&lt;/b&gt;"' in page
    anonymous, other = _anonymous(client), _anonymous(client)
    sign_in(other, filled, bob)
    assert anonymous.get(made.url.path).status_code == 404  # private
    assert other.get(made.url.path + ".json").status_code == 404
    assert "Reading group" in client.get("/collections").text
    client.post(f"/collections/{group.id}/edit",
                data={"csrf_token": csrf, "name": "Group", "public": "1"})  # fmt: skip
    public = anonymous.get("/users/member0/collections/group")
    assert public.status_code == 200 and "the &lt;b&gt;baseline&lt;/b&gt;" in public.text
    assert "csrf_token" not in public.text
    assert anonymous.get(made.url.path).status_code == 404  # renamed: the old address is gone
    assert 'href="/users/member0/collections/group"' in anonymous.get("/users/member0").text
    client.post(f"/collections/{group.id}/delete", data={"csrf_token": csrf})
    assert anonymous.get("/users/member0/collections/group").status_code == 404


def test_exports_import_form_and_feed(client: TestClient, filled: Store) -> None:
    (ada,) = add_members(filled, 1)
    papers = _papers(client)[:5]
    source = service.create_collection(filled, ada, "Source", public=True)
    for paper in reversed(papers):
        service.add_paper(filled, ada, paper, source.id)
    path = "/users/member0/collections/source"
    anonymous = _anonymous(client)
    bib = anonymous.get(path + ".bib")
    assert bib.headers["content-disposition"] == 'attachment; filename="member0-source.bib"'
    assert re.findall(r"eprint=\{([^}]+)\}", bib.text) == papers[::-1]
    rows = anonymous.get(path + ".csv").text.splitlines()
    assert rows[0] == "position,arxiv_id,title,authors,added_at,note,url" and len(rows) == 6
    data = anonymous.get(path + ".json").json()
    assert [i["paperId"] for i in data["items"]] == papers[::-1]
    feed = feedparser.parse(anonymous.get(path + ".atom").content)
    assert not feed.bozo and len(feed.entries) == 5
    assert feed.feed.title == "dailypapers: Source by member0"
    sign_in(client, filled, ada)
    csrf = csrf_of(client)
    target = service.create_collection(filled, ada, "Target")
    done = client.post(
        f"/collections/{target.id}/import",
        data={"csrf_token": csrf},
        files={"file": ("list.bib", bib.content, "application/x-bibtex")},
    )
    assert done.status_code == 200 and "Imported: 5 added" in done.text
    assert [i.paper_id for i in service.items_of(filled, target.id)] == papers[::-1]
    again = client.post(
        f"/collections/{target.id}/import", data={"csrf_token": csrf, "text": "nonsense"}
    )
    assert "Not arXiv ids: nonsense" in again.text
    service.update_collection(filled, ada, source.id, public=False)
    assert anonymous.get(path + ".atom").status_code == 404


def test_api_with_tokens(client: TestClient, filled: Store) -> None:
    ada, bob = add_members(filled, 2)
    papers = _papers(client)[:3]
    read, write = bearer(api_token(filled, ada, "read")), bearer(api_token(filled, ada, "write"))
    bob_write = bearer(api_token(filled, bob, "write"))
    anonymous = _anonymous(client)
    made = anonymous.post("/api/collections", json={"name": "x"}, headers=write)
    assert made.status_code == 201 and made.json()["public"] is False
    number = made.json()["id"]
    assert anonymous.post("/api/collections", json={"name": "y"}, headers=read).status_code == 403
    assert anonymous.post("/api/collections", json={"name": "y"}).status_code == 401
    for paper in papers:
        added = anonymous.post(f"/api/collections/{number}/items/{paper}", headers=write)
        assert added.status_code == 201
    noted = anonymous.post(
        f"/api/collections/{number}/items/{papers[0]}", json={"note": "first"}, headers=write
    )
    assert noted.status_code == 200 and noted.json()["items"][0]["note"] == "first"
    order = [papers[2], papers[0], papers[1]]
    changed = anonymous.patch(
        f"/api/collections/{number}", json={"order": order, "name": "Renamed"}, headers=write
    )
    assert [i["paperId"] for i in changed.json()["items"]] == order
    assert changed.json()["url"].endswith("/users/member0/collections/renamed")
    assert anonymous.get(f"/api/collections/{number}", headers=read).status_code == 200
    assert [c["name"] for c in anonymous.get("/api/collections", headers=read).json()] == [
        "Renamed"
    ]
    assert anonymous.get(f"/api/collections/{number}").status_code == 404  # private
    assert anonymous.get(f"/api/collections/{number}", headers=bob_write).status_code == 404
    anonymous.patch(f"/api/collections/{number}", json={"public": True}, headers=write)
    public = anonymous.get(f"/api/collections/{number}")
    assert public.json()["size"] == 3 and public.headers["x-cache"] == "miss"
    assert anonymous.get(f"/api/collections/{number}").headers["x-cache"] == "miss"
    removed = anonymous.delete(f"/api/collections/{number}/items/{papers[0]}", headers=write)
    assert [i["paperId"] for i in removed.json()["items"]] == [papers[2], papers[1]]
    imported = anonymous.post(
        f"/api/collections/{number}/import", json={"text": f"{papers[0]} junk"}, headers=write
    )
    assert imported.json()["added"] == [papers[0]] and imported.json()["invalid"] == ["junk"]
    deleted = anonymous.delete(f"/api/collections/{number}", headers=bob_write)
    assert deleted.status_code == 404
    assert anonymous.delete(f"/api/collections/{number}", headers=write).status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("post", "/api/collections", {"name": " "}, 422, "needs a name"),
        ("post", "/api/collections", {"nom": "x"}, 422, "name"),
        ("post", "/api/collections/{id}/items/2101.99999", None, 404, "no paper 2101.99999"),
        ("post", "/api/collections/{id}/items/junk", None, 422, "not an arXiv id"),
        ("patch", "/api/collections/{id}", {"order": ["2101.99999"]}, 422, "every paper"),
        ("get", "/api/collections/{id}?sort=random", None, 400, "sort by one of"),
        ("get", "/api/collections/999999", None, 404, "no such collection"),
        ("post", "/api/collections/{id}/import", {"text": "{"}, 400, "cannot be read"),
        ("delete", "/api/collections/{id}/items/2101.99999", None, 404, "not in this"),
    ],
)
def test_api_bad_input_is_4xx_json_with_a_message(
    client: TestClient, filled: Store, method: str, path: str, body: object, status: int,
    message: str,
) -> None:  # fmt: skip
    (ada,) = add_members(filled, 1)
    write = bearer(api_token(filled, ada, "write"))
    mine = service.create_collection(filled, ada, "Mine")
    url = path.replace("{id}", str(mine.id))
    kwargs: dict[str, object] = {"headers": write}
    if body is not None:
        kwargs["content"] = json.dumps(body)
        kwargs["headers"] = {**write, "Content-Type": "application/json"}
    answer = client.request(method.upper(), url, **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == status, answer.text
    assert message in answer.json()["message"]


def test_changes_are_rate_limited(
    client: TestClient, filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_collections, "WRITES_PER_MINUTE", 3)
    (ada,) = add_members(filled, 1)
    write = bearer(api_token(filled, ada, "write"))
    for name in "abc":
        assert (
            client.post("/api/collections", json={"name": name}, headers=write).status_code == 201
        )
    refused = client.post("/api/collections", json={"name": "d"}, headers=write)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert [c.name for c in service.collections_of(filled, ada)] == ["a", "b", "c"]
