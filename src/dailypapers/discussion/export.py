"""The discussion's part of "export my data" (``GET /settings/export.json``): a member's
comments (not deleted ones), with their Markdown text, paper, parent and times.

Importing this module registers it with :func:`dailypapers.accounts.flows.register_export`;
:mod:`dailypapers.accounts.flows` imports it at its end, so every export holds it.
"""

from __future__ import annotations

from typing import Any

from dailypapers.accounts.flows import register_export
from dailypapers.accounts.models import User
from dailypapers.discussion.comments import user_comments
from dailypapers.store import Store


def comments(store: Store, user: User) -> list[dict[str, Any]]:
    return user_comments(store, user.id)


register_export("comments", comments)
