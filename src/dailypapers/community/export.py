"""The community's part of "export my data" (``GET /settings/export.json``): a member's
upvotes, submissions (with their notes), authorship claims and the identities (GitHub, ORCID)
linked to the account, each with its time.

Importing this module registers them with :func:`dailypapers.accounts.flows.register_export`;
:mod:`dailypapers.accounts.flows` imports it at its end, so every export holds them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dailypapers.accounts import oauth
from dailypapers.accounts.flows import register_export
from dailypapers.accounts.models import User
from dailypapers.store import Store
from dailypapers.store import claims as claim_rows
from dailypapers.store import submissions as submission_rows
from dailypapers.store import votes as vote_rows


def _time(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as the account part of the export writes it."""
    return value.isoformat() + "Z" if value else None


def upvotes(store: Store, user: User) -> list[dict[str, Any]]:
    with store.read() as connection:
        found = vote_rows.votes_of_user(connection, user.id)
    return [{"paperId": paper_id, "createdAt": _time(at)} for paper_id, at in found]


def submissions(store: Store, user: User) -> list[dict[str, Any]]:
    with store.read() as connection:
        found = submission_rows.submissions_of_user(connection, user.id)
    return [
        {"paperId": item.paper_id, "note": item.note, "createdAt": _time(item.created_at)}
        for item in found
    ]


def claims(store: Store, user: User) -> list[dict[str, Any]]:
    with store.read() as connection:
        found = claim_rows.claims_of_user(connection, user.id)
    return [
        {
            "paperId": row["paper_id"],
            "authorName": row["author_name"],
            "status": row["status"],
            "createdAt": _time(row["created_at"]),
            "decidedAt": _time(row["decided_at"]),
        }
        for row in found
    ]


def identities(store: Store, user: User) -> list[dict[str, Any]]:
    return [
        {"provider": item.provider, "subject": item.subject, "linkedAt": _time(item.linked_at)}
        for item in oauth.identities_of(store, user.id)
    ]


register_export("upvotes", upvotes)
register_export("submissions", submissions)
register_export("authorshipClaims", claims)
register_export("linkedIdentities", identities)
