"""search documents on PostgreSQL: a stored tsvector column with its own GIN index

The expression index of 0002 made every search recompute ``to_tsvector`` for each document it
looked at (for the rank, and for every row a generic plan walked in id order). The vector is
now computed once, when a document is written, by a generated column. SQLite (FTS5) is
unchanged."""

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"

UPGRADE = (
    "ALTER TABLE search_document ADD COLUMN body_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED",
    "CREATE INDEX ix_search_document_tsv ON search_document USING gin (body_tsv)",
    "DROP INDEX IF EXISTS ix_search_document_fts",
)
DOWNGRADE = (
    "CREATE INDEX ix_search_document_fts ON search_document "
    "USING gin (to_tsvector('simple', body))",
    "DROP INDEX IF EXISTS ix_search_document_tsv",
    "ALTER TABLE search_document DROP COLUMN body_tsv",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
