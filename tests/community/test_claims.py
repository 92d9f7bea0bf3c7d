"""Authorship claims on a real store (SQLite and PostgreSQL): claim, moderate, refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from dailypapers.community import claims
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.store import Store
from dailypapers.store.schema import authors, paper_authors
from tests.support.accounts import make_user

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "snapshot_sample.jsonl"


def a_paper_and_author(store: Store) -> tuple[str, str]:
    ingest(store, "file", "sample", JsonLinesSource(SAMPLE))
    query = (
        select(paper_authors.c.paper_id, authors.c.name)
        .join(authors, authors.c.id == paper_authors.c.author_id)
        .order_by(paper_authors.c.paper_id, paper_authors.c.position)
        .limit(1)
    )
    with store.read() as connection:
        paper_id, name = connection.execute(query).one()
    return str(paper_id), str(name)


def test_a_moderator_approves_a_claim(store: Store) -> None:
    paper_id, name = a_paper_and_author(store)
    ada = make_user(store, "ada")
    mod = make_user(store, "mod", role="moderator")
    claim = claims.claim_authorship(store, ada, paper_id, f"  {name} ")
    assert [c.id for c in claims.pending_claims(store)] == [claim.id]
    assert not claims.is_approved_author(store, ada, paper_id)
    claims.decide(store, mod, claim.id, approve=True)
    assert claims.pending_claims(store) == []
    assert claims.is_approved_author(store, ada, paper_id)
    with pytest.raises(claims.ClaimError) as again:
        claims.decide(store, mod, claim.id, approve=False)
    assert again.value.status == 409


def test_an_ordinary_user_cannot_decide(store: Store) -> None:
    paper_id, name = a_paper_and_author(store)
    ada = make_user(store, "ada")
    claim = claims.claim_authorship(store, ada, paper_id, name)
    with pytest.raises(claims.ClaimError) as refused:
        claims.decide(store, make_user(store, "bob"), claim.id, approve=True)
    assert refused.value.status == 403
    assert [c.status for c in claims.claims_of_paper(store, paper_id)] == ["pending"]


def test_only_listed_names_once_each(store: Store) -> None:
    paper_id, name = a_paper_and_author(store)
    ada = make_user(store, "ada")
    with pytest.raises(claims.ClaimError) as stranger:
        claims.claim_authorship(store, ada, paper_id, "Nobody Listed")
    assert stranger.value.status == 422
    claims.claim_authorship(store, ada, paper_id, name)
    with pytest.raises(claims.ClaimError) as twice:
        claims.claim_authorship(store, ada, paper_id, name)
    assert twice.value.status == 409


def test_a_rejected_claim_gives_no_authorship(store: Store) -> None:
    paper_id, name = a_paper_and_author(store)
    ada = make_user(store, "ada")
    claim = claims.claim_authorship(store, ada, paper_id, name)
    claims.decide(store, make_user(store, "admin", role="admin"), claim.id, approve=False)
    assert not claims.is_approved_author(store, ada, paper_id)
