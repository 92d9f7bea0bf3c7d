"""Paper submissions over real captured arXiv API answers served by a real HTTP server, on
SQLite and PostgreSQL: a new paper lands on today's feed "submitted by" its member with the
note and their upvote; the rules (age, daily cap, duplicates) hold; arXiv down stores nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from dailypapers.community.submissions import (
    ArxivUnreachable,
    SubmissionRefused,
    Submitter,
    remove,
    submit,
)
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store.entries import feed_entries, feed_page
from dailypapers.store.papers import count_papers
from dailypapers.store.submissions import notes_among, submitted_by
from dailypapers.store.votes import upvotes_of
from tests.support.members import add_members
from tests.support.replay import ReplayServer, Response

API = "/api/query"
# 1707.08567 (first version 2017-07-27); the answer leaves out 0808.05394, which does not exist.
CAPTURE = "arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"
NOW = datetime(2017, 8, 1, 9, 30)


def _serve(replay: ReplayServer, shared_data: Path, status: int = 200) -> None:
    body = (shared_data / "arxiv-responses" / "api-atom" / CAPTURE).read_bytes()
    replay.add(API, Response(status, body, {"Content-Type": "application/atom+xml"}))


def _settings(replay: ReplayServer, **changes: object) -> Settings:
    return get_settings().model_copy(
        update={"arxiv_api_url": replay.base_url + API, "http_retries": 0, **changes}
    )


def _members(store: Store, count: int = 2) -> list[Submitter]:
    ids = add_members(store, count, prefix="sub")
    return [Submitter(i, f"sub{n}", f"Member <{n}>", True) for n, i in enumerate(ids)]


def test_a_new_paper_lands_on_todays_feed_with_note_and_upvote(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    _serve(replay, shared_data)
    alice, bob = _members(store)
    settings = _settings(replay)
    done = submit(store, settings, alice, "https://arxiv.org/abs/1707.08567v1", "Worth <b>it</b>",
                  now=NOW)  # fmt: skip
    assert (done.paper_id, done.new, done.day, done.vote.upvotes) == (
        "1707.08567", True, NOW.date(), 1,
    )  # fmt: skip
    with store.read() as connection:
        page = feed_page(connection, NOW.date(), NOW.date(), limit=10)
        (entry,) = page.entries
        assert (entry.featured_on, entry.featured_by, entry.featured_by_user) == (
            NOW.date(), "Member <0>", "sub0",
        )  # fmt: skip
        assert notes_among(connection, ["1707.08567"]) == {"1707.08567": "Worth <b>it</b>"}
        assert submitted_by(connection, alice.id, limit=10) == ["1707.08567"]
        mine = feed_page(connection, date(1, 1, 1), date(9999, 12, 31), limit=10, submitter="sub0")
        assert [e.id for e in mine.entries] == ["1707.08567"]
    # Submitted again (by another member): an upvote, not a second submission.
    again = submit(store, settings, bob, "1707.08567", "ignored", now=NOW)
    assert (again.new, again.vote.upvotes) == (False, 2)
    assert "already featured" in again.message
    assert len(replay.requests) == 1  # arXiv was asked once
    assert remove(store, "1707.08567")
    with store.read() as connection:
        assert count_papers(connection).papers == 0
        assert upvotes_of(connection, "1707.08567") is None


def test_the_rules_refuse_with_a_reason(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    _serve(replay, shared_data)
    (alice,) = _members(store, 1)
    unconfirmed = Submitter(alice.id, alice.username, None, False)
    cases = [
        (_settings(replay), unconfirmed, "1707.08567", 403, "confirm your email"),
        (_settings(replay), alice, "not an id", 422, "not an arXiv id"),
        (_settings(replay), alice, "0808.05394", 404, "arXiv has no paper"),
        (_settings(replay, submission_max_age_days=3), alice, "1707.08567", 422, "days old"),
        (_settings(replay, submission_max_per_day=0), alice, "1707.08567", 429, "a day"),
        (_settings(replay, submission_note_max=3), alice, "1707.08567", 422, "at most 3"),
    ]
    for settings, member, text, status, message in cases:
        with pytest.raises(SubmissionRefused, match=message) as refused:
            submit(store, settings, member, text, "long note", now=NOW)
        assert refused.value.status == status
    with store.read() as connection:
        assert count_papers(connection).papers == 0


def test_arxiv_unreachable_stores_nothing(
    store: Store, replay: ReplayServer, shared_data: Path
) -> None:
    _serve(replay, shared_data, status=503)
    (alice,) = _members(store, 1)
    with pytest.raises(ArxivUnreachable, match="arXiv cannot be reached"):
        submit(store, _settings(replay), alice, "1707.08567", now=NOW)
    with store.read() as connection:
        assert count_papers(connection).papers == 0
        assert feed_entries(connection, ["1707.08567"]) == []
