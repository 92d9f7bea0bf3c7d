"""A member control of a page as the browser submits it: the page's member form (web/cards.py
``page_form``: the CSRF token and the way back) with the button's own name and value."""

from __future__ import annotations

import re

_FIELD = re.compile(r'name="([a-z_]+)" value="([^"]*)"')


def page_form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's member form (``id="m"``)."""
    start = html.index('<form id="m" method="post" hidden>')
    return dict(_FIELD.findall(html[start : html.index("</form>", start)]))


def button_of(html: str, paper_id: str, action: str) -> str:
    """The HTML of the button of ``paper_id`` that posts to ``action`` ("upvote", "save",
    "not-interested"), its first on the page."""
    at = html.index(f'formaction="/papers/{paper_id}/{action}"')
    end = html.index("</button>", at) + len("</button>")
    return html[html.rindex("<button", 0, at) : end]


def control_fields(html: str, paper_id: str, action: str) -> dict[str, str]:
    """What the browser posts for that button: the page form's fields and its own."""
    name, value = _FIELD.findall(button_of(html, paper_id, action))[0]
    return {**page_form_fields(html), name: value}
