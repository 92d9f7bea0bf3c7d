"""The site's app: FastAPI, with room for one layer outside all of FastAPI's own.

Before the first middleware of the site, FastAPI's ``__call__`` passes every request
through its own layers: its telemetry check (three reads of ``os.environ`` for names that
are not set, each a ``KeyError`` raised and caught in Python), Starlette's ``__call__``,
``ServerErrorMiddleware``, FastAPI's exception telemetry and its body limit. For a vote that
was about 50,000 instructions of 490,000 (BENCHMARKS.md, "Votes, session 18"). A layer set
as :attr:`Site.outside` sees each request first and hands on what it does not answer to
:meth:`Site.inside` (FastAPI's own handling: its layers, then the site's middleware), so a
request it answers skips them all. The member pages' front (``web/member_pages.py``
``MemberFront``) is that layer, the vote front (``web/vote_front.py``) just inside it.

While FastAPI's native telemetry is on (the site configures none; it is looked at once a
second, :data:`TELEMETRY_CHECK_EVERY`), every request goes through FastAPI as a plain app
would, the outside layer skipped, so that each is observed: its answers are the layers'
own. The last-resort 500 page does not see the outside layer's own errors (the server
answers a plain 500): both fronts hand every failure of their own work to the layers.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

TELEMETRY_CHECK_EVERY = 1.0  # seconds between two looks at whether telemetry is on


class Site(FastAPI):
    """FastAPI, with :attr:`outside` (if set) seeing each request first."""

    outside: ASGIApp | None = None
    _telemetry_seen = float("-inf")  # when telemetry was last looked at
    _telemetry_off = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outside = self.outside
        if outside is not None and time.monotonic() - self._telemetry_seen >= TELEMETRY_CHECK_EVERY:
            self._look_at_telemetry()
        if outside is None or not self._telemetry_off:
            await super().__call__(scope, receive, send)
            return
        # What FastAPI and Starlette set first, for the outside layer to read as they do.
        if self.root_path:
            scope["root_path"] = self.root_path
        scope["app"] = self
        await outside(scope, receive, send)

    def inside(self) -> ASGIApp:
        """FastAPI's own handling of a request: what :attr:`outside` hands on to."""
        return super().__call__

    def _look_at_telemetry(self) -> None:
        """Note whether FastAPI's native telemetry is off, and when this was looked at."""
        self._telemetry_seen = time.monotonic()
        telemetry = getattr(self, "_native_telemetry", None)  # FastAPI's, if it has one
        self._telemetry_off = telemetry is None or not telemetry.enabled()
