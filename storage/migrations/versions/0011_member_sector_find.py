"""members find: member_sector carries the member's region and folded name, indexed by sector"""

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"


def upgrade() -> None:
    with op.batch_alter_table("member_sector", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("name_folded", sa.String(length=80), server_default="", nullable=False)
        )
        batch_op.drop_index("ix_member_sector_sector")
    sector = sa.table(
        "member_sector", sa.column("member_id"), sa.column("region"), sa.column("name_folded")
    )
    member = sa.table("member", sa.column("id"), sa.column("region"), sa.column("name_folded"))
    op.execute(
        sector.update().values(
            region=sa.select(member.c.region)
            .where(member.c.id == sector.c.member_id)
            .scalar_subquery(),
            name_folded=sa.select(member.c.name_folded)
            .where(member.c.id == sector.c.member_id)
            .scalar_subquery(),
        )
    )
    with op.batch_alter_table("member_sector", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_sector_name", ["sector", "name_folded", "member_id"], unique=False
        )
        batch_op.create_index(
            "ix_member_sector_region_name",
            ["sector", "region", "name_folded", "member_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("member_sector", schema=None) as batch_op:
        batch_op.drop_index("ix_member_sector_region_name")
        batch_op.drop_index("ix_member_sector_name")
        batch_op.create_index("ix_member_sector_sector", ["sector", "member_id"], unique=False)
        batch_op.drop_column("name_folded")
        batch_op.drop_column("region")
