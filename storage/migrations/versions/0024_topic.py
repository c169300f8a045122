"""discussion topics (issue 13): a topic, its supporters and followers, and the meetups
planned from it"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0024"
down_revision: str | None = "0023"


def upgrade() -> None:
    moment = storage.types.UTCDateTime(timezone=True)
    op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("title_folded", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("opened_at", moment, nullable=True),
        sa.Column("closed_at", moment, nullable=True),
        sa.Column("home_platform", sa.String(length=16), nullable=False),
        sa.Column("home_place", sa.String(length=255), nullable=False),
        sa.Column("place_platform", sa.String(length=16), nullable=False),
        sa.Column("place_id", sa.String(length=255), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", moment, nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["circle_id"], ["circle.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_topic_state", "topic", ["state", "circle_id"], unique=False)
    op.create_index("ix_topic_title_folded", "topic", ["title_folded"], unique=False)
    op.create_index("ix_topic_place", "topic", ["place_platform", "place_id"], unique=False)
    op.create_table(
        "topic_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("supports", sa.Boolean(), nullable=False),
        sa.Column("at", moment, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic_id", "member_id"),
    )
    op.create_index("ix_topic_member_topic_id", "topic_member", ["topic_id"], unique=False)
    op.create_index("ix_topic_member_member_id", "topic_member", ["member_id"], unique=False)
    # a plain column (topics are closed, never deleted): SQLite adds it without rebuilding
    # the meetup table and its search triggers
    op.add_column("meetup", sa.Column("topic_id", sa.Integer(), nullable=True))
    op.create_index("ix_meetup_topic_id", "meetup", ["topic_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_meetup_topic_id", table_name="meetup")
    with op.batch_alter_table("meetup") as batch:
        batch.drop_column("topic_id")
    op.drop_table("topic_member")
    op.drop_table("topic")
