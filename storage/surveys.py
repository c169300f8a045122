"""Surveys of the members' networking needs (issue 13): the survey, its questions, who is
invited, and the answers.

A survey is made (``draft``) by an animator for their circle or by an admin for a sector, a
region (with its sub-regions) or everyone; it gets questions while nobody has answered; it is
opened (``open``: every member of its audience gets a participation row, and the invitation job
sends each an invitation), and closed by hand or at its closing time (``closed``).

What is kept, and why an anonymous answer cannot be traced back:

- ``survey_participant``: one row per invited member (made for the whole audience at once, in
  member order, when the survey opens, so its order says nothing of who answered when): the
  invitation's progress and ``answered`` (so nobody answers twice), and ``draft``, the answers
  of a member who has not finished yet (so they can stop and go on later).
- ``survey_response`` and ``survey_answer``: a finished set of answers. In a named survey the
  response names the member (``member_id``) and may be changed until the close. In an
  anonymous survey the draft moves into a response that has no member, no time and no region,
  and the draft is emptied in the same transaction: nothing links the response to the
  participant, and the answer can no longer be changed (say so before the last answer).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Column, Index, String, Text, UniqueConstraint, and_, or_
from sqlalchemy import update as sa_update
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage import leases
from storage.identity import Member, member_fk
from storage.types import UTCDateTime, cascading_fk, optional_fk

# states of a survey
DRAFT, OPEN, CLOSED = "draft", "open", "closed"
# audiences
CIRCLE, SECTOR, REGION, EVERYONE = "circle", "sector", "region", "all"
# kinds of question
SINGLE, MULTIPLE, SCALE, FREE_TEXT = "single", "multiple", "scale", "text"
FORMAT, DAY, HOUR = "format", "day", "hour"  # "which format / day / hour suits you": multiple
KINDS = (SINGLE, MULTIPLE, SCALE, FREE_TEXT, FORMAT, DAY, HOUR)
CHOOSING = (SINGLE, MULTIPLE, FORMAT, DAY, HOUR)  # answered with one or more of the choices
MANY = (MULTIPLE, FORMAT, DAY, HOUR)  # more than one choice allowed
SCALE_RANGE = range(1, 6)
# states of an invitation
PENDING, SENDING, INVITED = "pending", "sending", "invited"


def survey_fk(*, index: bool = False) -> Column[int]:
    return cascading_fk("survey", index=index)


class Survey(SQLModel, table=True):
    __tablename__ = "survey"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(String(120), nullable=False))
    intro: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    language: str = Field(sa_column=Column(String(5), nullable=False))  # the texts' language
    created_by: int | None = Field(default=None, sa_column=optional_fk("member"))
    audience: str = Field(sa_column=Column(String(8), nullable=False))
    # the circle's id, the sector's or region's key; "" for everyone
    audience_key: str = Field(default="", sa_column=Column(String(40), nullable=False))
    anonymous: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # the audience sees the results after the close
    results_public: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    state: str = Field(default=DRAFT, sa_column=Column(String(8), nullable=False))
    closes_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # when the not-yet-answered are reminded (once), set at opening
    remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    reminded: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class SurveyQuestion(SQLModel, table=True):
    __tablename__ = "survey_question"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(sa_column=survey_fk())
    position: int = Field(nullable=False)  # 1, 2, … as members see them
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    text: str = Field(sa_column=Column(String(300), nullable=False))
    # the choices, one per line (choosing kinds); empty for a scale or free text
    choices: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # other languages: {"fr": {"text": "…", "choices": ["…", …]}, …}
    translations: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, server_default="{}")
    )

    @property
    def choice_list(self) -> list[str]:
        return [line for line in self.choices.split("\n") if line]

    def texts_in(self, locale: str) -> tuple[str, list[str]] | None:
        """The question and its choices in ``locale``, when translated."""
        found = json.loads(self.translations or "{}").get(locale)
        if not found:
            return None
        return str(found["text"]), [str(c) for c in found.get("choices") or self.choice_list]

    def translate(self, locale: str, text: str, choices: list[str]) -> None:
        every = json.loads(self.translations or "{}")
        every[locale] = {"text": text, "choices": choices}
        self.translations = json.dumps(every, ensure_ascii=False, sort_keys=True)


class SurveyParticipant(SQLModel, table=True):
    """A member invited to a survey: the invitation's progress and the unfinished answers."""

    __tablename__ = "survey_participant"
    __table_args__ = (
        UniqueConstraint("survey_id", "member_id"),
        Index("ix_survey_participant_state", "state", "survey_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(sa_column=survey_fk())
    member_id: int = Field(sa_column=member_fk(index=True))
    state: str = Field(default=PENDING, sa_column=Column(String(8), nullable=False))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    reminded: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    answered: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # {"<question id>": "<answer>"} while not finished (an anonymous survey's is emptied then)
    draft: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))

    @property
    def draft_answers(self) -> dict[int, str]:
        return {int(key): str(value) for key, value in json.loads(self.draft or "{}").items()}

    def set_draft(self, answers: dict[int, str]) -> None:
        self.draft = json.dumps({str(k): v for k, v in sorted(answers.items())}, ensure_ascii=False)


