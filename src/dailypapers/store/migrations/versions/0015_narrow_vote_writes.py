"""A vote writes fewer pages: on SQLite the votes and the rate-limit counters are tables
WITHOUT ROWID (the rows live in their primary key's b-tree, which every vote and every check
looks up, instead of in a rowid table beside it), and the index of votes by time alone goes
(no query reads it; trending counts a paper's votes since a time with the (paper, time)
index). A vote's write transaction then writes about 10 pages to SQLite's WAL instead of 12,
each copied once more at the next checkpoint. PostgreSQL only loses the unused index.

Revision ID: 0015_narrow_vote_writes
Revises: 0014_feed_day_order
Create Date: 2026-12-02
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0015_narrow_vote_writes"
down_revision = "0014_feed_day_order"
branch_labels = None
depends_on = None


def _votes(name: str, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_paper_votes_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"], name="fk_paper_votes_paper_id_papers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name="pk_paper_votes"),
        sqlite_with_rowid=with_rowid,
    )  # fmt: skip


def _limits(name: str, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("bucket", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", name="pk_rate_limits"),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild(table: str, columns: str, make: Callable[[str, bool], None], with_rowid: bool) -> None:
    """SQLite: ``table`` made again as ``make`` declares it, its rows copied (its indexes
    go with the old table: the caller makes them again)."""
    made = f"{table}_rebuilt"
    make(made, with_rowid)
    op.execute(f"INSERT INTO {made} ({columns}) SELECT {columns} FROM {table}")
    op.drop_table(table)
    op.rename_table(made, table)


VOTE_COLUMNS = "user_id, paper_id, created_at, counted"
LIMIT_COLUMNS = "bucket, window_start, hits, expires_at"


def upgrade() -> None:
    op.drop_index("ix_paper_votes_created_at", table_name="paper_votes")
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild("paper_votes", VOTE_COLUMNS, _votes, with_rowid=False)
    op.create_index("ix_paper_votes_paper_id_created_at", "paper_votes", ["paper_id", "created_at"])
    _rebuild("rate_limits", LIMIT_COLUMNS, _limits, with_rowid=False)
    op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("rate_limits", LIMIT_COLUMNS, _limits, with_rowid=True)
        op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"])
        _rebuild("paper_votes", VOTE_COLUMNS, _votes, with_rowid=True)
        op.create_index(
            "ix_paper_votes_paper_id_created_at", "paper_votes", ["paper_id", "created_at"]
        )
    op.create_index("ix_paper_votes_created_at", "paper_votes", ["created_at"])
