"""Papers keep the Hugging Face user name of whoever featured them, beside the full name.

``featured_by`` held only the full name ("Rafal Kocielnik"); Hugging Face's API answers with
the user name ("RKocielnik") and filters ``/api/daily_papers?submitter=`` on it. The user
name (indexed, for that filter), the avatar's URL and the account type are new columns. They
cannot be derived from what is stored: importing the Hugging Face files again fills them in
(``dailypapers ingest hf-daily PATH``; the papers count as updated).

Revision ID: 0004_hf_users
Revises: 0003_jobs
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_hf_users"
down_revision = "0003_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("featured_by_user", sa.Text(), nullable=True))
        batch.add_column(sa.Column("featured_by_avatar", sa.Text(), nullable=True))
        batch.add_column(sa.Column("featured_by_type", sa.Text(), nullable=True))
    op.create_index(op.f("ix_papers_featured_by_user"), "papers", ["featured_by_user"])


def downgrade() -> None:
    op.drop_index(op.f("ix_papers_featured_by_user"), table_name="papers")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("featured_by_type")
        batch.drop_column("featured_by_avatar")
        batch.drop_column("featured_by_user")
