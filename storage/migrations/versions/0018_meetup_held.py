"""meetups held (issue 12): one fact per occurrence, and those of the meetups already stored"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"

HELD_WHERE = "kind = 'meetup_held'"


def upgrade() -> None:
    op.create_index(
        "ux_fact_held",
        "fact",
        ["meetup_id", "occurrence"],
        unique=True,
        sqlite_where=sa.text(HELD_WHERE),
        postgresql_where=sa.text(HELD_WHERE),
    )
    # the occurrences that took place before now: expanded as the scheduler's job does
    from scheduler.held import backfill_held

    backfill_held(op.get_bind(), datetime.now(UTC))


def downgrade() -> None:
    op.drop_index("ux_fact_held", table_name="fact")
    op.execute(sa.text(f"DELETE FROM fact WHERE {HELD_WHERE}"))
