"""the audit trail of admins' and animators' actions on others' data"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_member_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["target_member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at", "id"], unique=False)
    op.create_index("ix_audit_entry_actor", "audit_entry", ["actor_id", "at"], unique=False)
    op.create_index(
        "ix_audit_entry_target", "audit_entry", ["target_member_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entry_target", table_name="audit_entry")
    op.drop_index("ix_audit_entry_actor", table_name="audit_entry")
    op.drop_index("ix_audit_entry_at", table_name="audit_entry")
    op.drop_table("audit_entry")
