"""Jinja2 set-up for the pages: the template folder, autoescaping, filters, shared context.

Every page goes through :func:`render`, which adds what the layout needs (site name, the
categories the site covers, the request's path for the navigation) so handlers pass only
their own data. Autoescaping is on for every template: paper text is never rendered raw.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.responses import Response

from dailypapers.discussion.render import render_title_math
from dailypapers.web.auth import TEMPLATE_GLOBALS as AUTH_GLOBALS
from dailypapers.web.cards import (
    card,
    card_anchor,
    cards,
    page_form,
    paper_save,
    paper_vote,
    plural,
    result_cards,
    short_authors,
)
from dailypapers.web.comment_view import comment_time
from dailypapers.web.identity import TEMPLATE_GLOBALS as IDENTITY_GLOBALS
from dailypapers.web.security import THEME_SCRIPT

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def long_date(day: date | None) -> str:
    """ "Mon 12 Jun 2026"; an empty string for no date."""
    return day.strftime("%a %-d %b %Y") if day else ""


def page_url(request: Request, **changes: object) -> str:
    """This page's path and query with ``changes`` applied (a pager's links keep the filters).

    The path is encoded again: Starlette gives it decoded ("/authors/Caiming Xiong").
    """
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    path = quote(request.url.path)
    return f"{path}?{urlencode(params)}" if params else path


def page_links(request: Request, page: int, pages: int, label: str = "Pages") -> Markup:
    """The links to the page before and after ``page`` (from 0) of ``pages``; nothing for
    a single page. Written here rather than as a macro: a page calls it directly, without
    importing the macros "with context" for ``request`` (together some 60 us of a daily
    page); ``_macros.html``'s ``pager`` macro calls it for the other templates."""
    if pages <= 1:
        return Markup("")
    before = after = ""
    if page > 0:
        before = f'<a rel="prev" href="{escape(page_url(request, p=page - 1))}">← Previous page</a>'
    if page + 1 < pages:
        after = f'<a rel="next" href="{escape(page_url(request, p=page + 1))}">Next page →</a>'
    return Markup(
        f'<nav class="pager" aria-label="{escape(label)}">\n{before}'
        f"  <span>Page {page + 1} of {pages}</span>\n{after}</nav>\n"
    )


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,  # a typo in a template fails its test, not silently
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: no stat() of every template file on every render.
        auto_reload=False,
    )
    environment.filters.update(short_authors=short_authors, long_date=long_date, plural=plural)
    environment.filters.update(math=render_title_math, comment_time=comment_time)
    environment.globals.update(
        page_url=page_url,
        page_links=page_links,
        paper_card=card,
        paper_cards=cards,
        paper_vote=paper_vote,
        paper_save=paper_save,
        result_cards=result_cards,
        card_anchor=card_anchor,
        page_form=page_form,
    )
    environment.globals["theme_script"] = THEME_SCRIPT
    environment.globals.update(AUTH_GLOBALS)  # csrf_field(), csrf_token(), signed_in_user()
    environment.globals.update(IDENTITY_GLOBALS)  # oauth_providers(), linked_identities()
    return environment


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """The template ``name`` with ``context`` and the layout's shared values."""
    settings = request.app.state.settings
    shared = {
        "site_categories": tuple(settings.categories),
        "path": request.url.path,
        "feeds": (),
        "voter": None,  # a signed-in member's votes among the page's papers (cards.Voter)
        "description": "A daily feed of new arXiv papers, ranked by the community.",
    }
    return templates.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)
