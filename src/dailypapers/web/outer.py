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

What such a layer answers is not seen by FastAPI's native telemetry (the site configures
none) nor by the last-resort 500 page (its own errors reach the server, which answers a
plain 500): both fronts hand every failure of their own work to the layers.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


class Site(FastAPI):
    """FastAPI, with :attr:`outside` (if set) seeing each request first."""

    outside: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outside = self.outside
        if outside is None:
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
