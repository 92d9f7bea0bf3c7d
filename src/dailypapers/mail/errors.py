"""The one exception the mail sender raises, with a one-line message.

``temporary`` says whether trying again later may work (an unreachable server, a dropped
connection, a 4xx reply) or not (a 5xx reply, a refused login, a TLS certificate that is not
trusted, no server configured); ``code`` is the server's reply code when there was one. The
callers decide what to do: a page says "could not send mail", an outbox retries or marks the
address bounced.
"""

from __future__ import annotations


class MailError(Exception):
    """A message could not be handed to the mail server (or written, in development)."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(" ".join(message.split()))  # always one line
        self.temporary = temporary
        self.code = code
