"""The pager written in Python (``templating.page_links``), called directly by the feed
pages and through the ``pager`` macro by the others: the same markup both ways."""

from __future__ import annotations

from starlette.requests import Request

from dailypapers.web.templating import page_links, templates


def _request(path: str, query: bytes = b"") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []}
    )


def _macro(request: Request, page: int, pages: int, label: str = "Pages") -> str:
    text = '{% from "_macros.html" import pager with context %}{{ pager(page, pages, label) }}'
    template = templates.env.from_string(text)
    return template.render(request=request, page=page, pages=pages, label=label)


def test_a_middle_page_links_both_ways_keeping_the_query() -> None:
    request = _request("/date/2026-06-01", b"sort=recent&category=cs.CL")
    html = str(page_links(request, 1, 3))
    assert html == (
        '<nav class="pager" aria-label="Pages">\n'
        '<a rel="prev" href="/date/2026-06-01?sort=recent&amp;category=cs.CL&amp;p=0">'
        "← Previous page</a>  <span>Page 2 of 3</span>\n"
        '<a rel="next" href="/date/2026-06-01?sort=recent&amp;category=cs.CL&amp;p=2">'
        "Next page →</a></nav>\n"
    )
    assert _macro(request, 1, 3) == html


def test_the_first_and_last_pages_link_one_way_and_one_page_has_no_pager() -> None:
    request = _request("/authors/Ada Lovelace", b"p=1")
    first, last = str(page_links(request, 0, 2)), str(page_links(request, 1, 2, 'A<"b>'))
    assert 'rel="prev"' not in first and 'href="/authors/Ada%20Lovelace?p=1">Next' in first
    assert 'rel="next"' not in last and 'aria-label="A&lt;&#34;b&gt;"' in last
    assert str(page_links(request, 0, 1)) == "" == str(page_links(request, 0, 0))
    assert _macro(request, 1, 2, 'A<"b>') == last and _macro(request, 0, 1) == ""
