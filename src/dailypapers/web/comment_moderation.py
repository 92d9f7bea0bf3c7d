"""A comment's moderation form in the thread (:mod:`dailypapers.web.comment_view` calls
:func:`moderation_html` for each comment): "Report" for members, "Hide" or "Unhide" with a
reason for moderators.

Written with f-strings like the rest of the thread (every value escaped). Members get the
report form on the visible comments of others: :mod:`dailypapers.web.comment_view` puts it
where the member merge leaves it out for the comment's author (a report of your own comment
is refused anyway: :func:`dailypapers.discussion.moderation.report`). Moderators have a
template of their own.
A comment a moderator hid has a reason and gets "Unhide"; one hidden because its author is
suspended has none and may still be hidden for good.
"""

from __future__ import annotations

from dailypapers.discussion.comments import Comment


def moderation_html(c: Comment, *, signed_in: bool, moderator: bool, field: str) -> str:
    """The comment's report or hide/unhide form ("" for nobody signed in, or deleted)."""
    if not signed_in or c.deleted:
        return ""
    if moderator:
        action, summary, button = (
            ("unhide", "Unhide", "Show it again")
            if c.hidden_reason
            else ("hide", "Hide", "Hide the comment")
        )
        return (
            '    <details class="moderate">\n'
            f"      <summary>{summary}</summary>\n"
            f'      <form method="post" action="/moderation/comments/{c.id}/{action}" '
            f'class="inline-form">{field}\n'
            f'        <label for="moderate-{c.id}">Reason</label>\n'
            f'        <input id="moderate-{c.id}" name="reason" required maxlength="500">\n'
            f'        <button type="submit">{button}</button>\n'
            "      </form>\n"
            "    </details>\n"
        )
    if not c.visible:
        return ""
    return (
        '    <details class="report">\n'
        "      <summary>Report</summary>\n"
        f'      <form method="post" action="/comments/{c.id}/report" class="inline-form">'
        f"{field}\n"
        f'        <label for="report-{c.id}">Why should a moderator look at it?</label>\n'
        f'        <input id="report-{c.id}" name="reason" required maxlength="500">\n'
        '        <button type="submit">Send the report</button>\n'
        "      </form>\n"
        "    </details>\n"
    )
