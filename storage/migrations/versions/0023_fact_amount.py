"""the follow-up's reports (issue 12): each meetup_held fact carries its registered members
(fact.amount, backfilled), and the report's two scans read covering indexes"""

import sqlalchemy as sa
from alembic import op

from storage import facts

revision: str = "0023"
down_revision: str | None = "0022"

KIND_COLUMNS = ["kind", "occurred_at", "post_kind", "outcome", "circle_id", "sector", "region"]
ACTIVE_COLUMNS = ["occurred_at", "member_id", "member_alias", "circle_id", "sector", "region"]


def upgrade() -> None:
    op.add_column("fact", sa.Column("amount", sa.Integer(), nullable=True))
    op.drop_index("ix_fact_kind", table_name="fact")
    op.create_index("ix_fact_kind", "fact", [*KIND_COLUMNS, "amount"], unique=False)
    op.create_index("ix_fact_active", "fact", ACTIVE_COLUMNS, unique=False)
    facts.fill_registered(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_fact_active", table_name="fact")
    op.drop_index("ix_fact_kind", table_name="fact")
    op.create_index("ix_fact_kind", "fact", ["kind", "occurred_at"], unique=False)
    with op.batch_alter_table("fact") as batch:  # SQLite rebuilds the table without it
        batch.drop_column("amount")
