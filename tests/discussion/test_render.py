"""Comment rendering: nothing executable survives Markdown, math and the sanitiser (each
case of the XSS corpus checked with an HTML parser), math becomes MathML, math that cannot
be converted stays visible as source, links are marked nofollow, mentions link to
profiles; titles and abstracts get their math the same way."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from dailypapers.discussion.render import (
    mentioned_names,
    render_comment,
    render_title_math,
    title_math_html,
)
from tests.discussion.xss_cases import MATH_CASES, XSS_CASES

FORBIDDEN = {"script", "style", "iframe", "object", "embed", "form", "input", "meta", "link",
             "base", "svg", "frame", "frameset", "applet", "maction", "details", "noscript",
             "textarea", "button", "select", "template"}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "xlink:href", "action", "formaction", "background", "data",
                  "poster", "srcset", "lowsrc", "dynsrc", "codebase"}  # fmt: skip


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


def _safe_url(value: str) -> bool:
    """http(s), mailto or relative, as a browser reads it (it drops tabs, newlines and
    leading control characters and spaces before looking for a scheme)."""
    cleaned = "".join(ch for ch in value if ch not in "\t\n\r").lstrip("\x00 ").lower()
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme.group(1) in ("http", "https", "mailto")


def assert_harmless(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (name, html)
            assert name != "style", html
            if name in URL_ATTRIBUTES:
                assert value is not None and _safe_url(value), (name, value, html)
            if tag == "a" and name == "href":
                rel = dict(attrs).get("rel") or ""
                assert "nofollow" in rel and "ugc" in rel and "noopener" in rel, html


@pytest.mark.parametrize("text", XSS_CASES)
def test_no_case_of_the_corpus_leaves_anything_executable(text: str) -> None:
    assert_harmless(render_comment(text, members=["ada"]))


@pytest.mark.parametrize("text", XSS_CASES)
def test_titles_with_the_corpus_stay_text(text: str) -> None:
    html = str(render_title_math(text))
    assert_harmless(html)
    assert all(tag in {"math"} or tag.startswith("m") or tag == "code"
               for tag, _ in elements(html))  # fmt: skip


@pytest.mark.parametrize(("text", "element"), MATH_CASES)
def test_math_renders_to_mathml(text: str, element: str) -> None:
    html = render_comment(text)
    tags = [tag for tag, _ in elements(html)]
    assert "math" in tags and element in tags, html
    assert 'class="math-error"' not in html
    title = str(render_title_math(f"A title with {text}"))
    assert "<math" in title and element in [tag for tag, _ in elements(title)]


def test_display_math_is_a_block_and_inline_math_is_not() -> None:
    assert 'display="block"' in render_comment("$$x$$")
    assert 'display="inline"' in render_comment("$x$")


def test_math_that_cannot_be_converted_stays_visible_as_source() -> None:
    html = render_comment("see $\\left( x^$ here")
    assert '<code class="math-error">\\left( x^</code>' in html
    assert '<code class="math-error">x^</code>' in str(render_title_math("A $x^$ title"))


def test_dollars_that_are_money_stay_text() -> None:
    html = render_comment("It costs $5 and $10 a month.")
    assert "<math" not in html and "$5 and $10" in html


def test_links_are_marked_and_unsafe_ones_dropped() -> None:
    html = render_comment("[a](https://example.org) [b](javascript:x) <https://e.example>")
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert "javascript" not in html.split("[b]")[0] or 'href="javascript' not in html


def test_mentions_link_members_that_exist_and_not_in_code() -> None:
    html = render_comment("@ada and @nobody, `@ada` and mail ada@example.org", ["Ada"])
    assert html.count('href="/users/ada"') == 1
    assert "@nobody" in html and "ada@example.org" in html
    assert mentioned_names("hi @ada @Bob @ada `@carol` x@y.z") == ["ada", "Bob"]


def test_raw_html_is_shown_as_text() -> None:
    html = render_comment("<b>bold</b>")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_titles_without_math_are_only_escaped() -> None:
    title = 'A "quoted" <title> & more'
    assert str(render_title_math(title)) == "A &quot;quoted&quot; &lt;title&gt; &amp; more"


@pytest.mark.parametrize("title", ['A "quoted" <title> & more', "Math $x^2$ & \\(y\\)", "Plain"])
def test_title_math_html_is_render_title_math_as_a_plain_string(title: str) -> None:
    html = title_math_html(title)
    assert type(html) is str and html == str(render_title_math(title))
