"""What a paper page's thread needs (``templates/_comments.html``): the comments, who reads
them, a refused form to show again, and the thread's HTML.

The thread is written here with f-strings, every value escaped with :func:`html.escape`, as
the cards are (``web/cards.py``): a Jinja macro per comment cost about 90 µs each, so a page
of 200 comments took 24 ms of CPU; this takes a fraction. Each comment's ``html`` is already
safe (rendered and sanitised once, when it was written).

Signed-in members get the paper page from one cached *member template* per URL
(:mod:`dailypapers.web.personal`), so the edit and delete controls of a comment cannot be
decided at rendering for the member who will read it. In a template each comment's controls
are rendered between two slots naming its author (:meth:`CommentViewer.own_open`); the merge
keeps them for that author only (:func:`dailypapers.web.personal.merge`). Rendered directly
for a member, they are there for their own comments only; moderators (a template of their
own) get them on every comment. A comment's report form is the other way round: between
slots the merge drops for its author only (``own_slot(name, others=True)``), left out of a
direct rendering for its author. Either way the page is the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import Request
from markupsafe import Markup

from dailypapers.discussion.comments import Comment, thread
from dailypapers.feed.reader import Reader
from dailypapers.feed.trending import all_comments
from dailypapers.paper import PaperRecord
from dailypapers.web import personal
from dailypapers.web.auth import CSRF_FIELD, csrf_token, current_user
from dailypapers.web.cards import Voter
from dailypapers.web.comment_moderation import moderation_html
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
    request: Request,
    record: PaperRecord,
    voter: Voter | None,
    form: CommentForm | None,
    read: Reader | None = None,
) -> dict[str, Any]:
    """The paper page's thread: comments, count (imported plus visible), reader, form;
    read in the page's read transaction ``read`` when given."""
    viewer = viewer_of(request, voter)
    connection = None if read is None else read.connection
    comments = thread(
        store_of(request), record.arxiv_id, moderator=viewer.moderator, connection=connection
    )
    if form is not None and form.parent_id not in {None, *(c.id for c in comments)}:
        form = replace(form, parent_id=None)  # no such thread: the error goes by the main form
    csrf = csrf_token(request) if viewer.signed_in else ""
    return {
        "comments": comments,
        "comment_thread": Markup(thread_html(comments, viewer, form, csrf)),
        "comment_count": all_comments(record.hf_comments, visible_count(comments)),
        "comment_viewer": viewer,
        "comment_form": form,
        "comment_login": "/login?next=" + quote(f"/papers/{record.arxiv_id}#comments", safe=""),
    }


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def comment_time(moment: datetime) -> str:
    """ "1 Dec 2026, 06:40 UTC": when a comment was written (the same for every reader)."""
    m = moment
    return f"{m.day} {_MONTHS[m.month]} {m.year}, {m.hour:02d}:{m.minute:02d} UTC"


def _iso(m: datetime) -> str:
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def _header(c: Comment, viewer: CommentViewer) -> str:
    if c.author_username:
        name = escape(c.author_fullname or c.author_username)
        author = (
            f'<a class="comment-author" href="/users/{escape(quote(c.author_username))}">{name}</a>'
        )
    else:
        author = '<span class="comment-author">a deleted account</span>'
    parts = [
        author,
        f'<a class="comment-link" href="#comment-{c.id}"><time datetime="{_iso(c.created_at)}">'
        f"{comment_time(c.created_at)}</time></a>",
    ]
    if c.edited_at is not None and not c.deleted:
        parts.append(
            f'<span class="edited" title="Edited {comment_time(c.edited_at)}">edited</span>'
        )
        if viewer.moderator:
            parts.append(f'<a href="/comments/{c.id}/versions">earlier versions</a>')
    if c.hidden and viewer.moderator and not c.deleted:
        reason = f": {escape(c.hidden_reason)}" if c.hidden_reason else ""
        parts.append(f'<span class="badge hidden-comment">hidden{reason}</span>')
    return (
        '    <header class="comment-meta">\n      ' + "\n      ".join(parts) + "\n    </header>\n"
    )


def _body(c: Comment, viewer: CommentViewer) -> str:
    if c.deleted:
        return '    <p class="muted">This comment was deleted.</p>\n'
    if c.hidden and not viewer.moderator:
        return '    <p class="muted">This comment is hidden.</p>\n'
    return f'    <div class="comment-body">{c.html}</div>\n'


