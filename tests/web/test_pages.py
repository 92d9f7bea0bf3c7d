"""The HTML pages over HTTP (in process): every route, its errors and its bad parameters.

The store holds the 30 papers Hugging Face featured on 2026-06-12 (real capture), the arXiv
snapshot sample, and a few papers made here for empty days, escaping and neighbours.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dailypapers.index.job import update_indexes
from dailypapers.paper import make_record
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.web.app import create_app
from dailypapers.web.security import THEME_SCRIPT, script_hash

DAY = "2026-06-12"
TOP = "2606.13681"  # EvoArena, 118 upvotes: first on its day
TOP_TITLE = "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments"

# A paper whose text looks like markup: it must be shown as text everywhere.
TRICKY = make_record(
    "2606.99901", "Attacks <script>alert(1)</script> & {Braces",
    abstract="We prove $x < y$ and \\emph{more}; <img src=x onerror=alert(1)> is text.",
    authors=["Ada <Example>", "Bo Müller"], categories=["cs.CL"],
    first_listed_on=date(2026, 6, 9), submitted_at=datetime(2026, 6, 8, 12),
)  # fmt: skip
# Two papers a week apart around an empty stretch, for "nearest day" and neighbours.
EARLIER = make_record(
    "2605.99902", "An Earlier Paper", categories=["cs.LG"], first_listed_on=date(2026, 5, 20)
)


@pytest.fixture
def filled(featured: Store) -> Store:
    with featured.write() as connection:
        upsert_papers(connection, [TRICKY, EARLIER])
    return featured


def _page(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _card(page: str, paper_id: str) -> str:
    """The HTML of one paper's card."""
    start = page.index(f'<article class="card" aria-labelledby="t-{paper_id.replace(".", "-")}"')
    return page[start : page.index("</article>", start)]


def _card_ids(page: str) -> list[str]:
    return re.findall(r'<h2 class="title" id="t-[^"]+"><a href="/papers/([^"]+)">', page)


def test_a_day_by_upvotes_with_cards_and_neighbours(client: TestClient) -> None:
    page = _page(client, f"/date/{DAY}")
    ids = _card_ids(page)
    assert len(ids) == 30 and ids[0] == TOP
    assert "<title>Papers of Friday 12 June 2026 · dailypapers</title>" in page
    assert "30 papers." in page
    card = _card(page, TOP)
    assert TOP_TITLE in card and "Jundong Xu, Qingchuan Li, Jiaying Wu et al." in card
    assert '<span class="count">118</span>' in card
    assert "3 comments" in card
    assert 'class="badge code" href="https://github.com/Aiden0526/EvoArena"' in card
    # Previous skips the empty days back to the tricky paper's day; nothing comes later.
    assert '<a rel="prev" href="/date/2026-06-09">' in page
    assert "No later papers" in page
    assert 'href="/week/2026-W24"' in page and 'href="/month/2026-06"' in page


def test_sorts_categories_and_pages(client: TestClient) -> None:
    recent = _card_ids(_page(client, f"/date/{DAY}?sort=recent"))
    trending = _card_ids(_page(client, f"/date/{DAY}?sort=trending"))
    assert sorted(recent) == sorted(trending) and len(recent) == 30
    assert recent != trending
    cs_cl = _page(client, "/date/2026-06-09?category=cs.CL")
    assert _card_ids(cs_cl) == [TRICKY.arxiv_id]
    assert "1 paper in cs.CL" in cs_cl
    empty = _page(client, "/date/2026-06-09?category=cs.CV")
    assert "No papers on this day in cs.CV" in empty
    assert _card_ids(_page(client, f"/date/{DAY}?p=0")) == _card_ids(_page(client, f"/date/{DAY}"))
    assert "There is no page 1: the last page is 0." in _page(client, f"/date/{DAY}?p=1", 404)


def test_home_week_and_month(client: TestClient) -> None:
    home = _page(client, "/")
    assert _card_ids(home)[0] == TOP and '<link rel="canonical" href="/">' in home
    week = _page(client, "/week/2026-W24")
    assert len(_card_ids(week)) == 31  # 8 to 14 June: the featured day and the tricky paper
    assert "Week 24 of 2026 (8 Jun to 14 Jun)" in week
    assert '<a rel="prev" href="/week/2026-W21">' in week  # 20 May is in week 21
    month = _page(client, "/month/2026-06")
    assert len(_card_ids(month)) == 31 and "June 2026" in month
    assert '<a rel="prev" href="/month/2026-05">' in month


