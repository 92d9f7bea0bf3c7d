"""A paper page as Markdown: sections in order, and source text that stays text."""

from __future__ import annotations

from datetime import date, datetime

from dailypapers.paper import make_record
from dailypapers.web.markdown import escape, paper_markdown


def test_escape_keeps_markup_as_text() -> None:
    assert escape("a*b_c [x](y) <script>") == r"a\*b\_c \[x\](y) \<script\>"
    assert escape("# not a heading\n- not an item") == "\\# not a heading\n\\- not an item"
    assert escape("plain words, 3.5% better") == "plain words, 3.5% better"


def test_page_sections_links_and_dates() -> None:
    record = make_record(
        "2501.00001v2",
        "Fast *and* [Cheap] <b>Models</b>",
        abstract="We show <script>alert(1)</script> nothing.",
        authors=["Ann Lee", "Bo_Li"],
        categories=["cs.CL"],
        submitted_at=datetime(2025, 1, 3, 10),
        featured_on=date(2025, 1, 9),
        featured_by="Ann Lee",
        featured_by_user="annlee",
        github_repo="https://github.com/o/r",
        github_stars=5,
    )
    text = paper_markdown(record, date(2025, 1, 6), [], "None yet.")
    assert text.startswith(r"# Fast \*and\* \[Cheap\] \<b\>Models\</b\>" + "\n")
    assert "\n- arXiv id: 2501.00001v2\n- Upvotes: 0; comments: 0\n- Categories: cs.CL\n" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Authors", "## Dates", "## Links", "## Abstract", "## Similar papers",
    ]  # fmt: skip
    assert "- Ann Lee\n- Bo\\_Li\n" in text
    assert "- Submitted: 2025-01-03\n- In the feed: [2025-01-06](/date/2025-01-06)\n" in text
    assert "- Featured on Hugging Face: 2025-01-09 by Ann Lee (annlee)\n" in text
    assert "- arXiv: <https://arxiv.org/abs/2501.00001>\n" in text
    assert "- Code: <https://github.com/o/r> (5 stars)\n" in text
    assert r"We show \<script\>alert(1)\</script\> nothing." in text and "<script>" not in text
    assert text.endswith("## Similar papers\n\nNone yet.\n")
