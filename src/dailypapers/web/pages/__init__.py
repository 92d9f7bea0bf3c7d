"""The server-rendered pages, one module per kind of page; each is usable without JavaScript.

``daily`` (/, /date/, /week/, /month/, /trending), ``paper`` (/papers/{id}, its BibTeX, and
/authors/{name}), ``search`` (/search), ``about`` (/about, /about/ranking), ``account``
(log in and out, settings, /users/{name}), ``signup`` (sign up, confirm, reset), ``oauth``
(GitHub and ORCID), ``claims`` (authorship claims and their queue), ``moderation`` (the
moderators' index, the reports', submissions' and users' pages, the audit log),
``subscribe`` (the digest: subscribe, confirm, unsubscribe), ``digests`` (the digests' web
archive) and ``alerts`` (saved-search alerts, their feeds and API). They read through
the same reader as the JSON API and the feeds (:mod:`dailypapers.feed.reader`, one read
transaction per request) and the search engine, and render with
:func:`dailypapers.web.templating.render`.
"""

from fastapi import APIRouter

from dailypapers.web.pages import (
    about,
    account,
    alerts,
    claims,
    daily,
    digests,
    moderation,
    oauth,
    paper,
    search,
    signup,
    subscribe,
)

router = APIRouter(include_in_schema=False)
PAGES = (daily, paper, search, about, account, signup, oauth, claims, moderation, subscribe)
for module in (*PAGES, digests, alerts):
    router.include_router(module.router)
