"""The pure helpers behind every source: ids, text cleaning, categories, links, merging."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.paper import (
    InvalidRecord,
    Link,
    clean_categories,
    content_hash,
    feed_day,
    find_links,
    make_record,
    merge,
    parse_arxiv_id,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2501.01234", ("2501.01234", None)),
        ("2501.01234v3", ("2501.01234", 3)),
        ("arXiv:2501.01234v2", ("2501.01234", 2)),
        ("https://arxiv.org/abs/2501.01234v2", ("2501.01234", 2)),
        ("http://arxiv.org/pdf/2501.01234v1.pdf", ("2501.01234", 1)),
        ("arxiv.org/abs/0704.0001", ("0704.0001", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("math.GT/0309136", ("math.GT/0309136", None)),
        (" 1501.00001 ", ("1501.00001", None)),
    ],
)
def test_parse_arxiv_id(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "2501.123", "https://example.org/abs/2501.01234"])
def test_parse_arxiv_id_rejects(text: str) -> None:
    with pytest.raises(InvalidRecord):
        parse_arxiv_id(text)


def test_clean_categories_drops_msc_and_acm_classes() -> None:
    raw = ["cs.CV", "cs.AI", "68T45, 62H30", "I.5.3; I.2.10", "cs.CV", "stat.ML"]
    assert clean_categories(raw) == ("cs.CV", "cs.AI", "stat.ML")
    assert clean_categories(["hep-th math-ph"]) == ("hep-th", "math-ph")


def test_find_links_in_abstract_and_comment() -> None:
    abstract = (
        "Code is available at:\ngithub.com/mahdiabavisani/DSRC. Models at "
        "https://huggingface.co/org/model and a demo (https://demo.example.org/page). "
        "See https://doi.org/10.1/abc and https://github.com/user."
    )
    comment = r"Project page: \url{https://foo.github.io/bar/}; code https://gitlab.com/g/r.git"
    assert find_links(abstract, comment) == (
        Link("code", "https://github.com/mahdiabavisani/DSRC"),
        Link("huggingface", "https://huggingface.co/org/model"),
        Link("project", "https://demo.example.org/page"),
        Link("project", "https://foo.github.io/bar/"),
        Link("code", "https://gitlab.com/g/r"),
    )


def test_record_links_start_with_abs_and_pdf() -> None:
    record = make_record("2501.01234v2", "T", github_repo="https://github.com/a/b")
    assert record.links[:3] == (
        Link("abs", "https://arxiv.org/abs/2501.01234"),
        Link("pdf", "https://arxiv.org/pdf/2501.01234v2"),
        Link("code", "https://github.com/a/b"),
    )


def test_make_record_cleans_and_validates() -> None:
    record = make_record(
        "2501.01234",
        "  A\n  Title ",
        abstract="Line one\n  line two.",
        authors=["  Ada  Lovelace ", ""],
        submitted_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert record.title == "A Title"
    assert record.abstract == "Line one line two."
    assert record.authors == ("Ada Lovelace",)
    assert record.submitted_at == datetime(2025, 1, 2, 8, 4, 5)
    with pytest.raises(InvalidRecord, match="no title"):
        make_record("2501.01234", " ")
    with pytest.raises(InvalidRecord, match="no arXiv id"):
        make_record("", "T")


def test_merge_keeps_given_values_and_earliest_dates() -> None:
    stored = make_record(
        "2501.01234v2", "Title v2", abstract="v2", first_listed_on=date(2025, 1, 3)
    )
    from_hf = make_record(
        "2501.01234", "Title", hf_upvotes=7, featured_on=date(2025, 1, 5), abstract=None
    )
    merged = merge(stored, from_hf)
    assert (merged.title, merged.abstract, merged.version) == ("Title", "v2", 2)
    assert (merged.hf_upvotes, merged.featured_on) == (7, date(2025, 1, 5))
    assert merged.first_listed_on == date(2025, 1, 3)
    relisted = merge(merged, make_record("2501.01234", "Title", first_listed_on=date(2025, 2, 1)))
    assert relisted.first_listed_on == date(2025, 1, 3)


def test_content_hash_is_stable_and_sensitive() -> None:
    a = make_record("2501.01234", "Title", authors=["A", "B"])
    assert content_hash(a) == content_hash(make_record("2501.01234", "Title", authors=["A", "B"]))
    assert content_hash(a) != content_hash(make_record("2501.01234", "Title", authors=["B", "A"]))


def test_feed_day_is_listing_then_featuring_then_submission() -> None:
    listed, featured = date(2025, 1, 6), date(2025, 1, 9)
    submitted = datetime(2025, 1, 3, 23, 59)
    both = make_record("2501.00001", "T", first_listed_on=listed, featured_on=featured)
    assert feed_day(both) == listed
    featured_only = make_record("2501.00001", "T", featured_on=featured, submitted_at=submitted)
    assert feed_day(featured_only) == featured
    assert feed_day(make_record("2501.00001", "T", submitted_at=submitted)) == date(2025, 1, 3)
    assert feed_day(make_record("2501.00001", "T")) is None


def test_content_hash_of_stored_papers_survives_new_fields() -> None:
    # The digest stored before hf_comments existed: a record without it must keep it, or
    # every stored paper would count as "updated" on the next ingest.
    fields = {"authors": ["A", "B"], "hf_upvotes": 3, "first_listed_on": date(2025, 1, 2)}
    before = make_record("2501.01234", "Title", **fields)
    assert content_hash(before) == "9f858040eea657fd7c0649d620a1f6dd"
    assert content_hash(make_record("2501.01234", "Title", hf_comments=2, **fields)) != (
        "9f858040eea657fd7c0649d620a1f6dd"
    )


@given(st.text(max_size=300))
def test_find_links_never_raises(text: str) -> None:
    for link in find_links(text):
        assert link.url.startswith("https://") or link.url.startswith("http://")
