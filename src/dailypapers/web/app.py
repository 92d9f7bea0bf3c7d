"""The FastAPI app: the API router, one store and settings, and JSON errors.

Every 4xx, the validation errors included, is ``{"status": ..., "message": ...}`` so a client
reads one error shape.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store, open_store
from dailypapers.web.api import router


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "query")
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def json_error(request: Request, error: Exception) -> JSONResponse:
    """Errors as JSON with their status and a message."""
    if isinstance(error, RequestValidationError):
        status, message = 422, _validation_message(error)
    elif isinstance(error, HTTPException):
        status, message = error.status_code, str(error.detail)
    else:  # pragma: no cover - only the two kinds above are registered
        status, message = 500, "internal error"
    return JSONResponse({"status": status, "message": message}, status_code=status)


def create_app(store: Store | None = None, settings: Settings | None = None) -> FastAPI:
    """The app over ``store`` (by default the configured database)."""
    settings = settings or get_settings()
    app = FastAPI(title="dailypapers", docs_url="/docs")
    app.state.settings = settings
    app.state.store = store or open_store(settings.resolved_database_url)
    app.state.engine = None  # opened on the first search (see api._engine)
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, json_error)
    app.add_exception_handler(HTTPException, json_error)
    return app
