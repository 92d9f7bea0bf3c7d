"""A real HTTP server on 127.0.0.1 that replays captured responses, for harvester tests.

Routes are matched on the request path and, optionally, on query parameters; each route
holds a queue of responses (status, headers, body) served in order, the last one repeating.
Every request is recorded so tests can assert on what the client asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Route:
    path: str
    query: dict[str, str]
    responses: list[Response]
    served: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and all(query.get(k) == v for k, v in self.query.items())

    def next_response(self) -> Response:
        response = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return response


class ReplayServer:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                server._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server._handle(self, extra=body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, path: str, *responses: Response, query: dict[str, str] | None = None) -> Route:
        """Serve ``responses`` in order for ``path`` (and these query parameters)."""
        route = Route(path, query or {}, list(responses))
        # Later, more specific routes win over earlier catch-alls.
        self.routes.insert(0, route)
        return route

    def _handle(self, handler: BaseHTTPRequestHandler, extra: str = "") -> None:
        parts = urlsplit(handler.path)
        raw = parse_qs(parts.query + ("&" + extra if extra else ""), keep_blank_values=True)
        query = {k: v[-1] for k, v in raw.items()}
        with self._lock:
            self.requests.append((parts.path, query))
            route = next((r for r in self.routes if r.matches(parts.path, query)), None)
            response = route.next_response() if route else Response(404, b"no route")
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)

    def __enter__(self) -> ReplayServer:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
