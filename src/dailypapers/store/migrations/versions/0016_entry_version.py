"""Each paper carries the version of what its entry shows (``papers.entry_version``), which
the database draws anew whenever one of those columns changes, whoever writes it: triggers,
so no writer can forget. A page of papers then reads each paper's version, upvotes and
submission (a narrow row), and the whole row only for a paper whose kept entry is of
another version (``store.entries``): a day's page read 50 rows of 22 columns (abstracts and
all) on every request.

A version is a random 64-bit number (PostgreSQL: 52 random bits), not a count: a paper
deleted and stored again (a removed submission, submitted anew), a database copied, restored
or made afresh under the same name, must never bring back a version a process kept for
other words; a count would start again from the same numbers. Two versions of one paper
are equal with odds of 2^-52 at worst.

A vote moves ``local_upvotes`` alone, which is not covered: it is read with the version.

Revision ID: 0016_entry_version
Revises: 0015_narrow_vote_writes
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_entry_version"
down_revision = "0015_narrow_vote_writes"
branch_labels = None
depends_on = None

# What a page's entry shows of the row beside its id and local upvotes (store.entries):
# tests/store/test_entries.py checks that each of the columns the entries read moves it.
SHOWN = (
    "title", "abstract", "feed_day", "hf_upvotes", "hf_comments", "local_comments",
    "github_repo", "github_stars", "project_page", "submitted_at", "featured_on",
    "featured_by", "featured_by_user", "featured_by_avatar", "featured_by_type",
    "authors_json", "categories_json", "code_link",
)  # fmt: skip

_SQLITE_DRAW = "UPDATE papers SET entry_version = random() WHERE rowid = NEW.rowid;"
# random() is a double in [0, 1) with 52 random bits: scaled onto the 64-bit range.
_POSTGRES_RANDOM = "(random() * 9.2e18 - 4.6e18)::bigint"
_POSTGRES_DRAW = f"""
CREATE FUNCTION papers_draw_entry_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.entry_version := {_POSTGRES_RANDOM};
    RETURN NEW;
END
$$
"""


def _sqlite() -> None:
    op.execute("UPDATE papers SET entry_version = random()")
    op.execute(
        "CREATE TRIGGER papers_entry_version_insert AFTER INSERT ON papers"
        f" BEGIN {_SQLITE_DRAW} END"
    )
    changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in SHOWN)
    op.execute(
        f"CREATE TRIGGER papers_entry_version_update AFTER UPDATE OF {', '.join(SHOWN)} ON papers"
        f" WHEN {changed} BEGIN {_SQLITE_DRAW} END"
    )


def _postgres() -> None:
    op.execute(f"UPDATE papers SET entry_version = {_POSTGRES_RANDOM}")
    op.execute(_POSTGRES_DRAW)
    op.execute(
        "CREATE TRIGGER papers_entry_version_insert BEFORE INSERT ON papers"
        " FOR EACH ROW EXECUTE FUNCTION papers_draw_entry_version()"
    )
    before = ", ".join(f"OLD.{name}" for name in SHOWN)
    after = ", ".join(f"NEW.{name}" for name in SHOWN)
    op.execute(
        f"CREATE TRIGGER papers_entry_version_update BEFORE UPDATE OF {', '.join(SHOWN)}"
        f" ON papers FOR EACH ROW WHEN (ROW({before}) IS DISTINCT FROM ROW({after}))"
        " EXECUTE FUNCTION papers_draw_entry_version()"
    )


def upgrade() -> None:
    op.add_column(
        "papers",
        sa.Column("entry_version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite()
    else:
        _postgres()


def downgrade() -> None:
    on_papers = "" if op.get_bind().dialect.name == "sqlite" else " ON papers"
    op.execute("DROP TRIGGER papers_entry_version_update" + on_papers)
    op.execute("DROP TRIGGER papers_entry_version_insert" + on_papers)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION papers_draw_entry_version()")
    # Not batch mode: copying the table would lose the day order index (SQLite cannot
    # reflect an index on expressions); SQLite drops a column itself since 3.35.
    op.execute("ALTER TABLE papers DROP COLUMN entry_version")
