"""venue owner: who added a venue may edit it (existing venues: NULL, admins only)"""

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    # existing venues keep NULL: no owner, only admins edit them
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_venue_created_by_member", "member", ["created_by"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.drop_constraint("fk_venue_created_by_member", type_="foreignkey")
        batch_op.drop_column("created_by")