def _controls(c: Comment, viewer: CommentViewer, form: CommentForm | None, field: str) -> str:
    """The edit and delete forms of ``c``, between the viewer's own-control slots."""
    if not viewer.controls(c):
        return ""
    editing = form is not None and form.edit_id == c.id
    error = f'<p class="error" role="alert">{escape(form.error)}</p>' if editing and form else ""
    text = escape(form.text if editing and form else c.body)
    return (
        f'{viewer.own_open(c)}    <div class="comment-actions">\n'
        f"      <details{' open' if editing else ''}>\n"
        "        <summary>Edit</summary>\n"
        f'        <form method="post" action="/comments/{c.id}/edit" class="comment-form">'
        f"{field}{error}\n"
        f'          <label for="edit-{c.id}" class="visually-hidden">Edit your comment</label>\n'
        f'          <textarea id="edit-{c.id}" name="text" rows="4" required>{text}</textarea>\n'
        '          <button type="submit">Save</button>\n'
        "        </form>\n"
        "      </details>\n"
        f'      <form method="post" action="/comments/{c.id}/delete" class="comment-delete">'
        f'{field}<button type="submit">Delete</button></form>\n'
        f"    </div>\n{viewer.own_close(c)}"
    )


def _moderation(c: Comment, viewer: CommentViewer, field: str) -> str:
    """The comment's report form (members other than its author) or hide form (moderators);
    in a member template between slots the merge drops for the author alone."""
    if not viewer.moderator and c.author_username is not None:
        if not viewer.template and c.author_username == viewer.username:
            return ""  # reporting your own comment is refused: no form for it
        if viewer.template:
            form = moderation_html(c, signed_in=viewer.signed_in, moderator=False, field=field)
            slot = personal.own_slot(c.author_username, others=True)
            return f"{slot}{form}{personal.OWN_END}" if form else ""
    return moderation_html(c, signed_in=viewer.signed_in, moderator=viewer.moderator, field=field)


def _reply_form(c: Comment, form: CommentForm | None, field: str) -> str:
    replying = form is not None and form.parent_id == c.id and form.edit_id is None
    error = f'<p class="error" role="alert">{escape(form.error)}</p>' if replying and form else ""
    text = escape(form.text) if replying and form else ""
    return (
        f'  <details class="reply"{" open" if replying else ""}>\n'
        "    <summary>Reply</summary>\n"
        f'    <form method="post" action="/papers/{escape(c.paper_id)}/comments" '
        f'class="comment-form">{field}<input type="hidden" name="parent" value="{c.id}">'
        f"{error}\n"
        f'      <label for="reply-{c.id}" class="visually-hidden">Your reply</label>\n'
        f'      <textarea id="reply-{c.id}" name="text" rows="3" required>{text}</textarea>\n'
        '      <button type="submit">Reply</button>\n'
        "    </form>\n"
        "  </details>\n"
    )


def _item(
    c: Comment, viewer: CommentViewer, form: CommentForm | None, field: str, top: bool
) -> str:
    placeholder = "" if c.visible else " placeholder"
    parts = [
        f'<li class="comment{placeholder}" id="comment-{c.id}">\n  <article>\n',
        _header(c, viewer),
        _body(c, viewer),
        _controls(c, viewer, form, field),
        _moderation(c, viewer, field),
        "  </article>\n",
    ]
    if top:
        if c.replies:
            replies = "".join(_item(r, viewer, form, field, False) for r in c.replies)
            parts.append(f'  <ol class="replies">\n{replies}  </ol>\n')
        if viewer.signed_in and not c.deleted:
            parts.append(_reply_form(c, form, field))
    parts.append("</li>\n")
    return "".join(parts)


def thread_html(
    comments: list[Comment], viewer: CommentViewer, form: CommentForm | None, csrf: str
) -> str:
    """The thread's ``<ol>`` (empty string for no comments); ``csrf``: the forms' token (the
    slot in a member template), unused for nobody signed in (their page has no form)."""
    if not comments:
        return ""
    field = f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf)}">'
    items = "".join(_item(c, viewer, form, field, True) for c in comments)
    return f'<ol class="thread">\n{items}</ol>'