def test_an_empty_day_links_to_the_nearest_day(client: TestClient) -> None:
    page = _page(client, "/date/2026-06-01")
    assert "No papers on this day." in page
    # 20 May is 12 days before, 9 June 8 days after: the nearer one.
    assert 'The nearest day with papers is <a href="/date/2026-06-09">' in page
    assert 'The nearest day with papers is <a href="/date/2026-05-20">' in (
        _page(client, "/date/2026-05-27")
    )
    before_all = _page(client, "/date/1990-01-01")
    assert 'The nearest day with papers is <a href="/date/1999-01-01">' in before_all


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/date/2026-13-45", 404, "date must be YYYY-MM-DD"),
        ("/date/yesterday", 404, "date must be YYYY-MM-DD"),
        ("/week/2026-W60", 404, "week must be YYYY-Www"),
        ("/month/2026-13", 404, "month must be YYYY-MM"),
        ("/?sort=best", 422, "sort"),
        ("/?p=-1", 422, "p:"),
        ("/?category=not%20a%20category", 422, "category must look like cs.CL"),
        ("/trending?window=year", 422, "window"),
        ("/no/such/page", 404, "Not Found"),
    ],
)
def test_bad_pages_are_html_errors(client: TestClient, url: str, status: int, message: str) -> None:
    page = _page(client, url, status)
    assert message.lower() in page.lower()
    assert "<h1>" in page and "Traceback" not in page


def test_trending_windows(client: TestClient) -> None:
    week = _page(client, "/trending")
    assert "<h1>Trending this week</h1>" in week
    assert _card_ids(week)[0] == TOP  # by far the most upvoted of the week
    assert 'href="/about/ranking"' in week
    assert 'href="/feeds/trending.atom?window=week"' in week
    day = _card_ids(_page(client, "/trending?window=day"))
    month = _card_ids(_page(client, "/trending?window=month"))
    assert len(day) == 30 and len(month) == 32  # the month also holds 20 May and 9 June


def test_paper_page(client: TestClient) -> None:
    page = _page(client, f"/papers/{TOP}")
    assert f"<h1>{TOP_TITLE}</h1>" in page
    assert page.count('<li><a href="/authors/') == 14
    assert '<a href="/authors/Jundong%20Xu">Jundong Xu</a>' in page
    assert f'href="https://arxiv.org/abs/{TOP}"' in page
    assert f'href="https://arxiv.org/pdf/{TOP}"' in page
    assert 'href="https://github.com/Aiden0526/EvoArena"' in page
    assert 'href="https://aiden0526.github.io/EvoArena/"' in page
    assert "118 upvotes" in page and "3 comments" in page
    assert '<meta property="og:title" content="EvoArena: Tracking Memory' in page
    assert '<meta property="og:type" content="article">' in page
    assert f'<meta name="citation_arxiv_id" content="{TOP}">' in page
    assert "@misc{xu2026evoarena," in page and f"eprint={{{TOP}}}," in page
    assert '<a href="/date/2026-06-12">Fri 12 Jun 2026</a>' in page
    # No semantic index in this store: the page says so instead of failing.
    assert "Similar papers appear once the semantic index has been built." in page


