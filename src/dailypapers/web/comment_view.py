"""What a paper page's thread needs (``templates/_comments.html``): the comments, who reads
them, and a refused form to show again.

Signed-in members get the paper page from one cached *member template* per URL
(:mod:`dailypapers.web.personal`), so the edit and delete controls of a comment cannot be
decided at rendering for the member who will read it. In a template each comment's controls
are rendered between two slots naming its author (:meth:`CommentViewer.own_open`); the merge
keeps them for that author only (:func:`dailypapers.web.personal.merge`). Rendered directly
for a member, they are there for their own comments only; moderators (a template of their
own) get them on every comment. Either way the page is the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from fastapi import Request
from markupsafe import Markup

from dailypapers.discussion.comments import Comment, thread
from dailypapers.feed.trending import all_comments
from dailypapers.paper import PaperRecord
from dailypapers.web import personal
from dailypapers.web.auth import current_user
from dailypapers.web.cards import Voter
from dailypapers.web.deps import store_of


@dataclass(frozen=True, slots=True)
class CommentForm:
    """A comment form sent back with its ``error`` and the ``text`` kept: a new comment
    (``parent_id``: a reply) or the edit of ``edit_id``."""

    text: str
    error: str
    parent_id: int | None = None
    edit_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommentViewer:
    """Who reads the thread: nobody, a member (``username``; None in a member template,
    where the merge puts them in) or a moderator."""

    signed_in: bool
    moderator: bool
    template: bool
    username: str | None

    def controls(self, comment: Comment) -> bool:
        """Whether the comment's edit and delete controls are rendered (in a template: for
        the merge to keep or drop)."""
        if not self.signed_in or comment.deleted or comment.author_username is None:
            return False
        if self.moderator or self.template:
            return True
        return comment.author_username == self.username

    def own_open(self, comment: Comment) -> Markup:
        if self.template and not self.moderator and comment.author_username:
            return Markup(personal.own_slot(comment.author_username))
        return Markup("")

    def own_close(self, comment: Comment) -> Markup:
        if self.template and not self.moderator and comment.author_username:
            return Markup(personal.OWN_END)
        return Markup("")


def viewer_of(request: Request, voter: Voter | None) -> CommentViewer:
    """The thread's reader, from the page's voter (None: nobody signed in)."""
    if voter is None:
        return CommentViewer(False, False, False, None)
    if personal.in_template(request.scope.setdefault("state", {})):
        return CommentViewer(True, voter.moderator, True, None)
    user = current_user(request)
    return CommentViewer(True, voter.moderator, False, user.username if user else None)


def visible_count(comments: list[Comment]) -> int:
    """How many comments of a thread readers see (placeholders and hidden ones not)."""
    return sum(c.visible for top in comments for c in (top, *top.replies))


def thread_context(
    request: Request, record: PaperRecord, voter: Voter | None, form: CommentForm | None
) -> dict[str, Any]:
    """The paper page's thread: comments, count (imported plus visible), reader, form."""
    viewer = viewer_of(request, voter)
    comments = thread(store_of(request), record.arxiv_id, moderator=viewer.moderator)
    if form is not None and form.parent_id not in {None, *(c.id for c in comments)}:
        form = replace(form, parent_id=None)  # no such thread: the error goes by the main form
    return {
        "comments": comments,
        "comment_count": all_comments(record.hf_comments, visible_count(comments)),
        "comment_viewer": viewer,
        "comment_form": form,
        "comment_login": "/login?next=" + quote(f"/papers/{record.arxiv_id}#comments", safe=""),
    }
