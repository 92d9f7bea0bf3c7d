"""Which requests pass FastAPI's own layers: a spy on Starlette's ServerErrorMiddleware, the
first of them, for the tests of the fronts outside them (``web/outer.py``)."""

from __future__ import annotations

import pytest
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import Receive, Scope, Send


def passing_fastapis_layers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths (or scope types, such as ``lifespan``) of the requests that pass
    ServerErrorMiddleware from now on, in order."""
    passed: list[str] = []
    layer = ServerErrorMiddleware.__call__

    async def noted(
        self: ServerErrorMiddleware, scope: Scope, receive: Receive, send: Send
    ) -> None:
        passed.append(scope.get("path", scope["type"]))
        await layer(self, scope, receive, send)

    monkeypatch.setattr(ServerErrorMiddleware, "__call__", noted)
    return passed
