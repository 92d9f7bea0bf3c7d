"""HEAD answered as GET without the body (RFC 9110 9.3.2), for every route at once.

FastAPI routes declared for GET refuse HEAD with a 405, and uptime monitors and link checkers
send HEAD. This middleware runs the GET and drops the body, keeping the headers (the length
included).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # wait for the last chunk, then end the answer once
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
