"""The site's ASGI app: FastAPI, with the members' front asked ahead of FastAPI's own layers.

Before any middleware of ours, FastAPI checks on every request whether OpenTelemetry is
configured (``NativeTelemetry.enabled``: three provider look-ups through ``os.environ``,
each a ``KeyError`` caught), then Starlette sets the scope's app and passes the request
through its error middleware: about a sixth of a member's cached page in callgrind
(BENCHMARKS.md, "Member pages, session 18"). The members' front
(:class:`~dailypapers.web.member_pages.MemberFront`) answers a member's cached page from
memory without any of it, so :class:`Site` asks it first, while telemetry is off (checked
at most every :data:`TELEMETRY_CHECK_EVERY` seconds); what it does not answer goes on to
FastAPI marked as asked (``member_pages.TRIED``: the front among the layers does not ask
again). With telemetry on, every request goes through FastAPI as before, the front among
the layers answering inside its telemetry, so that every request is still observed.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from dailypapers.web.member_pages import TRIED, MemberFront

TELEMETRY_CHECK_EVERY = 1.0  # seconds between two looks at whether telemetry is on


class Site(FastAPI):
    """FastAPI, asking :attr:`front` (set by ``create_app`` when pages are cached) before
    its own layers (see the module's doc)."""

    front: MemberFront | None = None
    _telemetry_seen = float("-inf")  # when telemetry was last checked
    _telemetry_off = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A coroutine function, unlike the layers' fronts: servers (uvicorn, Starlette's
        # test client) tell an ASGI 3 app from an ASGI 2 one by it.
        front = self.front
        if front is not None and scope["type"] == "http":
            if time.monotonic() - self._telemetry_seen >= TELEMETRY_CHECK_EVERY:
                self._look_at_telemetry()
            if self._telemetry_off and not self.root_path:
                answer = front.answering(scope, send)
                if answer is not None:
                    await answer
                    return
                scope[TRIED] = True
        await FastAPI.__call__(self, scope, receive, send)  # (cheaper than super())

    def _look_at_telemetry(self) -> None:
        """Note whether FastAPI's telemetry is off (its layers then do nothing the front's
        answer needs), and when this was looked at."""
        self._telemetry_seen = time.monotonic()
        telemetry = getattr(self, "_native_telemetry", None)  # FastAPI's, if it has one
        self._telemetry_off = telemetry is None or not telemetry.enabled()
