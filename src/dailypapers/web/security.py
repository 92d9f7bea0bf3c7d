"""Security headers on every answer: no sniffing, no framing, a strict Content-Security-Policy.

Pages run only our own script file and one small inline script (the theme, applied before
the page paints), allowed by its hash; styles and images come from this site only. Paper
text is escaped anyway, so this is a second wall: even markup that slipped through could run
no script. The API docs page (``/docs``) loads Swagger UI from its CDN, so it gets the other
headers but no policy.
"""

from __future__ import annotations

import base64
import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Applied before the page paints, so a chosen theme never flashes the other one.
THEME_SCRIPT = (
    'try{var t=localStorage.getItem("theme");'
    "if(t)document.documentElement.dataset.theme=t}catch(e){}"
)


def script_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {script_hash(THEME_SCRIPT)}",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]
WITH_POLICY = [*HEADERS, (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())]
WITHOUT_POLICY = ("/docs",)


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The headers added to every answer for ``path`` (not to be changed in place)."""
    return HEADERS if path.startswith(WITHOUT_POLICY) else WITH_POLICY


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
