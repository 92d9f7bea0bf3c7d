"""One error type, two renderings: JSON ``{status, message}`` under /api and in feeds, an HTML
page everywhere else (with a search box on a 404); plain text for ``.md`` and ``.bib``.

Handlers raise ``HTTPException(status, message)``; validation errors become 422 with the
parameter named. Anything unexpected is logged and answered 500 in the same shapes, without a
traceback on screen, by :class:`CatchErrors`, which leaves the connection open for the next
request. (A handler registered for ``Exception`` would run in Starlette's
``ServerErrorMiddleware``, which answers and then re-raises; the server then drops the
keep-alive connection without saying ``Connection: close``, and the client's next request on
it fails.)
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.templating import render

log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    422: "Bad request",
    429: "Too many requests",
}


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "query")
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/feeds/")) or path in ("/api", "/docs", "/openapi.json")


def error_response(request: Request, status: int, message: str) -> Response:
    """The error as JSON for machines, as a page for people."""
    if _wants_json(request):
        # "error" repeats the message where Hugging Face puts it (its client shows it).
        body = {"status": status, "message": message, "error": message}
        return JSONResponse(body, status_code=status)
    if request.url.path.endswith((".md", ".bib")):  # plain-text resources: a plain-text error
        return PlainTextResponse(f"{status} {message}\n", status_code=status)
    title = _TITLES.get(status, "Error" if status < 500 else "Something went wrong")
    context = {"status": status, "message": message, "title": title}
    return render(request, "error.html", context, status_code=status)


async def handle_error(request: Request, error: Exception) -> Response:
    if isinstance(error, RequestValidationError):
        return error_response(request, 422, _validation_message(error))
    if isinstance(error, HTTPException):
        response = error_response(request, error.status_code, str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response
    if isinstance(error, OverflowError):
        # A number the request carried that no column can hold, found by the database
        # driver: bad input, wherever a route did not bound it first.
        return error_response(request, 400, "a number in the request is out of range")
    log.exception("unexpected error on %s", request.url.path, exc_info=error)
    return error_response(request, 500, INTERNAL_ERROR)


INTERNAL_ERROR = "internal error: the server could not answer this"


class CatchErrors:
    """ASGI middleware: an unexpected exception becomes a logged 500 in the usual shapes.

    The error does not travel further, so the server keeps the connection. If the answer had
    already begun there is nothing to replace, and the error goes on to the server (which
    then ends the connection, the only honest thing left).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            if started:
                raise
            request = Request(scope)
            log.exception("unexpected error on %s", request.url.path, exc_info=error)
            await error_response(request, 500, INTERNAL_ERROR)(scope, receive, send)
