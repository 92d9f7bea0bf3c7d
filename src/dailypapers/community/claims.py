"""Authorship claims: a signed-in user claims an author name on a paper; a moderator decides.

Only a name that is one of the paper's listed authors can be claimed, once per user; a claim
is decided once (approved or rejected) by a moderator or admin. Approved claims are what the
paper page badges and the author page links to the user. SQL in :mod:`dailypapers.store.claims`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import RowMapping

from dailypapers.accounts import service as accounts
from dailypapers.accounts.models import User
from dailypapers.discussion.moderation import record
from dailypapers.paper import web_url
from dailypapers.store import Store
from dailypapers.store import claims as rows

STATUSES = ("pending", "approved", "rejected")


class ClaimError(ValueError):
    """A claim or decision the rules refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Claim:
    id: int
    paper_id: str
    author_name: str
    user_id: int
    status: str
    created_at: datetime
    # The claimant's user name and the paper's title, where a query read them (the queue).
    username: str | None = None
    title: str | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> Claim:
        return cls(
            id=row["id"],
            paper_id=row["paper_id"],
            author_name=row["author_name"],
            user_id=row["user_id"],
            status=row["status"],
            created_at=row["created_at"],
            username=row.get("username"),
            title=row.get("title"),
        )


def claim_authorship(store: Store, user: User, paper_id: str, author_name: str) -> Claim:
    """A pending claim of ``author_name`` on the paper by ``user``."""
    author_name = author_name.strip()
    with store.write() as connection:
        if not rows.author_of_paper(connection, paper_id, author_name):
            raise ClaimError(f"{author_name!r} is not an author of this paper.", 422)
        try:
            claim_id = rows.insert_claim(
                connection, paper_id, author_name, user.id, datetime.now(UTC).replace(tzinfo=None)
            )
        except rows.DuplicateClaim:
            raise ClaimError("You have claimed this name on this paper already.", 409) from None
        row = rows.claim_by_id(connection, claim_id)
    assert row is not None
    return Claim.from_row(row)


def decide(store: Store, moderator: User, claim_id: int, approve: bool) -> str:
    """Approve or reject a pending claim (only moderators and admins may); its paper's id."""
    if not moderator.has_role("moderator"):
        raise ClaimError("Only moderators decide claims.", 403)
    status = "approved" if approve else "rejected"
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.write() as connection:
        if not rows.decide_claim(connection, claim_id, status, moderator.id, now):
            raise ClaimError("That claim is not waiting for a decision.", 409)
        claim = rows.claim_by_id(connection, claim_id)
        assert claim is not None
        label = f"{claim['author_name']} on {claim['paper_id']}"
        action = "approve_claim" if approve else "reject_claim"
        record(connection, moderator, action, "claim", claim_id, label=label)
    return str(claim["paper_id"])


def pending_claims(store: Store) -> list[Claim]:
    """The claims waiting for a decision, oldest first, with user names and paper titles."""
    with store.read() as connection:
        return [Claim.from_row(row) for row in rows.claims_with_status(connection, "pending")]


def claims_of_paper(store: Store, paper_id: str) -> list[Claim]:
    with store.read() as connection:
        return [Claim.from_row(row) for row in rows.claims_of_paper(connection, paper_id)]


def is_approved_author(store: Store, user: User, paper_id: str) -> bool:
    """Whether ``user`` has an approved claim on the paper (may set its code and project links)."""
    return any(
        claim.user_id == user.id and claim.status == "approved"
        for claim in claims_of_paper(store, paper_id)
    )


def approved_names(store: Store, paper_id: str) -> dict[str, str]:
    """The paper's author names with an approved claim, each with the claiming user's name."""
    approved = [c for c in claims_of_paper(store, paper_id) if c.status == "approved"]
    users = accounts.users_by_ids(store, [c.user_id for c in approved])
    return {c.author_name: users[c.user_id].username for c in approved if c.user_id in users}


def users_of_author(store: Store, author_name: str) -> list[str]:
    """The user names with an approved claim of ``author_name`` (on any paper)."""
    with store.read() as connection:
        ids = [row["user_id"] for row in rows.approved_claims_of_author(connection, author_name)]
    users = accounts.users_by_ids(store, list(dict.fromkeys(ids)))
    return [users[user_id].username for user_id in dict.fromkeys(ids) if user_id in users]


@dataclass(frozen=True)
class AuthorLinks:
    code_url: str | None
    project_url: str | None


def author_links(store: Store, paper_id: str) -> AuthorLinks | None:
    """The code and project links the paper's authors set, checked again as http(s)."""
    with store.read() as connection:
        row = rows.author_links_of(connection, paper_id)
    if row is None:
        return None
    return AuthorLinks(web_url(row["code_url"]), web_url(row["project_url"]))


def set_author_links(
    store: Store, user: User, paper_id: str, code_url: str, project_url: str
) -> None:
    """Set the links (an empty field clears one); confirmed authors and moderators only."""
    if not (user.has_role("moderator") or is_approved_author(store, user, paper_id)):
        raise ClaimError("Only the paper's confirmed authors and moderators set its links.", 403)
    checked: list[str | None] = []
    for label, given in (("code", code_url.strip()), ("project", project_url.strip())):
        url = web_url(given) if given else None
        if given and (url is None or not given.lower().startswith(("http://", "https://"))):
            raise ClaimError(f"The {label} link must be an http:// or https:// address.", 422)
        checked.append(url)
    with store.write() as connection:
        rows.set_author_links(
            connection,
            paper_id,
            checked[0],
            checked[1],
            user.id,
            datetime.now(UTC).replace(tzinfo=None),
        )
