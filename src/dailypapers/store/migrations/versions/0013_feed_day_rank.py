"""A day's papers are ranked from an index alone: the feed day's index also holds the sort
keys (upvotes imported and local, submission time) and the id, so the page statement of
``store.entries`` sorts a day's few hundred papers without reading their rows (abstracts
and all), only the page's fifty. It replaces the feed day's single-column index, which it
serves as well (its first column).

Revision ID: 0013_feed_day_rank
Revises: 0012_alerts
Create Date: 2026-12-01
"""

from alembic import op

revision = "0013_feed_day_rank"
down_revision = "0012_alerts"
branch_labels = None
depends_on = None

RANK_COLUMNS = ["feed_day", "hf_upvotes", "local_upvotes", "submitted_at", "arxiv_id"]


def upgrade() -> None:
    op.create_index("ix_papers_feed_day_rank", "papers", RANK_COLUMNS)
    op.drop_index("ix_papers_feed_day", table_name="papers")


def downgrade() -> None:
    op.create_index("ix_papers_feed_day", "papers", ["feed_day"])
    op.drop_index("ix_papers_feed_day_rank", table_name="papers")
