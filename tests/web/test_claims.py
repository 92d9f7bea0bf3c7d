"""Claiming authorship through the site, and the moderators' queue."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.community import claims
from dailypapers.store import Store
from dailypapers.store.schema import authors, paper_authors
from tests.support.accounts import csrf_of, make_user, sign_in


def a_paper_and_author(store: Store) -> tuple[str, str]:
    query = (
        select(paper_authors.c.paper_id, authors.c.name)
        .join(authors, authors.c.id == paper_authors.c.author_id)
        .order_by(paper_authors.c.paper_id, paper_authors.c.position)
        .limit(1)
    )
    with store.read() as connection:
        paper_id, name = connection.execute(query).one()
    return str(paper_id), str(name)


def test_claim_then_a_moderator_approves_from_the_queue(client: TestClient, filled: Store) -> None:
    paper_id, name = a_paper_and_author(filled)
    ada = make_user(filled, "ada")
    visitor = TestClient(client.app)
    # The paper's page is in the cache before the decision (once the search engine is open).
    seen = [visitor.get(f"/papers/{paper_id}").headers["x-cache"] for _ in range(20)]
    assert seen[-1] == "hit", seen
    sign_in(client, filled, ada)
    filed = client.post(
        f"/papers/{paper_id}/claims",
        data={"author": name, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert filed.status_code == 303
    assert "Your claim went to the moderators" in client.get(filed.headers["location"]).text
    assert client.get("/moderation/claims").status_code == 403  # not a moderator
    client.cookies.clear()
    sign_in(client, filled, make_user(filled, "mod", role="moderator"))
    queue = client.get("/moderation/claims")
    assert queue.status_code == 200 and name in queue.text
    claim_id = claims.pending_claims(filled)[0].id
    decided = client.post(
        f"/moderation/claims/{claim_id}",
        data={"decision": "approve", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert claims.is_approved_author(filled, ada, paper_id)
    # At once, not at the cache's next look at the store: the decision dropped the page.
    assert 'class="badge claimed"' in visitor.get(f"/papers/{paper_id}").text
    client.cookies.clear()
    page = client.get(f"/papers/{paper_id}").text
    assert 'class="badge claimed" href="/users/ada"' in page
    assert "Claim authorship" not in page  # no form (and no CSRF cookie) for visitors
    assert 'href="/users/ada"' in client.get(f"/authors/{name}").text


def test_a_claim_of_a_name_not_on_the_paper_is_a_422_page(
    client: TestClient, filled: Store
) -> None:
    paper_id, _ = a_paper_and_author(filled)
    sign_in(client, filled, make_user(filled, "ada"))
    answer = client.post(
        f"/papers/{paper_id}/claims",
        data={"author": "Nobody Listed", "csrf_token": csrf_of(client)},
    )
    assert answer.status_code == 422 and "not an author" in answer.text


def test_claims_need_the_csrf_token(client: TestClient, filled: Store) -> None:
    paper_id, name = a_paper_and_author(filled)
    sign_in(client, filled, make_user(filled, "ada"))
    answer = client.post(f"/papers/{paper_id}/claims", data={"author": name})
    assert answer.status_code == 403


def test_confirmed_authors_set_links_and_others_are_refused(
    client: TestClient, filled: Store
) -> None:
    paper_id, name = a_paper_and_author(filled)
    ada, bob = make_user(filled, "ada"), make_user(filled, "bob")
    claim = claims.claim_authorship(filled, ada, paper_id, name)
    claims.decide(filled, make_user(filled, "mod", role="moderator"), claim.id, approve=True)
    sign_in(client, filled, bob)
    refused = client.post(
        f"/papers/{paper_id}/links",
        data={"code_url": "https://github.com/bob/x", "csrf_token": csrf_of(client)},
    )
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, filled, ada)
    bad = client.post(
        f"/papers/{paper_id}/links",
        data={"code_url": "javascript:alert(1)", "csrf_token": csrf_of(client)},
    )
    assert bad.status_code == 422
    done = client.post(
        f"/papers/{paper_id}/links",
        data={"code_url": "https://github.com/ada/x", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    client.cookies.clear()
    page = client.get(f"/papers/{paper_id}").text
    assert "Added by the authors" in page and 'href="https://github.com/ada/x"' in page