def test_paper_redirects_bibtex_and_404(client: TestClient) -> None:
    for given in (f"{TOP}v2", f"arXiv:{TOP}", f"https://arxiv.org/abs/{TOP}v1"):
        response = client.get(f"/papers/{given}", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (301, f"/papers/{TOP}")
    bib = client.get(f"/papers/{TOP}.bib")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert bib.text.startswith("@misc{xu2026evoarena,\n") and bib.text.endswith("}\n")
    assert "author={Jundong Xu and Qingchuan Li and" in bib.text
    versioned = client.get(f"/papers/{TOP}v3.bib", follow_redirects=False)
    assert versioned.headers["location"] == f"/papers/{TOP}.bib"
    missing = _page(client, "/papers/2612.00001", 404)
    assert "No paper &#39;2612.00001&#39; here" in missing
    assert 'role="search"' in missing and 'id="error-q"' in missing
    assert "not an arXiv id" not in _page(client, "/papers/not-an-id", 404)
    assert client.get("/papers/2612.00001.bib").status_code == 404


def test_paper_text_is_escaped_and_cited(client: TestClient) -> None:
    page = _page(client, f"/papers/{TRICKY.arxiv_id}")
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "Attacks &lt;script&gt;alert(1)&lt;/script&gt; &amp; {Braces" in page
    assert "We prove $x &lt; y$ and \\emph{more}" in page  # LaTeX left readable
    assert '<a href="/authors/Ada%20%3CExample%3E">Ada &lt;Example&gt;</a>' in page
    bib = client.get(f"/papers/{TRICKY.arxiv_id}.bib").text
    assert "title={Attacks <script>alert(1)</script> & Braces}," in bib  # braces balanced
    assert bib.startswith("@misc{exemple2026attacks,") is False
    assert bib.startswith("@misc{example2026attacks,")


def test_author_page(client: TestClient) -> None:
    page = _page(client, "/authors/Zhiyuan%20Hu")
    assert "<h1>Zhiyuan Hu</h1>" in page and TOP in _card_ids(page)
    umlaut = _page(client, "/authors/Bo%20M%C3%BCller")
    assert _card_ids(umlaut) == [TRICKY.arxiv_id]
    assert "No papers by &#39;Nobody Here&#39;" in _page(client, "/authors/Nobody%20Here", 404)


def test_search_page(indexed_client: TestClient) -> None:
    blank = _page(indexed_client, "/search")
    assert 'id="q"' in blank and "Search titles and abstracts" in blank
    page = _page(indexed_client, "/search?q=" + TOP_TITLE.replace(" ", "+"))
    assert _card_ids(page)[0] == TOP
    assert f'value="{TOP_TITLE}"' in page  # the query stays in the box
    assert "<mark>" in page and "exact match" in page
    assert 'href="/feeds/search.atom?q=EvoArena' in page
    by_id = _page(indexed_client, f"/search?q=arxiv.org/abs/{TOP}v2")
    assert _card_ids(by_id)[0] == TOP
    none = _page(indexed_client, "/search?q=zzqxv+wvkjq")
    assert "No papers match “zzqxv wvkjq”" in none


def test_search_filters_sort_and_pages(indexed_client: TestClient) -> None:
    code = _page(indexed_client, "/search?q=language+models&code=true")
    ids = _card_ids(code)
    assert ids and code.count('class="badge code"') == len(ids)
    dated = _card_ids(
        _page(indexed_client, "/search?q=language+models&from=2026-06-12&to=2026-06-12")
    )
    assert dated and len(dated) <= 30
    cl = _page(indexed_client, "/search?q=attacks&category=cs.CL")
    assert _card_ids(cl)[0] == TRICKY.arxiv_id
    assert cl.count('class="badge category" href="/?category=cs.CL"') == len(_card_ids(cl))
    nothing = _page(indexed_client, "/search?q=attacks&category=cs.CV")
    assert "with these filters" in nothing and 'href="/search?q=attacks"' in nothing
    newest = _page(indexed_client, "/search?q=language+models&sort=newest")
    days = re.findall(r'<time datetime="([0-9-]+)">', newest)
    assert len(days) == len(_card_ids(newest)) > 1 and days == sorted(days, reverse=True)
    first = _page(indexed_client, "/search?q=models")
    assert 'href="/search?q=models&amp;p=1">Next page' in first
    second = _card_ids(_page(indexed_client, "/search?q=models&p=1"))
    assert second and not set(second) & set(_card_ids(first))
    assert "There is no page 50" in _page(indexed_client, "/search?q=models&p=50", 404)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=x&from=12%2F06%2F2026", "from: expected a date as YYYY-MM-DD"),
        ("q=x&to=2026-02-30", "to: expected a date as YYYY-MM-DD"),
        ("q=x&from=2026-06-12&to=2026-06-01", "the &#39;from&#39; date is after the &#39;to&#39;"),
        ("q=x&category=%3Cb%3E", "category must look like cs.CL"),
    ],
)
def test_bad_search_filters_are_shown_on_the_form(
    indexed_client: TestClient, query: str, message: str
) -> None:
    page = _page(indexed_client, f"/search?{query}", 422)
    assert message in page and 'role="alert"' in page and 'id="q"' in page


