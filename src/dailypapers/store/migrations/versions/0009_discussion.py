"""Comments on paper pages and their earlier versions, each paper's count of visible ones,
and the papers members marked "not interested".

``papers.local_comments`` is kept with each comment's write (like ``local_upvotes``), so a
list of papers shows numComments without counting rows.

Revision ID: 0009_discussion
Revises: 0008_vote_clock
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_discussion"
down_revision = "0008_vote_clock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch (see 0007_perf): a batch would copy ``papers`` and the
    # drop of the old one would cascade to everything that hangs off it.
    op.add_column(
        "papers", sa.Column("local_comments", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("hidden_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"], name=op.f("fk_comments_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["comments.id"], name=op.f("fk_comments_parent_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hidden_by"], ["users.id"], name=op.f("fk_comments_hidden_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )  # fmt: skip
    op.create_index(op.f("ix_comments_paper_id_created_at"), "comments", ["paper_id", "created_at"])
    op.create_index(op.f("ix_comments_user_id_created_at"), "comments", ["user_id", "created_at"])
    op.create_index(op.f("ix_comments_parent_id"), "comments", ["parent_id"])
    op.create_table(
        "comment_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_versions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_versions")),
    )  # fmt: skip
    op.create_index(op.f("ix_comment_versions_comment_id"), "comment_versions", ["comment_id"])
    op.create_table(
        "not_interested",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_not_interested_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"], name=op.f("fk_not_interested_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_not_interested")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("not_interested")
    op.drop_index(op.f("ix_comment_versions_comment_id"), table_name="comment_versions")
    op.drop_table("comment_versions")
    op.drop_index(op.f("ix_comments_parent_id"), table_name="comments")
    op.drop_index(op.f("ix_comments_user_id_created_at"), table_name="comments")
    op.drop_index(op.f("ix_comments_paper_id_created_at"), table_name="comments")
    op.drop_table("comments")
    op.drop_column("papers", "local_comments")
