"""search documents: only open posts are indexed, so is_open goes"""

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"


def upgrade() -> None:
    documents = sa.table("search_document", sa.column("is_open", sa.Boolean))
    op.execute(documents.delete().where(documents.c.is_open == sa.false()))
    op.drop_index("ix_search_document_open", table_name="search_document")
    if op.get_bind().dialect.name == "sqlite":
        # a native DROP COLUMN keeps the FTS5 triggers on the table (a batch rebuild would not)
        op.execute("ALTER TABLE search_document DROP COLUMN is_open")
    else:
        op.drop_column("search_document", "is_open")


def downgrade() -> None:
    op.add_column(
        "search_document",
        sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_index(
        "ix_search_document_open", "search_document", ["is_open", "kind", "created_at"]
    )
