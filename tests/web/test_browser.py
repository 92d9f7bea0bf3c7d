"""The site in a real browser: Playwright drives Debian's Chromium against the real server.

The server (uvicorn in a thread, on a free port of 127.0.0.1) serves the 30 papers Hugging
Face featured on 2026-06-12 and the arXiv snapshot sample, with the keyword and semantic
indexes built, as ``dailypapers ingest`` and ``dailypapers index`` would. Each test is a user
flow in a fresh browser context (its own storage, permissions and viewport); the data is only
read, so one server serves the whole module.

Screenshots of the key pages go to ``$DAILYPAPERS_SCREENSHOTS`` if set, else to a pytest temp
folder; the end of the test run names the folder.
Run: ``.venv/bin/pytest tests/web/test_browser.py`` (Chromium from ``apt-get install chromium``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from dailypapers.index.job import run_index
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.store import open_store
from dailypapers.web.app import create_app
from tests.conftest import SHARED_DATA
from tests.support.browser import TIMEOUT_MS, LiveServer, ScreenshotFolder
from tests.support.site import site_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
DAY = "2026-06-12"
DAY_HEADING = "Friday 12 June 2026"
TOP = "2606.13681"  # the most upvoted paper of the day (118), with 14 authors and code
TOP_TITLE = "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments"
TOP_CODE = "https://github.com/Aiden0526/EvoArena"
TOP_FIRST_AUTHOR = "Jundong Xu"
# A sample paper whose code link is in its arXiv comments, not in Hugging Face's githubRepo.
CODE_IN_COMMENTS_TITLE = "Consistency Regularization for Self-Rewarding Language Models"
CODE_IN_COMMENTS_REPO = "https://github.com/example-lab/crsr"
# Read at import: the autouse settings_env fixture removes DAILYPAPERS_* variables in tests.
SCREENSHOTS_ENV = os.environ.get("DAILYPAPERS_SCREENSHOTS")

NewPage = Callable[..., Page]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    """The root URL of the real server over the ingested and indexed papers."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    data_dir = tmp_path_factory.mktemp("browser-site")
    settings = site_settings(data_dir, models_dir)  # the shell's DAILYPAPERS_* ignored
    store = open_store(settings.resolved_database_url)
    try:
        ingest(store, "hf", "capture", HfDailySource(SHARED_DATA / CAPTURE))
        ingest(store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
        run_index(store, settings)
        with LiveServer(create_app(store, settings, warm=True)) as server:
            yield server.url
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def screenshots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ScreenshotFolder:
    path = Path(SCREENSHOTS_ENV) if SCREENSHOTS_ENV else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    folder = ScreenshotFolder(path.resolve())
    request.config.pluginmanager.register(folder, f"dailypapers-screenshots-{id(folder)}")
    return folder


@pytest.fixture
def new_page(browser: Browser, site: str) -> Iterator[NewPage]:
    """Opens a page in a fresh context (light scheme, desktop size unless told otherwise).

    Any uncaught JavaScript error on any of the test's pages fails the test at teardown.
    """
    contexts = []
    errors: list[str] = []

    def open_page(**options: Any) -> Page:
        options = {"color_scheme": "light", "viewport": {"width": 1280, "height": 900}} | options
        context = browser.new_context(base_url=site, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def page(new_page: NewPage) -> Page:
    return new_page()


def _cards(page: Page) -> Locator:
    return page.locator("ol.cards article.card")


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _total(page: Page) -> int:
    """The number in the search summary ("33 results for ...")."""
    summary = page.locator("p.summary").inner_text()
    found = re.match(r"(\d+) results?\b", summary)
    assert found, summary
    return int(found.group(1))


def _is_dark(page: Page) -> bool:
    """Whether the body's background is dark (relative luminance below the middle)."""
    color = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in re.findall(r"\d+", color)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue < 128


def test_daily_page_moves_between_days_and_views(page: Page, screenshots: ScreenshotFolder):
    page.goto(f"/date/{DAY}")
    expect(page.get_by_role("heading", level=1)).to_have_text(DAY_HEADING)
    cards = _cards(page)
    expect(cards).to_have_count(30)
    expect(cards.first.locator("h2")).to_have_text(TOP_TITLE)
    expect(cards.first.locator(".votes .count")).to_have_text("118")
    votes = [int(text) for text in cards.locator(".votes .count").all_inner_texts()]
    assert votes == sorted(votes, reverse=True)
    days = page.get_by_role("navigation", name="Days")
    expect(days).to_contain_text("No later papers")
    screenshots.save(page, "daily-light")

    # Previous skips the empty days back to the sample paper of 3 January 2024, and Next returns.
    expect(days.locator("a[rel=prev]")).to_have_text("← Previous day")
    days.locator("a[rel=prev]").click()
    expect(page).to_have_url(re.compile(r"/date/2024-01-03$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday 3 January 2024")
    expect(cards).to_have_count(1)
    expect(days.locator("a[rel=next]")).to_have_text("Next day →")
    days.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(f"/date/{DAY}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(DAY_HEADING)
    expect(cards).to_have_count(30)

    views = page.get_by_role("group", name="View")
    expect(views.get_by_role("link", name="Day")).to_have_attribute("aria-current", "page")
    views.get_by_role("link", name="Week").click()
    expect(page).to_have_url(re.compile(r"/week/2026-W24$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Week 24 of 2026 (8 Jun to 14 Jun)")
    expect(views.get_by_role("link", name="Week")).to_have_attribute("aria-current", "page")
    expect(days.locator("a[rel=prev]")).to_have_text("← Previous week")
    expect(cards).to_have_count(30)
    views.get_by_role("link", name="Month").click()
    expect(page).to_have_url(re.compile(r"/month/2026-06$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("June 2026")
    expect(cards).to_have_count(30)

    # The month's Day view is its first day, which is empty: it says so and links the nearest.
    views.get_by_role("link", name="Day").click()
    expect(page).to_have_url(re.compile(r"/date/2026-06-01$"))
    expect(page.locator(".empty")).to_contain_text("No papers on this day.")
    page.locator(".empty").get_by_role("link", name="Fri 12 Jun 2026").click()
    expect(page).to_have_url(re.compile(f"/date/{DAY}$"))
    expect(cards).to_have_count(30)

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(DAY_HEADING)
    expect(cards).to_have_count(30)
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Daily")).to_have_attribute("aria-current", "page")


def test_search_from_the_header_with_snippets_and_filters(
    page: Page, screenshots: ScreenshotFolder
):
    page.goto(f"/date/{DAY}")
    box = page.get_by_role("search").get_by_role("searchbox", name="Search papers")
    box.fill(TOP_TITLE)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?"))
    assert _query(page) == {"q": [TOP_TITLE]}
    expect(page.locator("#q")).to_have_value(TOP_TITLE)
    results = _cards(page)
    expect(results.first.locator("h2")).to_have_text(TOP_TITLE)
    expect(results.first.locator(".badge.exact")).to_have_text("exact match")
    marks = [text.lower() for text in page.locator(".snippet mark").all_inner_texts()]
    assert marks and {"memory", "agents"} & set(marks), marks
    screenshots.save(page, "search-results")

    # A date range with no papers: the page says so and offers the search without filters.
    page.locator("#q").fill("memory agents")
    page.get_by_label("From", exact=True).fill("2030-01-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".empty")).to_contain_text(
        "No papers match “memory agents” with these filters."
    )
    assert _query(page)["from"] == ["2030-01-01"]
    expect(results).to_have_count(0)
    page.get_by_role("link", name="Search again without filters").click()
    assert _query(page) == {"q": ["memory agents"]}
    expect(results.first).to_be_visible()
    unfiltered = _total(page)

    page.get_by_label("Has code", exact=True).check()
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]code=true(&|$)"))
    expect(page.get_by_label("Has code", exact=True)).to_be_checked()
    expect(page.locator("p.summary")).to_contain_text("with these filters")
    assert 0 < _total(page) < unfiltered
    expect(results.locator(".badge.code")).to_have_count(results.count())

    # A code link found only in a paper's arXiv comments counts as code too, badge included.
    page.locator("#q").fill(CODE_IN_COMMENTS_TITLE)
    page.locator("#q").press("Enter")
    expect(results.first.locator("h2")).to_have_text(CODE_IN_COMMENTS_TITLE)
    expect(results.first.locator(".badge.code")).to_have_attribute("href", CODE_IN_COMMENTS_REPO)
    expect(results.locator(".badge.code")).to_have_count(results.count())

    page.locator("#q").fill("zzqxv wplmnk")
    page.get_by_label("Has code", exact=True).uncheck()
    page.locator("#q").press("Enter")
    assert _query(page)["q"] == ["zzqxv wplmnk"] and "code" not in _query(page)
    expect(page.locator(".empty")).to_contain_text("No papers match “zzqxv wplmnk”.")
    expect(results).to_have_count(0)


def test_paper_page_authors_links_and_bibtex(
    new_page: NewPage, site: str, screenshots: ScreenshotFolder
):
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page.goto("/search?q=EvoArena")
    _cards(page).first.get_by_role("link", name=TOP_TITLE).click()
    expect(page).to_have_url(re.compile(f"/papers/{TOP}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TOP_TITLE)
    authors = page.get_by_role("list", name="Authors").get_by_role("link")
    expect(authors).to_have_count(14)
    hrefs = [authors.nth(i).get_attribute("href") or "" for i in range(14)]
    assert all(href.startswith("/authors/") for href in hrefs), hrefs
    facts = page.get_by_role("complementary", name="About this paper")
    expect(facts.get_by_role("link", name="arXiv abstract")).to_have_attribute(
        "href", f"https://arxiv.org/abs/{TOP}"
    )
    expect(facts.get_by_role("link", name="PDF")).to_have_attribute(
        "href", f"https://arxiv.org/pdf/{TOP}"
    )
    expect(facts.get_by_role("link", name="Code", exact=True)).to_have_attribute("href", TOP_CODE)
    expect(facts).to_contain_text("118 upvotes")
    screenshots.save(page, "paper")

    authors.first.click()
    expect(page).to_have_url(re.compile(r"/authors/Jundong%20Xu$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TOP_FIRST_AUTHOR)
    expect(_cards(page).get_by_role("link", name=TOP_TITLE)).to_have_attribute(
        "href", f"/papers/{TOP}"
    )
    screenshots.save(page, "author")
    page.go_back()
    expect(page).to_have_url(re.compile(f"/papers/{TOP}$"))

    page.get_by_role("button", name="Copy BibTeX").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@misc{") and f"eprint={{{TOP}}}" in copied, copied
    assert copied == page.locator("#bibtex").text_content()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download .bib").click()
    download = download_info.value
    assert download.suggested_filename == f"{TOP}.bib"
    assert Path(download.path()).read_text() == copied
    served = page.request.get(f"{site}/papers/{TOP}.bib")
    assert served.status == 200 and served.headers["content-type"].startswith(
        "application/x-bibtex"
    )
    assert served.text() == copied

    response = page.goto(f"/papers/{TOP}v2")
    expect(page).to_have_url(re.compile(f"/papers/{TOP}$"))
    assert response is not None and response.status == 200
    moved = response.request.redirected_from
    assert moved is not None and moved.url.endswith(f"/papers/{TOP}v2")
    moved_response = moved.response()
    assert moved_response is not None and moved_response.status == 301


def test_theme_toggle_is_remembered_and_follows_the_system(
    new_page: NewPage, screenshots: ScreenshotFolder
):
    page = new_page(color_scheme="light")
    page.goto(f"/date/{DAY}")
    assert not _is_dark(page)
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-label", "Switch to dark theme")
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert _is_dark(page)
    expect(toggle).to_have_attribute("aria-label", "Switch to light theme")
    screenshots.save(page, "daily-dark")

    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("localStorage.getItem('theme')") == "dark"
    assert _is_dark(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="About").click()
    expect(page).to_have_url(re.compile(r"/about$"))
    assert _is_dark(page)
    page.locator("#theme-toggle").click()
    assert not _is_dark(page) and page.evaluate("localStorage.getItem('theme')") == "light"

    dark = new_page(color_scheme="dark")
    dark.goto(f"/date/{DAY}")
    assert _is_dark(dark)
    assert dark.evaluate("document.documentElement.dataset.theme") is None
    expect(dark.locator("#theme-toggle")).to_have_attribute("aria-label", "Switch to light theme")
    dark.locator("#theme-toggle").click()
    assert not _is_dark(dark)  # the chosen light theme wins over the system's dark one


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize(
    "path", [f"/date/{DAY}", "/search?q=memory+agents", f"/papers/{TOP}", "/about/ranking"]
)
def test_phone_pages_do_not_scroll_sideways(new_page: NewPage, path: str):
    page = new_page(**PHONE)
    page.goto(path)
    expect(page.locator("main")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide on a 390 px screen"


def test_phone_daily_page(new_page: NewPage, screenshots: ScreenshotFolder):
    page = new_page(**PHONE, device_scale_factor=2)
    page.goto(f"/date/{DAY}")
    expect(_cards(page)).to_have_count(30)
    expect(page.get_by_role("searchbox", name="Search papers")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshots.save(page, "daily-phone")


STRUCTURE = """() => ({
  lang: document.documentElement.lang,
  h1: document.querySelectorAll("h1").length,
  main: document.querySelectorAll("main").length,
  mainNav: document.querySelectorAll('nav[aria-label="Main"]').length,
  unlabelled: Array.from(document.querySelectorAll("input, select, textarea"))
    .filter((el) => el.type !== "hidden")
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                    && !el.getAttribute("aria-labelledby"))
    .map((el) => el.outerHTML),
  unnamedButtons: Array.from(document.querySelectorAll("button"))
    .filter((el) => !el.textContent.trim() && !el.getAttribute("aria-label"))
    .map((el) => el.outerHTML),
})"""

PAGES = [
    ("/", 200),
    ("/week/2026-W24", 200),
    ("/trending", 200),
    ("/search", 200),
    ("/search?q=memory+agents", 200),
    (f"/papers/{TOP}", 200),
    ("/authors/Jundong%20Xu", 200),
    ("/about", 200),
    ("/about/ranking", 200),
    ("/papers/2999.99999", 404),
]


def test_keyboard_and_page_structure(page: Page, screenshots: ScreenshotFolder):
    page.goto(f"/date/{DAY}")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # shown once focused
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main")).to_be_focused()

    for path, status in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == status, path
        found = page.evaluate(STRUCTURE)
        expected = {"lang": "en", "h1": 1, "main": 1, "mainNav": 1}
        assert found == expected | {"unlabelled": [], "unnamedButtons": []}, path
        if path == "/about/ranking":
            expect(page.get_by_role("img", name="Trending score against age")).to_be_visible()
            screenshots.save(page, "ranking")


def test_pages_work_without_javascript(new_page: NewPage):
    page = new_page(java_script_enabled=False)
    page.goto(f"/date/{DAY}")
    expect(_cards(page)).to_have_count(30)
    expect(page.locator("#theme-toggle")).to_be_hidden()
    page.get_by_label("Sort").select_option("recent")
    page.get_by_label("Category").select_option("cs.CL")
    page.get_by_role("button", name="Apply").click()
    assert _query(page) == {"sort": ["recent"], "category": ["cs.CL"]}
    expect(page.get_by_label("Sort")).to_have_value("recent")
    expect(page.get_by_label("Category")).to_have_value("cs.CL")
    # Hugging Face gives no arXiv categories, so none of the day's papers is listed in cs.CL.
    expect(page.locator(".empty")).to_contain_text("No papers on this day in cs.CL.")

    box = page.get_by_role("search").get_by_role("searchbox", name="Search papers")
    box.fill(TOP_TITLE)
    box.press("Enter")  # the form's plain GET submission
    expect(page).to_have_url(re.compile(r"/search\?q=EvoArena"))
    expect(_cards(page).first.locator("h2")).to_have_text(TOP_TITLE)
    expect(page.locator("#theme-toggle")).to_be_hidden()

    _cards(page).first.get_by_role("link", name=TOP_TITLE).click()
    expect(page).to_have_url(re.compile(f"/papers/{TOP}$"))
    expect(page.get_by_role("button", name="Copy BibTeX")).to_be_hidden()
    expect(page.locator("#bibtex")).to_contain_text(f"eprint={{{TOP}}}")


def test_daily_controls_apply_with_all_categories(page: Page):
    page.goto(f"/date/{DAY}")
    page.get_by_label("Sort").select_option("trending")
    with page.expect_response(re.compile(r"/date/.*sort=trending")) as answer:
        page.get_by_role("button", name="Apply").click()
    assert answer.value.status == 200, answer.value.status
    expect(_cards(page)).to_have_count(30)


def test_previous_day_keeps_the_category_and_sort(page: Page):
    page.goto(f"/date/{DAY}?sort=recent&category=")
    previous = page.get_by_role("navigation", name="Days").locator("a[rel=prev]")
    assert (previous.get_attribute("href") or "").endswith("?sort=recent")
    page.goto("/date/2024-01-03?category=cs.CV")
    expect(_cards(page)).to_have_count(1)
    # The only cs.CV paper: no earlier or later day has one, whatever other days hold.
    days = page.get_by_role("navigation", name="Days")
    expect(days).to_contain_text("No earlier papers")
    expect(days).to_contain_text("No later papers")


def test_nearest_day_in_a_category_has_papers_in_it(page: Page):
    page.goto(f"/date/{DAY}?category=cs.CL")
    expect(page.locator(".empty")).to_contain_text("No papers on this day in cs.CL.")
    page.locator(".empty").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/date/\d{4}-\d\d-\d\d\?category=cs.CL$"))
    expect(page.locator("p.summary")).to_contain_text("in cs.CL")
    assert _cards(page).count() > 0, page.url
