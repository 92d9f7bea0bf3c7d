"""The Host header: checked before anything reads it, refused with 400 when malformed.

Absolute URLs in feeds and page heads, and the response cache's key, are built from the Host
a client sends, so a value such as ``127.0.0.1:8101/api`` (a ``/`` in it) must never get past
the door: it could make one URL's answer be stored under another's key. A Host is a DNS name,
an IPv4 address or a bracketed IPv6 address, with an optional port; anything else is a 400.
``DAILYPAPERS_ALLOWED_HOSTS`` narrows it to the site's own names (the host of
``DAILYPAPERS_SITE_URL`` is always one of them); by default any well-formed host is served.
A request without a Host (HTTP/1.0) is served: nothing is built from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_NAME = rf"{_LABEL}(?:\.{_LABEL})*\.?"
_IPV6 = r"\[[0-9A-Fa-f:.]{2,45}\]"
HOST_RE = re.compile(rf"(?P<name>{_NAME}|{_IPV6})(?::(?P<port>\d{{1,5}}))?")
MAX_HOST_LENGTH = 255


def split_host(value: str) -> tuple[str, int | None] | None:
    """``(name, port)`` of a well-formed Host value (name lower-cased), else None."""
    match = HOST_RE.fullmatch(value) if len(value) <= MAX_HOST_LENGTH else None
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    return match["name"].lower().rstrip("."), port


def allowed_names(hosts: Iterable[str], site_url: str | None) -> tuple[str, ...]:
    """The names a site answers to: the setting's (``*`` is any), plus its public URL's host."""
    names = [host.strip().lower() for host in hosts if host.strip()]
    if not names or "*" in names:
        return ()
    if site_url:
        site = urlsplit(site_url).hostname
        if site:
            names.append(site.lower())
    return tuple(names)


def _matches(name: str, allowed: tuple[str, ...]) -> bool:
    # ".example.org" takes example.org and its subdomains, as Django's ALLOWED_HOSTS does.
    return any(
        name == entry or (entry.startswith(".") and (name == entry[1:] or name.endswith(entry)))
        for entry in allowed
    )


class HostCheck:
    """ASGI middleware: a malformed or foreign Host is answered 400 and goes no further."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        problem = self.problem(hosts)
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = f"400 Bad Request: {problem}\n".encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def problem(self, hosts: list[bytes]) -> str | None:
        """What is wrong with a request's Host headers ``hosts``, or None when it may pass
        (none: a client of HTTP/1.0; :class:`~dailypapers.web.member_pages.MemberFront`
        asks too, for the members' pages it answers before this layer)."""
        if not hosts:
            return None
        if len(hosts) > 1:
            return "more than one Host header"
        try:
            parsed = split_host(hosts[0].decode("ascii"))
        except UnicodeDecodeError:
            parsed = None
        if parsed is None:
            return "the Host header is not a host name or address with an optional port"
        if self.allowed and not _matches(parsed[0], self.allowed):
            return "this site does not answer to that host name"
        return None


MAX_KNOWN_HOSTS = 64  # Host values a front remembers as allowed; it starts afresh beyond


class KnownHosts:
    """The Host values :class:`HostCheck` lets through, each checked once and remembered:
    for a front that answers before that layer (``web/vote_front.py``)."""

    def __init__(self, check: HostCheck) -> None:
        self._check = check
        self._allowed: set[bytes] = set()

    def passes(self, hosts: list[bytes]) -> bool:
        """Whether a request with the Host headers ``hosts`` goes past :class:`HostCheck`."""
        if len(hosts) == 1 and hosts[0] in self._allowed:
            return True
        if self._check.problem(hosts) is not None:
            return False
        if len(hosts) == 1:
            if len(self._allowed) >= MAX_KNOWN_HOSTS:
                self._allowed.clear()
            self._allowed.add(hosts[0])
        return True
