"""the follow-up's reports (issue 12): facts by sector, by region, and by meetup occurrence"""

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"


def upgrade() -> None:
    op.create_index("ix_fact_sector", "fact", ["sector", "occurred_at"], unique=False)
    op.create_index("ix_fact_region", "fact", ["region", "occurred_at"], unique=False)
    op.create_index("ix_fact_meetup", "fact", ["meetup_id", "kind", "occurrence"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fact_meetup", table_name="fact")
    op.drop_index("ix_fact_region", table_name="fact")
    op.drop_index("ix_fact_sector", table_name="fact")
