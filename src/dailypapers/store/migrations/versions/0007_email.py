"""Email digests: subscriptions (double opt-in).

Revision ID: 0007_email
Revises: 0006_oauth_claims
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_email"
down_revision = "0006_oauth_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_mail_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email_key"),
    )
    op.create_index(
        op.f("ix_subscriptions_status_created_at"), "subscriptions", ["status", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_subscriptions_status_created_at"), table_name="subscriptions")
    op.drop_table("subscriptions")
