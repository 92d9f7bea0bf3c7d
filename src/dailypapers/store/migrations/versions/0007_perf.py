"""Papers keep their authors, categories and first code link on their own row.

A page of papers read them from three child tables (the authors' join alone was the largest
part of a daily page's SQL); they are now copied onto the paper when it is written
(``store.papers``) and read with it (``store.entries``). The child tables stay the source of
truth for author pages, claims and merges; this fills the copies of the papers already
stored, in batches, from them.

Revision ID: 0007_perf
Revises: 0006_oauth_claims
Create Date: 2026-12-01
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dailypapers.paper import web_url

revision = "0007_perf"
down_revision = "0006_oauth_claims"
branch_labels = None
depends_on = None

BATCH = 5000


def _grouped(connection: sa.Connection, query: str, ids: Sequence[str]) -> dict[str, list[str]]:
    """Values of ``query`` (paper id, position, value; ``:ids`` expanding) per paper, in order."""
    statement = sa.text(query).bindparams(sa.bindparam("ids", expanding=True))
    found: dict[str, list[tuple[int, str]]] = {}
    for paper_id, position, value in connection.execute(statement, {"ids": list(ids)}):
        found.setdefault(paper_id, []).append((position, value))
    return {key: [value for _position, value in sorted(rows)] for key, rows in found.items()}


def _fill(connection: sa.Connection, ids: Sequence[str]) -> None:
    names = _grouped(
        connection,
        "SELECT pa.paper_id, pa.position, a.name FROM paper_authors pa"
        " JOIN authors a ON a.id = pa.author_id WHERE pa.paper_id IN :ids",
        ids,
    )
    categories = _grouped(
        connection,
        "SELECT paper_id, position, category FROM paper_categories WHERE paper_id IN :ids",
        ids,
    )
    code = _grouped(
        connection,
        "SELECT paper_id, position, url FROM paper_links WHERE kind = 'code' AND paper_id IN :ids",
        ids,
    )
    rows = [
        {
            "key": paper_id,
            "authors": json.dumps(names.get(paper_id, []), ensure_ascii=False),
            "categories": json.dumps(categories.get(paper_id, []), ensure_ascii=False),
            "code": next(filter(None, map(web_url, code.get(paper_id, []))), None),
        }
        for paper_id in ids
    ]
    connection.execute(
        sa.text(
            "UPDATE papers SET authors_json = :authors, categories_json = :categories,"
            " code_link = :code WHERE arxiv_id = :key"
        ),
        rows,
    )


# Plain ALTER TABLE, not a batch: SQLite (3.35 and later) adds and drops a column in place,
# whereas a batch copies the table, and dropping the old ``papers`` would cascade to its
# authors, categories and links.
COLUMNS = ("authors_json", "categories_json", "code_link")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("papers", sa.Column(name, sa.Text(), nullable=True))
    connection = op.get_bind()
    ids = list(connection.execute(sa.text("SELECT arxiv_id FROM papers")).scalars())
    for start in range(0, len(ids), BATCH):
        _fill(connection, ids[start : start + BATCH])


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("papers", name)
