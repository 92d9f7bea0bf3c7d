"""The votes' clock: one row whose count moves with every change of the votes (a vote, a
retraction, a suspension, a deleted account's votes), so the cached pages' change stamp
reads one row instead of counting every vote (it is read by each vote).

Revision ID: 0008_vote_clock
Revises: 0007_email
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_vote_clock"
down_revision = "0007_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clock = op.create_table(
        "vote_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(clock, [{"id": 1, "changes": 0}])


def downgrade() -> None:
    op.drop_table("vote_clock")
