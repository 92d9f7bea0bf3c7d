"""The digest archive: ``/digests/daily/YYYY-MM-DD`` and ``/digests/weekly/YYYY-Www``.

The same edition the mail carries (:mod:`dailypapers.digest.edition`, read through the
request's reader), with the subscriber's choice of categories left out: the whole edition's
first papers. Linked from every digest mail.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from dailypapers.digest.edition import EditionError, load_edition
from dailypapers.digest.render import items
from dailypapers.web.deps import reader, settings_of
from dailypapers.web.templating import render

router = APIRouter()


@router.get("/digests/{kind}/{key}")
def digest_page(request: Request, kind: str, key: str) -> Response:
    settings = settings_of(request)
    try:
        with reader(request) as papers:
            edition = load_edition(papers, kind, key, pool=settings.digest_papers)
    except EditionError as bad:
        raise HTTPException(404, str(bad)) from None
    context = {
        "title": edition.title, "edition": edition, "papers": items("", list(edition.entries)),
        "description": f"The trending papers of {edition.title.removeprefix('Daily Papers, ')}.",
    }  # fmt: skip
    return render(request, "digest.html", context)
