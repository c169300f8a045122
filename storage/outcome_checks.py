""" "Did it work out?": one question per (subject, member), durable, asked once.

A *check* is the question one member is asked about one subject: an answer to a post (a
response, or the introduction it became once the author accepted it) or a filled project slot.
Both people are asked, each by a check of their own: the post's author and the responder, the
project's lead and the slot's member. A check is made in the transaction of what it is about
(``board respond``, ``board intro … accept``, a slot filled), unique per (subject, member):
whatever happens twice, nobody is asked twice.

A response and the introduction it became are one subject (``response:<id>``): accepted, its
checks become the introduction's (asked ``ask_after_days`` after the introduction, unless
already asked); declined, its checks not yet asked are cancelled (nothing worked out to ask
about).

Life of a check (``state``, ``stage``)::

    pending/0 --due--> sending --sent--> pending/1 --reminder_days--> sending --> pending/2
       ^                                     |                                      |
       |  "talking" (first time)             | answer                   give_up_days|
       +------------------------------------ answered <------ late answer ---- unknown

A claim (``pending`` → ``sending``) is a lease like the reminder outbox's (storage/meetups.py):
one conditional UPDATE picks and claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
the message goes out after the commit with an idempotency key, and the row moves on only if
this instance still holds it. A lease that ran out (an instance died mid-send) goes back to
pending and is sent again with the same key, which the platforms use to drop a duplicate.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    ColumnElement,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    case,
    literal,
)
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select

from storage import facts, leases
from storage.identity import member_fk
from storage.types import UTCDateTime, optional_fk

# what a check is about
INTRODUCTION = "introduction"
RESPONSE = "response"
SLOT = "slot"
# states
PENDING = "pending"  # waiting for its next step (ask, reminder, give-up) at next_at
SENDING = "sending"  # claimed by an instance that is sending the question now
ANSWERED = "answered"
UNKNOWN = "unknown"  # no answer after the reminder
CANCELLED = "cancelled"
# stages (of a pending or sending check)
NOT_ASKED, ASKED, REMINDED = 0, 1, 2
# answers
WORK, TALKING, NO = "work", "talking", "no"
ANSWERS = (WORK, TALKING, NO)
# "still talking" is asked once more; the answer after that is final
MAX_ROUNDS = 1
# an answer may be changed (or given late, after "unknown") this long after the last one
CHANGE_DAYS = 30


class OutcomeCheck(SQLModel, table=True):
    __tablename__ = "outcome_check"
    __table_args__ = (
        UniqueConstraint("subject_key", "member_id", name="uq_outcome_check_subject_member"),
        Index("ix_outcome_check_due", "state", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk(index=True))  # who is asked
    other_id: int | None = Field(default=None, sa_column=optional_fk("member"))  # with whom
    subject: str = Field(sa_column=Column(String(12), nullable=False))
    subject_key: str = Field(sa_column=Column(String(40), nullable=False))
    post_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    project_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    slot_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    post_kind: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # the first question
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # the next step
    stage: int = Field(default=NOT_ASKED, nullable=False)
    rounds: int = Field(default=0, nullable=False)  # times asked again after "talking"
    state: str = Field(default=PENDING, sa_column=Column(String(10), nullable=False))
    asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    answer: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # the outcome_answered fact of the current answer: a new answer replaces it
    fact_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))

    @property
    def is_open(self) -> bool:
        """Asked, and waiting for the member's answer."""
        return self.state in (PENDING, SENDING) and self.stage >= ASKED


CHECK = OutcomeCheck.__table__  # type: ignore[attr-defined]


def _insert(session: Session):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(OutcomeCheck)


def plan(
    session: Session,
    subject: str,
    subject_key: str,
    people: tuple[tuple[int, int | None], ...],
    now: datetime,
    after: timedelta,
    **about: object,
) -> None:
    """Ask each of ``people`` (member, the other one) about this subject ``after`` from now;
    nothing for whom a check of this subject exists already."""
    due = now + after
    rows = [
        {
            "member_id": member_id,
            "other_id": other_id,
            "subject": subject,
            "subject_key": subject_key,
            "created_at": now,
            "due_at": due,
            "next_at": due,
            "stage": NOT_ASKED,
            "rounds": 0,
            "state": PENDING,
            **about,
        }
        for member_id, other_id in sorted(people)  # one order: no deadlock between two
    ]
    statement = _insert(session).on_conflict_do_nothing(index_elements=("subject_key", "member_id"))
    session.execute(statement, rows)


