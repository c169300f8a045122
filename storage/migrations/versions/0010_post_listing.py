"""board list: post_listing, one row per open post and per combination of list filters"""

import hashlib
from itertools import combinations

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"

# frozen copy of storage.listing as it was at this revision
FILTERS = ("kind", "category", "sector", "region")


def facet_of(filters: dict[str, str]) -> int:
    chosen = "\x1f".join(f"{name}={filters[name]}" for name in FILTERS if filters.get(name))
    digest = hashlib.blake2b(chosen.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def facets_of(values: dict[str, str]) -> set[int]:
    present = [name for name in FILTERS if values.get(name)]
    return {
        facet_of({name: values[name] for name in subset})
        for size in range(len(present) + 1)
        for subset in combinations(present, size)
    }


def upgrade() -> None:
    listing = op.create_table(
        "post_listing",
        sa.Column("facet", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("facet", "created_at", "post_id"),
    )
    op.create_index(op.f("ix_post_listing_post_id"), "post_listing", ["post_id"])
    post = sa.table(
        "post",
        *(sa.column(name) for name in ("id", "status", *FILTERS)),
        sa.column("created_at", storage.types.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows: list[dict[str, object]] = []
    for found in connection.execute(sa.select(post).where(post.c.status == "open")):
        values = {name: getattr(found, name) for name in FILTERS}
        rows.extend(
            {"facet": facet, "created_at": found.created_at, "post_id": found.id}
            for facet in facets_of(values)
        )
        if len(rows) >= 16_000:
            op.bulk_insert(listing, rows)
            rows = []
    if rows:
        op.bulk_insert(listing, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_post_listing_post_id"), table_name="post_listing")
    op.drop_table("post_listing")
