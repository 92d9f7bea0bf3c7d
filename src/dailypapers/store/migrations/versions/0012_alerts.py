"""Saved-search alerts and what they found (``alerts``, ``alert_matches``), and an index on
``papers.created_at`` (each run reads the papers new since the last).

Revision ID: 0012_alerts
Revises: 0011_collections
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_alerts"
down_revision = "0011_collections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_papers_created_at"), "papers", ["created_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("feed_key", sa.String(length=64), nullable=False),
        sa.Column("checked_until", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )  # fmt: skip
    op.create_index(op.f("ix_alerts_user_id"), "alerts", ["user_id"])
    op.create_table(
        "alert_matches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_matches_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"], name=op.f("fk_alert_matches_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_matches")),
        sa.UniqueConstraint(
            "alert_id", "paper_id", name=op.f("uq_alert_matches_alert_id_paper_id")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_alert_matches_status_not_before"), "alert_matches", ["status", "not_before"]
    )
    op.create_index(
        op.f("ix_alert_matches_alert_id_created_at"), "alert_matches", ["alert_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_matches_alert_id_created_at"), table_name="alert_matches")
    op.drop_index(op.f("ix_alert_matches_status_not_before"), table_name="alert_matches")
    op.drop_table("alert_matches")
    op.drop_index(op.f("ix_alerts_user_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_papers_created_at"), table_name="papers")
