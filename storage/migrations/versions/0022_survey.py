"""surveys (issue 13): survey, survey_question, survey_participant, survey_response,
survey_answer"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0022"
down_revision: str | None = "0021"


def upgrade() -> None:
    moment = storage.types.UTCDateTime(timezone=True)
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("intro", sa.Text(), server_default="", nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=8), nullable=False),
        sa.Column("audience_key", sa.String(length=40), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("results_public", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("closes_at", moment, nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("opened_at", moment, nullable=True),
        sa.Column("closed_at", moment, nullable=True),
        sa.Column("remind_at", moment, nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "survey_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("choices", sa.Text(), server_default="", nullable=False),
        sa.Column("translations", sa.Text(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "position"),
    )
    op.create_table(
        "survey_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", moment, nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("draft", sa.Text(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "member_id"),
    )
    op.create_index(
        "ix_survey_participant_member_id", "survey_participant", ["member_id"], unique=False
    )
    op.create_index(
        "ix_survey_participant_state", "survey_participant", ["state", "survey_id"], unique=False
    )
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "member_id"),
    )
    op.create_index("ix_survey_response_survey_id", "survey_response", ["survey_id"], unique=False)
    op.create_table(
        "survey_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["survey_question.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["survey_response.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "question_id"),
    )
    op.create_index("ix_survey_answer_question_id", "survey_answer", ["question_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_survey_answer_question_id", table_name="survey_answer")
    op.drop_table("survey_answer")
    op.drop_index("ix_survey_response_survey_id", table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_index("ix_survey_participant_state", table_name="survey_participant")
    op.drop_index("ix_survey_participant_member_id", table_name="survey_participant")
    op.drop_table("survey_participant")
    op.drop_table("survey_question")
    op.drop_table("survey")