@pytest.mark.parametrize("query", ["q=x&sort=best", "q=x&p=51", "q=x&p=-1", "q=" + "x" * 2001])
def test_bad_search_parameters_are_422_pages(client: TestClient, query: str) -> None:
    assert "<h1>Bad request</h1>" in _page(client, f"/search?{query}", 422)


def test_search_says_when_it_fell_back_to_keywords(client: TestClient, filled: Store) -> None:
    # Only the keyword index is built (no model, no vectors): semantic search cannot run.
    update_indexes(filled, get_settings(), None)
    page = _page(client, "/search?q=memory+evolution")
    assert TOP in _card_ids(page)
    assert 'class="note" role="status">Semantic search is unavailable' in page


def test_about_pages_show_the_rules(client: TestClient) -> None:
    about = _page(client, "/about")
    assert (
        "the day arXiv first listed it" in about and 'href="/feeds/categories/cs.CL.atom"' in about
    )
    ranking = _page(client, "/about/ranking")
    assert (
        "score = (upvotes + comments / 2 + log2(1 + stars) + 1) / (age_hours + 2) ** gravity"
        in (ranking)
    )
    assert ranking.count("<polyline") == 3 and '<title id="chart-title">' in ranking
    assert "0.9072" in ranking  # 10 upvotes at 2 hours, from trending_score itself
    assert "score(d) = w_lex * L(d) + w_sem * trust * S(d)" in ranking
    assert "trust = max(min(a, b), c, d)" in ranking and "agree_words = 8" in ranking
    assert "bounded_scores" in ranking and "dense_low = 0.25" in ranking


def test_feed_links_on_pages_answer(client: TestClient) -> None:
    for url in ("/", f"/date/{DAY}?category=cs.CL", "/trending?window=day"):
        links = re.findall(
            r'<link rel="alternate" type="([^"]+)" title="[^"]+" href="([^"]+)">',
            _page(client, url),
        )
        assert links, url
        for media_type, href in links:
            response = client.get(href.replace("&amp;", "&"))
            assert response.status_code == 200, href
            assert response.headers["content-type"].startswith(media_type)


def test_head_is_answered_like_get_without_a_body(client: TestClient) -> None:
    for url in (f"/date/{DAY}", "/healthz", "/api/daily_papers", "/feeds/daily.atom", "/nope"):
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code, url
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"], url
        assert head.headers["content-type"] == get.headers["content-type"], url


def test_security_headers_and_the_inline_script_allowed_by_its_hash(client: TestClient) -> None:
    page = client.get(f"/date/{DAY}")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    inline = re.findall(r"<script>(.*?)</script>", page.text)
    assert inline == [THEME_SCRIPT] and script_hash(THEME_SCRIPT) in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    for url in ("/api/daily_papers", "/feeds/daily.rss", "/nope"):
        assert client.get(url).headers["x-frame-options"] == "DENY", url
    docs = client.get("/docs")  # Swagger UI comes from its CDN: no policy there
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers


def test_empty_site_and_static_files(sqlite_store: Store) -> None:
    with TestClient(create_app(sqlite_store, get_settings())) as empty:
        assert "<h1>No papers yet</h1>" in _page(empty, "/")
        assert "<h1>No papers yet</h1>" in _page(empty, "/trending")
        assert empty.get("/healthz").text == "ok"
        css = empty.get("/static/style.css")
        assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text
        assert "theme-toggle" in empty.get("/static/app.js").text
        assert empty.get("/static/nope.css").status_code == 404
        icon = empty.get("/static/favicon.svg")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"


def test_an_unexpected_error_is_a_page_without_traceback(filled: Store) -> None:
    with filled.write() as connection:
        connection.execute(text("DROP TABLE paper_links"))
        connection.execute(text("ALTER TABLE papers RENAME TO papers_gone"))
    app = create_app(filled, get_settings())
    with TestClient(app, raise_server_exceptions=False) as broken:
        page = broken.get("/")
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "Something went wrong" in page.text and "Traceback" not in page.text
        api = broken.get("/api/daily_papers")
        assert api.status_code == 500
        message = "internal error: the server could not answer this"
        assert api.json() == {"status": 500, "message": message, "error": message}
