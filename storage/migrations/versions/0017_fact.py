"""facts of the follow-up (issue 12): the table, and the facts of what is already stored"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | None = "0016"


def upgrade() -> None:
    op.create_table(
        "fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("occurred_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("post_kind", sa.String(length=5), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("meetup_id", sa.Integer(), nullable=True),
        sa.Column("occurrence", sa.String(length=32), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("member_alias", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fact_kind", "fact", ["kind", "occurred_at"], unique=False)
    op.create_index("ix_fact_circle", "fact", ["circle_id", "occurred_at"], unique=False)
    op.create_index("ix_fact_member", "fact", ["member_id"], unique=False)
    # what the first wave stored becomes facts, as recording would have written them
    from storage.facts import backfill

    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_fact_member", table_name="fact")
    op.drop_index("ix_fact_circle", table_name="fact")
    op.drop_index("ix_fact_kind", table_name="fact")
    op.drop_table("fact")