def introduced(
    session: Session,
    subject_key: str,
    people: tuple[tuple[int, int | None], ...],
    now: datetime,
    after: timedelta,
    **about: object,
) -> None:
    """A response became an introduction: its checks are the introduction's, asked ``after``
    from now (those already asked stay as they are); checks missing are made."""
    due = now + after
    session.execute(
        sa_update(OutcomeCheck)
        .where(
            col(OutcomeCheck.subject_key) == subject_key,
            col(OutcomeCheck.state) == PENDING,
            col(OutcomeCheck.stage) == NOT_ASKED,
            col(OutcomeCheck.rounds) == 0,
        )
        .values(subject=INTRODUCTION, due_at=due, next_at=due)
    )
    plan(session, INTRODUCTION, subject_key, people, now, after, **about)


def cancel_unasked(session: Session, subject_key: str) -> int:
    """Nothing to ask about any more (a declined response): checks not asked yet go."""
    result = session.execute(
        sa_update(OutcomeCheck)
        .where(
            col(OutcomeCheck.subject_key) == subject_key,
            col(OutcomeCheck.state) == PENDING,
            col(OutcomeCheck.stage) == NOT_ASKED,
        )
        .values(state=CANCELLED)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def open_checks(session: Session, member_id: int, limit: int = 10) -> list[OutcomeCheck]:
    """The member's questions waiting for an answer, oldest first."""
    return list(
        session.exec(
            select(OutcomeCheck)
            .where(
                col(OutcomeCheck.member_id) == member_id,
                col(OutcomeCheck.state).in_((PENDING, SENDING)),
                col(OutcomeCheck.stage) >= ASKED,
            )
            .order_by(col(OutcomeCheck.asked_at), col(OutcomeCheck.id))
            .limit(limit)
        )
    )


# -- answering ----------------------------------------------------------------------------------


def record_answer(session: Session, check: OutcomeCheck, outcome: str, now: datetime) -> None:
    """The member's answer (or "unknown", by nobody) becomes the check's one outcome fact; an
    earlier answer's fact is replaced, so the figures count each check once, as it ended."""
    if check.fact_id is not None:
        session.execute(facts.FACT.delete().where(facts.FACT.c.id == check.fact_id))
    values = {
        "kind": facts.OUTCOME_ANSWERED,
        "occurred_at": now,
        "sector": check.sector,
        "region": check.region,
        "post_kind": check.post_kind,
        "outcome": outcome,
        "post_id": check.post_id,
        "project_id": check.project_id,
        "slot_id": check.slot_id,
        "member_id": check.member_id if outcome != UNKNOWN else None,
    }
    inserted = session.connection().execute(facts.FACT.insert().returning(facts.FACT.c.id), values)
    check.fact_id = int(inserted.scalar_one())


def answer(
    session: Session, check: OutcomeCheck, outcome: str, now: datetime, after: timedelta
) -> bool:
    """Apply the member's answer; True when it is final, False when "still talking" makes the
    question come back ``after`` from now (once)."""
    assert outcome in ANSWERS, outcome
    record_answer(session, check, outcome, now)
    check.answer, check.answered_at = outcome, now
    check.claimed_by = check.claimed_at = None
    again = outcome == TALKING and check.rounds < MAX_ROUNDS and check.state != UNKNOWN
    if again:
        check.state, check.stage, check.rounds = PENDING, NOT_ASKED, check.rounds + 1
        check.next_at = now + after
    else:
        check.state = ANSWERED
    session.add(check)
    return not again


# -- the scheduler's side -----------------------------------------------------------------------


def _due(now: datetime, stages: tuple[int, ...]) -> ColumnElement[bool]:
    return and_(
        col(OutcomeCheck.state) == PENDING,
        col(OutcomeCheck.stage).in_(stages),
        col(OutcomeCheck.next_at) <= now,
    )


def _pick(session: Session, condition: ColumnElement[bool], limit: int):  # type: ignore[no-untyped-def]
    candidates = (
        select(OutcomeCheck.id)
        .where(condition)
        .order_by(col(OutcomeCheck.next_at), col(OutcomeCheck.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    return candidates


def _fetch(session: Session, ids: list[int]) -> list[OutcomeCheck]:
    if not ids:
        return []
    return list(
        session.exec(
            select(OutcomeCheck)
            .where(col(OutcomeCheck.id).in_(ids))
            .order_by(col(OutcomeCheck.id))
            .execution_options(populate_existing=True)
        )
    )


def give_up(session: Session, now: datetime, limit: int) -> list[OutcomeCheck]:
    """Reminded and still no answer after the last wait: "unknown", with its fact; asked again
    after "still talking", that answer stands. Claimed by one conditional UPDATE: two instances
    at once never close (and count) a check twice."""
    talked = col(OutcomeCheck.answer) == TALKING
    closed = session.execute(
        sa_update(OutcomeCheck)
        .where(
            col(OutcomeCheck.id).in_(_pick(session, _due(now, (REMINDED,)), limit)),
            _due(now, (REMINDED,)),
        )
        .values(
            state=case((talked, ANSWERED), else_=UNKNOWN),
            answer=case((talked, TALKING), else_=UNKNOWN),
            answered_at=case(
                (talked, col(OutcomeCheck.answered_at)), else_=literal(now, UTCDateTime())
            ),
        )
        .returning(col(OutcomeCheck.id))
    )
    checks = [c for c in _fetch(session, [row[0] for row in closed]) if c.state == UNKNOWN]
    for check in checks:
        record_answer(session, check, UNKNOWN, now)
        session.add(check)
    session.flush()
    return checks


def claim_due(session: Session, now: datetime, limit: int, instance: str) -> list[OutcomeCheck]:
    """Due questions and reminders, leased to ``instance`` (``sending``) in this transaction,
    and only those: two instances (or threads) claiming at once never get the same row."""
    return leases.claim(
        session,
        OutcomeCheck,
        _due(now, (NOT_ASKED, ASKED)),
        (col(OutcomeCheck.next_at), col(OutcomeCheck.id)),
        limit,
        {"state": SENDING, "claimed_at": now, "claimed_by": instance},
    )


def release_expired(session: Session, now: datetime, lease: timedelta) -> int:
    """Rows whose sender died or stalled past its lease go back to pending, to be sent again
    with the same idempotency key."""
    expired = and_(col(OutcomeCheck.state) == SENDING, col(OutcomeCheck.claimed_at) < now - lease)
    statement = sa_update(OutcomeCheck).where(expired)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.exec(
                select(OutcomeCheck.id)
                .where(expired)
                .order_by(col(OutcomeCheck.id))
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return 0
        statement = statement.where(col(OutcomeCheck.id).in_(ids))
    released = session.execute(statement.values(state=PENDING, claimed_at=None, claimed_by=None))
    return int(getattr(released, "rowcount", 0) or 0)


def _held(ids: list[int], instance: str) -> tuple[ColumnElement[bool], ...]:
    return (
        col(OutcomeCheck.id).in_(ids),
        col(OutcomeCheck.state) == SENDING,
        col(OutcomeCheck.claimed_by) == instance,
    )


def renew_leases(session: Session, ids: list[int], now: datetime, instance: str) -> int:
    if not ids:
        return 0
    renewed = session.execute(
        sa_update(OutcomeCheck).where(*_held(ids, instance)).values(claimed_at=now)
    )
    return int(getattr(renewed, "rowcount", 0) or 0)


def finish_sent(
    session: Session,
    asked: list[int],
    reminded: list[int],
    now: datetime,
    instance: str,
    reminder_after: timedelta,
    give_up_after: timedelta,
) -> int:
    """The question (``asked``) or the reminder (``reminded``) went out: the check waits for
    its next step; only rows ``instance`` still holds (an answer given meanwhile stays)."""
    done = 0
    if asked:
        result = session.execute(
            sa_update(OutcomeCheck)
            .where(*_held(asked, instance))
            .values(
                state=PENDING,
                stage=ASKED,
                asked_at=now,
                next_at=now + reminder_after,
                claimed_by=None,
                claimed_at=None,
            )
        )
        done += int(getattr(result, "rowcount", 0) or 0)
    if reminded:
        result = session.execute(
            sa_update(OutcomeCheck)
            .where(*_held(reminded, instance))
            .values(
                state=PENDING,
                stage=REMINDED,
                reminded_at=now,
                next_at=now + give_up_after,
                claimed_by=None,
                claimed_at=None,
            )
        )
        done += int(getattr(result, "rowcount", 0) or 0)
    return done
