"""Papers keep their Hugging Face comment count and their feed day (indexed); the newest
paper and vector times are indexed.

The feed day was computed in every query (COALESCE of three columns), which no index can
serve: a day's page scanned every paper. It is now stored when a paper is written
(``dailypapers.paper.feed_day``) and filled in here for the papers already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("hf_comments", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("feed_day", sa.Date(), nullable=True))
    # The rule of paper.feed_day, once, in SQL: date() is the same on SQLite and PostgreSQL.
    op.execute(
        "UPDATE papers SET feed_day = COALESCE(first_listed_on, featured_on, date(submitted_at))"
    )
    op.create_index(op.f("ix_papers_feed_day"), "papers", ["feed_day"])
    # change_stamp reads the newest paper and vector times every few seconds: keep it O(1).
    op.create_index(op.f("ix_papers_updated_at"), "papers", ["updated_at"])
    op.create_index(op.f("ix_paper_vectors_created_at"), "paper_vectors", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_vectors_created_at"), table_name="paper_vectors")
    op.drop_index(op.f("ix_papers_updated_at"), table_name="papers")
    op.drop_index(op.f("ix_papers_feed_day"), table_name="papers")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("feed_day")
        batch.drop_column("hf_comments")