class SurveyResponse(SQLModel, table=True):
    """One finished set of answers; ``member_id`` only in a named survey (and NULL once that
    member is forgotten)."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(sa_column=survey_fk(index=True))
    member_id: int | None = Field(default=None, sa_column=optional_fk("member"))
    # a named answer's region and first sector when it was given (for breakdowns)
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))


class SurveyAnswer(SQLModel, table=True):
    """The answer to one question: the choices' numbers ("1,3"), a scale ("4") or a text."""

    __tablename__ = "survey_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(sa_column=cascading_fk("survey_response"))
    question_id: int = Field(sa_column=cascading_fk("survey_question", index=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


def questions_of(session: Session, survey_id: int) -> list[SurveyQuestion]:
    return list(
        session.exec(
            select(SurveyQuestion)
            .where(col(SurveyQuestion.survey_id) == survey_id)
            .order_by(col(SurveyQuestion.position))
        )
    )


def has_answers(session: Session, survey_id: int) -> bool:
    """Someone has begun answering (a draft) or finished: the questions are fixed."""
    started = session.exec(
        select(SurveyParticipant.id)
        .where(
            col(SurveyParticipant.survey_id) == survey_id,
            or_(col(SurveyParticipant.answered), col(SurveyParticipant.draft) != "{}"),
        )
        .limit(1)
    ).first()
    return started is not None


def participation(
    session: Session, survey_id: int, member_id: int, lock: bool = False
) -> SurveyParticipant | None:
    """The member's invitation to the survey; ``lock``: held until the command ends
    (PostgreSQL), so two answers at once cannot both finish it."""
    query = select(SurveyParticipant).where(
        col(SurveyParticipant.survey_id) == survey_id,
        col(SurveyParticipant.member_id) == member_id,
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def named_response(session: Session, survey_id: int, member_id: int) -> SurveyResponse | None:
    return session.exec(
        select(SurveyResponse).where(
            col(SurveyResponse.survey_id) == survey_id,
            col(SurveyResponse.member_id) == member_id,
        )
    ).first()


def answers_of(session: Session, response_id: int) -> dict[int, str]:
    return {
        question_id: value
        for question_id, value in session.exec(
            select(SurveyAnswer.question_id, SurveyAnswer.value).where(
                col(SurveyAnswer.response_id) == response_id
            )
        )
    }


def save_response(
    session: Session,
    survey: Survey,
    participant: SurveyParticipant,
    answers: dict[int, str],
    region: str | None,
    sector: str | None,
) -> None:
    """The finished answers: a named response (replacing its answers), or an anonymous one
    that keeps nothing of who gave it; the participant is marked answered, its draft emptied."""
    assert survey.id is not None
    response = None
    if not survey.anonymous:
        response = named_response(session, survey.id, participant.member_id)
    if response is None:
        response = SurveyResponse(survey_id=survey.id)
        if not survey.anonymous:
            response.member_id, response.region, response.sector = (
                participant.member_id,
                region,
                sector,
            )
        session.add(response)
        session.flush()
    assert response.id is not None
    session.execute(
        SurveyAnswer.__table__.delete().where(  # type: ignore[attr-defined]
            col(SurveyAnswer.response_id) == response.id
        )
    )
    for question_id, value in sorted(answers.items()):
        session.add(SurveyAnswer(response_id=response.id, question_id=question_id, value=value))
    participant.answered = True
    participant.set_draft({})
    session.add(participant)


# -- the invitation job's side ------------------------------------------------------------------


def claim_invitations(
    session: Session, now: datetime, limit: int, instance: str
) -> list[SurveyParticipant]:
    """Invitations of open surveys still to send, leased to ``instance`` in this transaction:
    two instances claiming at once never get the same row."""
    open_surveys = select(Survey.id).where(col(Survey.state) == OPEN)
    return leases.claim(
        session,
        SurveyParticipant,
        and_(
            col(SurveyParticipant.state) == PENDING,
            col(SurveyParticipant.survey_id).in_(open_surveys),
        ),
        (col(SurveyParticipant.id),),
        limit,
        {"state": SENDING, "claimed_by": instance, "claimed_at": now},
    )


def mark_invited(session: Session, ids: list[int], instance: str) -> int:
    """The invitations this instance sent and still holds are done."""
    if not ids:
        return 0
    done = session.execute(
        sa_update(SurveyParticipant)
        .where(
            col(SurveyParticipant.id).in_(ids),
            col(SurveyParticipant.state) == SENDING,
            col(SurveyParticipant.claimed_by) == instance,
        )
        .values(state=INVITED, claimed_by=None, claimed_at=None)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def release_expired(session: Session, now: datetime, lease: timedelta) -> int:
    """Invitations whose sender died mid-batch go back to pending (sent again, same key)."""
    done = session.execute(
        sa_update(SurveyParticipant)
        .where(
            col(SurveyParticipant.state) == SENDING,
            col(SurveyParticipant.claimed_at) < now - lease,
        )
        .values(state=PENDING, claimed_by=None, claimed_at=None)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def due_to_close(session: Session, now: datetime) -> list[Survey]:
    return list(
        session.exec(select(Survey).where(col(Survey.state) == OPEN, col(Survey.closes_at) <= now))
    )


def claim_reminders(session: Session, now: datetime) -> list[tuple[Survey, list[int]]]:
    """Open surveys whose reminder is due: marked reminded in this transaction (once, by one
    instance), with the members invited who have not finished."""
    due = list(
        session.exec(
            select(Survey).where(
                col(Survey.state) == OPEN,
                col(Survey.reminded).is_(False),
                col(Survey.remind_at) <= now,
            )
        )
    )
    found = []
    for survey in due:
        taken = session.execute(
            sa_update(Survey)
            .where(col(Survey.id) == survey.id, col(Survey.reminded).is_(False))
            .values(reminded=True)
        )
        if not getattr(taken, "rowcount", 0):
            continue  # another instance reminds
        members = list(
            session.exec(
                select(SurveyParticipant.member_id).where(
                    and_(
                        col(SurveyParticipant.survey_id) == survey.id,
                        col(SurveyParticipant.answered).is_(False),
                        col(SurveyParticipant.state) == INVITED,
                    )
                )
            )
        )
        found.append((survey, members))
    return found


def count_of(session: Session, survey_id: int, answered: bool | None = None) -> int:
    query = (
        select(func.count())
        .select_from(SurveyParticipant)
        .where(col(SurveyParticipant.survey_id) == survey_id)
    )
    if answered is not None:
        query = query.where(col(SurveyParticipant.answered).is_(answered))
    return int(session.exec(query).one())


def responses_of(session: Session, survey_id: int) -> list[SurveyResponse]:
    return list(
        session.exec(
            select(SurveyResponse)
            .where(col(SurveyResponse.survey_id) == survey_id)
            .order_by(col(SurveyResponse.id))
        )
    )


def all_answers(session: Session, survey_id: int) -> list[tuple[int, int, str]]:
    """(response, question, value) of every finished answer of the survey."""
    rows = session.exec(
        select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value)
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .where(col(SurveyResponse.survey_id) == survey_id)
        .order_by(col(SurveyAnswer.response_id), col(SurveyAnswer.question_id))
    )
    return [(int(r), int(q), str(v)) for r, q, v in rows]


def response_details(
    session: Session, survey_id: int
) -> dict[int, tuple[str | None, str | None, str | None]]:
    """Each response's (region, sector, the member's name): all None for an anonymous one."""
    rows = session.exec(
        select(SurveyResponse.id, SurveyResponse.region, SurveyResponse.sector, Member.display_name)
        .outerjoin(Member, col(Member.id) == col(SurveyResponse.member_id))
        .where(col(SurveyResponse.survey_id) == survey_id)
    )
    return {int(r): (region, sector, name) for r, region, sector, name in rows if r is not None}


def response_count(session: Session, survey_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(SurveyResponse)
            .where(col(SurveyResponse.survey_id) == survey_id)
        ).one()
    )


def value_counts(session: Session, survey_id: int) -> dict[int, list[tuple[str, int]]]:
    """Per question: each distinct answer and how many gave it (counted by the database)."""
    rows = session.exec(
        select(SurveyAnswer.question_id, SurveyAnswer.value, func.count())
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .where(col(SurveyQuestion.survey_id) == survey_id)
        .group_by(col(SurveyAnswer.question_id), col(SurveyAnswer.value))
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for question_id, value, count in rows:
        found.setdefault(int(question_id), []).append((str(value), int(count)))
    return found


def text_answers(
    session: Session, question_id: int, limit: int | None
) -> list[tuple[str, str | None]]:
    """A free-text question's answers given (first ones first), with the name of who gave it
    in a named survey (None in an anonymous one)."""
    query = (
        select(SurveyAnswer.value, Member.display_name)
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .outerjoin(Member, col(Member.id) == col(SurveyResponse.member_id))
        .where(col(SurveyAnswer.question_id) == question_id, col(SurveyAnswer.value) != "")
        .order_by(col(SurveyAnswer.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return [(str(value), name) for value, name in session.exec(query)]
