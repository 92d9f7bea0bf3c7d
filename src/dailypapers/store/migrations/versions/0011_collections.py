"""Members' collections (named reading lists) and their items (position, note, added_at).

Revision ID: 0011_collections
Revises: 0010_moderation
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_collections"
down_revision = "0010_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_collections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("user_id", "slug", name=op.f("uq_collections_user_id_slug")),
    )  # fmt: skip
    op.create_table(
        "collection_items",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["collections.id"],
            name=op.f("fk_collection_items_collection_id_collections"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.arxiv_id"],
            name=op.f("fk_collection_items_paper_id_papers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name=op.f("pk_collection_items")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_collection_items_collection_id_position"),
        "collection_items",
        ["collection_id", "position"],
    )
    op.create_index(op.f("ix_collection_items_paper_id"), "collection_items", ["paper_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_collection_items_paper_id"), table_name="collection_items")
    op.drop_index(op.f("ix_collection_items_collection_id_position"), table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_table("collections")
