"""link codes: wrong tries are counted per member (link_attempt) and per code (wrong_tries)"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"


def upgrade() -> None:
    op.create_table(
        "link_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("tried_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_link_attempt_member_tried", "link_attempt", ["member_id", "tried_at"], unique=False
    )
    with op.batch_alter_table("link_code", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wrong_tries", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("link_code", schema=None) as batch_op:
        batch_op.drop_column("wrong_tries")
    op.drop_index("ix_link_attempt_member_tried", table_name="link_attempt")
    op.drop_table("link_attempt")
