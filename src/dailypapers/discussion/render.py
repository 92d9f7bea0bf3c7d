"""Comment Markdown and LaTeX math to safe HTML, made once when a comment is written.

:func:`render_comment` runs markdown-it-py's CommonMark parser with raw HTML *off* (the
preset lets it through, so it is turned off explicitly), adds three inline rules of our own
(math between ``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``; ``@name`` mentions of
known members, linked to ``/users/NAME``) and then cleans the result again with nh3 against
an allow-list: Markdown's own elements and the MathML that latex2mathml writes. Links keep
only http(s), mailto and relative addresses and get ``rel="nofollow ugc noopener"``. Math
that latex2mathml cannot convert stays visible as its source, in ``<code class="math-error">``.

:func:`render_title_math` is the same math for a paper's title or abstract on its pages
(text otherwise escaped as is); text without a math delimiter costs one ``in`` test, and
conversions are memoised in a bounded LRU keyed by the text. Feeds, the API and the
Markdown page keep the source text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from html import escape
from typing import Any

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup

__all__ = [
    "MENTION_RE",
    "math_to_html",
    "mentioned_names",
    "render_comment",
    "render_title_math",
]

MAX_MATH_CHARS = 2000  # longer formulas stay source: latex2mathml's cost grows with them
# A mention: "@" then a username (accounts.service.USERNAME_RE), not inside a word or address.
MENTION_RE = re.compile(r"(?<![\w@/.])@([A-Za-z0-9](?:[A-Za-z0-9_.-]{0,37}[A-Za-z0-9])?)")
_MENTION_AT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,37}[A-Za-z0-9])?")

MATHML_TAGS = frozenset(
    "math semantics annotation mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt"
    " mroot mover munder munderover mtable mtr mtd mlabeledtr mstyle menclose mpadded"
    " mphantom merror mmultiscripts mprescripts none".split()
)
_MATHML_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence separator lspace rspace width height depth"
    " columnalign columnlines columnspacing rowalign rowlines rowspacing accent accentunder"
    " minsize maxsize movablelimits linethickness displaystyle scriptlevel notation frame"
    " symmetric largeop form encoding".split()
)
_HTML_TAGS = frozenset(
    "p br hr em strong del s code pre blockquote ul ol li a h1 h2 h3 h4 h5 h6 img"
    " table thead tbody tr th td span".split()
)
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "span": {"class"},
    "th": {"style"},
    "td": {"style"},
    "math": {"xmlns", "display"},
    **{tag: set(_MATHML_ATTRIBUTES) for tag in MATHML_TAGS if tag != "math"},
}
_ATTRIBUTES["th"] = set()  # markdown-it writes style="text-align:..." on table cells; dropped
_ATTRIBUTES["td"] = set()
_URL_SCHEMES = {"http", "https", "mailto"}


def _math_rule(state: StateInline, silent: bool) -> bool:
    """Inline math: ``$$...$$`` / ``\\[...\\]`` (display), ``$...$`` / ``\\(...\\)``."""
    src, start = state.src, state.pos
    found = _find_math(src, start)
    if found is None:
        return False
    end, content, display = found
    if not silent:
        token = state.push("math_display" if display else "math_inline", "math", 0)
        token.content = content
        token.markup = src[start:end][:2]
    state.pos = end
    return True


_CLOSERS = {"$$": ("$$", True), "\\[": ("\\]", True), "\\(": ("\\)", False)}


def _find_math(src: str, start: int) -> tuple[int, str, bool] | None:
    """(end, formula, display) of the math starting at ``start`` in ``src``, or None."""
    opener = src[start : start + 2]
    if opener in _CLOSERS:
        closer, display = _CLOSERS[opener]
        close = src.find(closer, start + 2)
        if close == -1 or not src[start + 2 : close].strip():
            return None
        return close + 2, src[start + 2 : close].strip(), display
    if src[start] != "$":
        return None
    # Pandoc's rule for "$": no space inside either dollar, no digit right after the
    # closing one (so "costs $5 and $10" stays text).
    close = start + 1
    while True:
        close = src.find("$", close)
        if close == -1:
            return None
        if src[close - 1] == "\\":
            close += 1
            continue
        break
    content = src[start + 1 : close]
    if not content or content[0].isspace() or content[-1].isspace():
        return None
    if close + 1 < len(src) and src[close + 1].isdigit():
        return None
    return close + 1, content, False


def _mention_rule(state: StateInline, silent: bool) -> bool:
    """``@name`` of a member named in ``env["members"]`` becomes a link to their page."""
    src, start = state.src, state.pos
    if src[start] != "@" or (start > 0 and (src[start - 1].isalnum() or src[start - 1] in "@/._")):
        return False
    match = _MENTION_AT.match(src, start + 1)
    members: Collection[str] = state.env.get("members", ()) if isinstance(state.env, dict) else ()
    if match is None or match.group(0).casefold() not in members:
        return False
    if not silent:
        name = match.group(0)
        link = state.push("link_open", "a", 1)
        link.attrs = {"href": f"/users/{name}", "class": "mention"}
        text = state.push("text", "", 0)
        text.content = "@" + name
        state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


def _render_math(_renderer: Any, tokens: list[Token], index: int, *_: Any) -> str:
    token = tokens[index]
    return math_to_html(token.content, display=token.type == "math_display")


def math_to_html(formula: str, *, display: bool = False) -> str:
    """MathML for a LaTeX ``formula`` (no delimiters), or its source as escaped code."""
    return _math_html(formula, display)


@lru_cache(maxsize=4096)
def _math_html(formula: str, display: bool) -> str:
    if len(formula) <= MAX_MATH_CHARS:
        try:
            return str(latex_to_mathml(formula, display="block" if display else "inline"))
        except Exception:  # noqa: BLE001 -- any failure of the converter leaves source text
            pass
    return f'<code class="math-error">{escape(formula)}</code>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.inline.ruler.before("escape", "math", _math_rule)
    md.inline.ruler.before("emphasis", "mention", _mention_rule)
    md.add_render_rule("math_inline", _render_math)
    md.add_render_rule("math_display", _render_math)
    md.validateLink = _safe_link  # type: ignore[method-assign]
    return md


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def _safe_link(url: str) -> bool:
    """Only http(s), mailto and relative links (nh3 checks again after rendering)."""
    found = _SCHEME.match(url.strip())
    return found is None or found.group(1).lower() in _URL_SCHEMES


_MD = _parser()


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(_HTML_TAGS | MATHML_TAGS),
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )


def render_comment(text: str, members: Iterable[str] = ()) -> str:
    """Safe HTML of comment ``text`` (Markdown with math); ``members``: the names (any case)
    whose ``@name`` mentions become links (those of accounts that exist)."""
    env = {"members": {name.casefold() for name in members}}
    return _clean(_MD.render(text, env))


def mentioned_names(text: str) -> list[str]:
    """The distinct ``@name``s in ``text`` (outside code spans and blocks), first first."""
    tokens = _MD.parse(text, {"members": ()})
    seen: dict[str, str] = {}
    for block in tokens:
        for child in block.children or ():
            if child.type == "text":
                for name in MENTION_RE.findall(child.content):
                    seen.setdefault(name.casefold(), name)
    return list(seen.values())


_TITLE_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|\$([^$]+?)\$", re.DOTALL)


def render_title_math(text: str) -> Markup:
    """A title or abstract as HTML: escaped text with its math as MathML. Text without a
    math delimiter is only escaped; the rest is memoised (bounded, keyed by the text)."""
    return Markup(title_math_html(text))


def title_math_html(text: str) -> str:
    """:func:`render_title_math` as a plain string, for HTML built in Python (a card's
    title): a ``Markup`` is a Python-level constructor and a copy of the string, then
    copied again when an f-string formats it (together some 1.5 us of a card built anew)."""
    if "$" not in text and "\\(" not in text and "\\[" not in text:
        return escape(text)
    return _title_math(text)


@lru_cache(maxsize=8192)
def _title_math(text: str) -> str:
    parts: list[str] = []
    last = 0
    for match in _TITLE_MATH.finditer(text):
        display, bracket, paren, inline = match.groups()
        formula = display or bracket or paren or inline
        if inline is not None and (inline[0].isspace() or inline[-1].isspace()):
            continue
        parts.append(escape(text[last : match.start()]))
        html = _math_html(formula.strip(), display is not None or bracket is not None)
        parts.append(_clean(html))
        last = match.end()
    parts.append(escape(text[last:]))
    return "".join(parts)
