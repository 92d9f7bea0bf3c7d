"""Upvotes (one row per member and paper with its time, each paper's local count) and
members' paper submissions (one per paper, with its member and note).

``papers.local_upvotes`` is the site's own upvotes (by members not suspended), beside the
imported ``hf_upvotes``; the count shown is their sum. ``paper_votes`` keys a vote by
(user, paper), so a member votes once per paper, and keeps its time for trending's windows.

Revision ID: 0006_community
Revises: 0005_limits
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_community"
down_revision = "0005_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(
            sa.Column("local_upvotes", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "paper_votes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"], name=op.f("fk_paper_votes_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_paper_votes")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_paper_votes_paper_id_created_at"), "paper_votes", ["paper_id", "created_at"]
    )
    op.create_index(op.f("ix_paper_votes_created_at"), "paper_votes", ["created_at"])
    op.create_table(
        "paper_submissions",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"], name=op.f("fk_paper_submissions_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_submissions")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_paper_submissions_user_id_created_at"),
        "paper_submissions",
        ["user_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_submissions_user_id_created_at"), table_name="paper_submissions")
    op.drop_table("paper_submissions")
    op.drop_index(op.f("ix_paper_votes_created_at"), table_name="paper_votes")
    op.drop_index(op.f("ix_paper_votes_paper_id_created_at"), table_name="paper_votes")
    op.drop_table("paper_votes")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("local_upvotes")
