"""Hugging Face's own client, unmodified, against the real server: the API is a drop-in.

``huggingface_hub.HfApi(endpoint=URL)`` (the PyPI package, pinned in the ``test`` extra) calls
every papers method it has over HTTP against uvicorn on a free port of 127.0.0.1, serving the
30 papers Hugging Face featured on 2026-06-12 (whose capture also says who featured each),
the arXiv snapshot sample and a daily-listing record, with the search indexes built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import PaperInfo

from dailypapers.community.submissions import Submitter, submit
from dailypapers.store import open_store
from tests.support.accounts import make_user
from tests.support.replay import ReplayServer, Response
from tests.support.site import CAPTURE, served_site, site_settings

DAY = "2026-06-12"
TOP = "2606.13681"  # the most upvoted paper of the day (118)
TOP_TITLE = "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments"
LISTED = "2503.10001"  # known from an arXiv listing only: no submission time
SUBMITTED = "1707.08567"  # not on the site: a member submits it, fetched from arXiv's API
SUBMITTED_CAPTURE = "arxiv-responses/api-atom/arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"
HF_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf-site")


@pytest.fixture(scope="module")
def site(site_dir: Path, models_dir: Path, shared_data: Path) -> Iterator[str]:
    with served_site(shared_data, site_dir, models_dir) as url:
        yield url


@pytest.fixture(scope="module")
def api(site: str) -> HfApi:
    return HfApi(endpoint=site, token=False)


@pytest.fixture(scope="module")
def capture(shared_data: Path) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads((shared_data / CAPTURE).read_text())
    return items


def _ids(papers: Iterable[PaperInfo]) -> list[str]:
    return [paper.id for paper in papers]


def test_a_day_as_hugging_face_gives_it(api: HfApi, capture: list[dict[str, object]]) -> None:
    papers = list(api.list_daily_papers(date=DAY, limit=100))
    assert sorted(_ids(papers)) == sorted(item["paper"]["id"] for item in capture)  # type: ignore[index]
    assert papers[0].id == TOP and papers[0].upvotes == 118
    mine = next(paper for paper in papers if paper.id == "2606.00467")
    assert mine.submitted_by is not None
    # The user name is what Hugging Face's record says; the full name is shown beside it.
    assert (mine.submitted_by.name, mine.submitted_by.fullname) == (  # type: ignore[attr-defined]
        "RKocielnik",
        "Rafal Kocielnik",
    )
    assert mine.submitted_by.user_type == "user"
    assert mine.submitted_by.avatar_url.startswith("https://cdn-avatars.huggingface.co/")
    assert mine.published_at == datetime(2026, 5, 30, tzinfo=UTC)
    assert mine.comments == 2 and mine.title and mine.summary


def test_week_month_pages_and_limit(api: HfApi) -> None:
    week = list(api.list_daily_papers(week="2026-W24", limit=100))
    month = list(api.list_daily_papers(month="2026-06", limit=100))
    assert len(week) == len(month) == 30
    assert list(api.list_daily_papers(month="2026-05")) == []
    first = list(api.list_daily_papers(date=DAY, limit=10))
    second = list(api.list_daily_papers(date=DAY, limit=10, p=1))
    last = list(api.list_daily_papers(date=DAY, limit=10, p=2))
    assert len(first) == len(second) == len(last) == 10
    assert len(set(_ids(first + second + last))) == 30
    assert list(api.list_daily_papers(date=DAY, limit=10, p=3)) == []


def test_sorts(api: HfApi) -> None:
    newest = list(api.list_daily_papers(date=DAY, sort="publishedAt", limit=100))
    times = [paper.published_at for paper in newest]
    assert None not in times and times == sorted(times, reverse=True)  # type: ignore[type-var]
    trending = list(api.list_daily_papers(date=DAY, sort="trending", limit=100))
    assert trending[0].id == TOP and len(trending) == 30


def test_submitter_filter(api: HfApi, capture: list[dict[str, object]]) -> None:
    for user in ("RKocielnik", "Yunqiu", "siyich"):
        expected = {
            item["paper"]["id"]  # type: ignore[index]
            for item in capture
            if item["submittedBy"]["name"] == user  # type: ignore[index]
        }
        everywhen = list(api.list_daily_papers(submitter=user))
        assert set(_ids(everywhen)) == expected
        assert {paper.submitted_by.name for paper in everywhen} == {user}  # type: ignore[union-attr]
        assert set(_ids(api.list_daily_papers(submitter=user, date=DAY))) == expected
        assert list(api.list_daily_papers(submitter=user, date="2026-06-11")) == []
    assert list(api.list_daily_papers(submitter="Rafal Kocielnik")) == []  # a full name
    assert list(api.list_daily_papers(submitter="nobody-at-all")) == []


def test_paper_info(api: HfApi) -> None:
    paper = api.paper_info(TOP)
    assert (paper.id, paper.title, paper.upvotes) == (TOP, TOP_TITLE, 118)
    assert paper.authors and paper.authors[0].name == "Jundong Xu"
    assert paper.submitted_at == datetime(2026, 6, 12, tzinfo=UTC)
    assert paper.published_at is not None and paper.published_at.tzinfo == UTC
    assert paper.submitted_by is not None and paper.submitted_by.fullname
    assert paper.github_repo == "https://github.com/Aiden0526/EvoArena"


def test_published_at_of_a_listed_paper_is_its_listing_day(api: HfApi, site: str) -> None:
    paper = api.paper_info(LISTED)
    assert paper.published_at is not None
    listed = httpx.get(f"{site}/papers/{LISTED}.md", timeout=30).text
    day = re.search(r"In the feed: \[(\d{4}-\d\d-\d\d)\]", listed)
    assert day and paper.published_at == datetime.combine(
        date.fromisoformat(day[1]), datetime.min.time(), UTC
    )
    assert paper.submitted_at is None and paper.submitted_by is None


def test_search(api: HfApi) -> None:
    found = list(api.list_papers(query=TOP_TITLE, limit=5))
    assert found[0].id == TOP and len(found) <= 5
    assert found[0].published_at is not None


def test_read_paper_as_markdown(api: HfApi, site: str) -> None:
    text = api.read_paper(TOP)
    assert text.startswith(f"# {TOP_TITLE}\n")
    for section in ("## Authors", "## Dates", "## Links", "## Abstract", "## Similar papers"):
        assert f"\n{section}\n" in text
    assert "- Jundong Xu\n" in text and "Featured on Hugging Face: 2026-06-12" in text
    assert "- Code: <https://github.com/Aiden0526/EvoArena>" in text
    similar = re.findall(r"^- \[.+\]\(/papers/([^)]+)\)", text, re.MULTILINE)
    assert similar and TOP not in similar
    response = httpx.get(f"{site}/papers/{TOP}.md", timeout=30)
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    moved = httpx.get(f"{site}/papers/{TOP}v2.md", timeout=30)
    assert moved.status_code == 301 and moved.headers["location"] == f"/papers/{TOP}.md"


def test_missing_paper_is_the_clients_404_error(api: HfApi) -> None:
    for call in (api.paper_info, api.read_paper):
        with pytest.raises(HfHubHTTPError) as raised:
            call("2999.99999")
        assert raised.value.response.status_code == 404
        assert "no paper '2999.99999'" in str(raised.value)  # our message, shown by the client


def test_times_are_written_as_hugging_face_does(site: str) -> None:
    items = httpx.get(f"{site}/api/daily_papers", params={"date": DAY}, timeout=30).json()
    times = [items[0]["publishedAt"], items[0]["paper"]["publishedAt"]]
    times.append(items[0]["paper"]["submittedOnDailyAt"])
    assert all(HF_TIME.fullmatch(moment) for moment in times), times
    assert items[0]["paper"]["submittedOnDailyAt"] == f"{DAY}T00:00:00.000Z"
    schemas = httpx.get(f"{site}/openapi.json", timeout=30).json()["components"]["schemas"]
    declared = [
        field
        for schema in schemas.values()
        for name, field in schema.get("properties", {}).items()
        if name in ("publishedAt", "submittedOnDailyAt")
    ]
    assert len(declared) == 3
    for field in declared:
        kinds = field.get("anyOf", [field])
        assert {"type": "string", "format": "date-time"}.items() <= kinds[0].items(), field


def test_a_members_submission_carries_its_time(
    api: HfApi, site: str, site_dir: Path, models_dir: Path, shared_data: Path
) -> None:
    """``submittedOnDailyAt`` of a paper a member submitted here is the moment they did (to
    the millisecond, as Hugging Face writes it), and the client reads it as that moment."""
    settings = site_settings(site_dir, models_dir)
    store = open_store(settings.resolved_database_url)
    try:
        with ReplayServer() as arxiv:
            body = (shared_data / SUBMITTED_CAPTURE).read_bytes()
            arxiv.add("/api/query", Response(200, body, {"Content-Type": "application/atom+xml"}))
            settings = settings.model_copy(update={
                "arxiv_api_url": arxiv.base_url + "/api/query", "submission_max_age_days": 100_000,
            })  # fmt: skip
            ada = make_user(store, "ada", settings=settings)
            member = Submitter(ada.id, ada.username, ada.fullname, ada.confirmed)
            before = datetime.now(UTC)
            submit(store, settings, member, SUBMITTED)
            after = datetime.now(UTC)
    finally:
        store.dispose()
    paper = api.paper_info(SUBMITTED)
    assert paper.submitted_at is not None
    assert before - timedelta(milliseconds=1) <= paper.submitted_at <= after
    assert paper.submitted_by is not None and paper.submitted_by.name == "ada"  # type: ignore[attr-defined]
    items = httpx.get(f"{site}/api/daily_papers", params={"submitter": "ada"}, timeout=30).json()
    written = items[0]["paper"]["submittedOnDailyAt"]
    assert (
        HF_TIME.fullmatch(written)
        and written == paper.submitted_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    )
