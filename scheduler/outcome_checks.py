""" "Did it work out?": the periodic job that asks, reminds once, and gives up.

Every few minutes (scheduler/service.py), in the instance that leads the periodic jobs:

1. checks whose lease ran out (an instance died while sending them) go back to pending;
2. checks reminded ``ask_give_up_days`` ago without an answer become "unknown", each with its
   outcome_answered fact, in the transaction that closes them (nothing is sent);
3. due questions (``ask_after_days`` after the introduction, the response or the filled slot)
   and due reminders (``ask_reminder_days`` after the question) are claimed — one conditional
   UPDATE, ``pending`` → ``sending``, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL — and committed;
4. each goes out as a direct message through the Notifier with an idempotency key
   (``outcome:<check>:<round>:<ask|remind>``), with three actions standing for
   ``followup answer <check> work|talking|no``;
5. the rows this instance still holds move on (asked / reminded, and when their next step is).

So a question is claimed by one instance (or thread) only; a restart finds it either pending
(not sent: it is sent) or asked (sent: never again); one that died between sending and
marking is sent again after its lease with the same key, which the platforms drop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.i18n import N_, Translator
from bot.notifier import MemberTarget, Notification
from bot.reply import Action, ActionStyle, Reply, Visibility
from bot.services import Services
from storage import outcome_checks as store
from storage.board import Post
from storage.identity import Member
from storage.outcome_checks import OutcomeCheck
from storage.projects import Project, ProjectSlot

log = logging.getLogger(__name__)

BATCH = 200
ANSWER_LABELS = {
    store.WORK: N_("Yes, it led to work"),
    store.TALKING: N_("Still talking"),
    store.NO: N_("No"),
}
ANSWER_STYLES = {
    store.WORK: (ActionStyle.SUCCESS, "✅"),
    store.TALKING: (ActionStyle.PRIMARY, "💬"),
    store.NO: (ActionStyle.DANGER, "❌"),
}


def answer_actions(t: Translator, check_id: int, numbered: bool = False) -> tuple[Action, ...]:
    """The three answers as buttons (reactions on Matrix); ``numbered``: labels that name the
    question, without emoji (several questions in one message)."""
    actions = []
    for outcome, label in ANSWER_LABELS.items():
        style, emoji = ANSWER_STYLES[outcome]
        shown = f"#{check_id}: {t(label)}" if numbered else t(label)
        actions.append(
            Action(shown, f"followup answer {check_id} {outcome}", style, "" if numbered else emoji)
        )
    return tuple(actions)


def describe(session: Session, t: Translator, check: OutcomeCheck) -> str:
    """What the question is about, in the member's language."""
    other = session.get(Member, check.other_id) if check.other_id else None
    name = other.display_name if other else "—"
    if check.subject == store.SLOT:
        project = session.get(Project, check.project_id) if check.project_id else None
        slot = session.get(ProjectSlot, check.slot_id) if check.slot_id else None
        return t(
            N_("Did it work out with {name}, in the project “{title}” as {role}?"),
            name=name,
            title=project.title if project else "—",
            role=slot.role if slot else "—",
        )
    post = session.get(Post, check.post_id) if check.post_id else None
    message = (
        N_("You were introduced to {name} about “{title}” (post #{number}). Did it work out?")
        if check.subject == store.INTRODUCTION
        else N_("Did it work out with {name}, about “{title}” (post #{number})?")
    )
    return t(message, name=name, title=post.title if post else "—", number=check.post_id)


def question_reply(
    session: Session, t: Translator, check: OutcomeCheck, reminder: bool = False
) -> Reply:
    """The question as a direct message, with its three answers."""
    assert check.id is not None
    text = (
        describe(session, t, check)
        + "\n"
        + t(
            N_("Tap an answer, or say {command}."),
            command=f"`!followup answer {check.id} work|talking|no`",
        )
    )
    return Reply(
        title=t(N_("Reminder: did it work out? (#{number})"), number=check.id)
        if reminder
        else t(N_("Did it work out? (#{number})"), number=check.id),
        text=text,
        actions=answer_actions(t, check.id),
        visibility=Visibility.DIRECT,
    )


class _Batch:
    """What one run claimed: the notifications, and which checks each was (ask or remind)."""

    def __init__(self) -> None:
        self.plans: list[tuple[Notification, int, bool]] = []  # (message, check, reminder)
        self.closed = 0


def _claim(services: Services, instance: str) -> _Batch:
    now = services.clock.now()
    lease = _lease(services)
    batch = _Batch()
    with services.database.session() as session:
        released = store.release_expired(session, now, lease)
    if released:
        log.warning("outcome checks: %s taken over after their lease ran out", released)
    with services.database.session() as session:
        batch.closed = len(store.give_up(session, now, BATCH))
    with services.database.session() as session:
        for check in store.claim_due(session, now, BATCH, instance):
            assert check.id is not None
            member = session.get(Member, check.member_id)
            t = services.translator_for(member)
            reminder = check.stage == store.ASKED
            step = "remind" if reminder else "ask"
            batch.plans.append(
                (
                    Notification(
                        MemberTarget(check.member_id),
                        question_reply(session, t, check, reminder),
                        key=f"outcome:{check.id}:{check.rounds}:{step}",
                    ),
                    check.id,
                    reminder,
                )
            )
    return batch


def _lease(services: Services) -> timedelta:
    return timedelta(seconds=services.settings.reminder_lease_seconds)


def _renew(services: Services, held: list[int], instance: str) -> None:
    with services.database.session() as session:
        store.renew_leases(session, held, services.clock.now(), instance)


def _finish(services: Services, asked: list[int], reminded: list[int], instance: str) -> int:
    followup = services.settings.followup
    now: datetime = services.clock.now()
    with services.database.session() as session:
        return store.finish_sent(
            session,
            asked,
            reminded,
            now,
            instance,
            timedelta(days=followup.ask_reminder_days),
            timedelta(days=followup.ask_give_up_days),
        )


async def ask_due(services: Services, instance: str | None = None) -> int:
    """Send the due questions and reminders, close the unanswered ones as "unknown"; returns
    how many messages went out (``instance``: whose lease, this app's by default)."""
    holder = instance or services.instance_id
    batch = await asyncio.to_thread(_claim, services, holder)
    if batch.closed:
        log.info("outcome checks: %s closed as unknown", batch.closed)
    if not batch.plans:
        return 0
    held = [check_id for _, check_id, _ in batch.plans]
    renew_every = _lease(services).total_seconds() / 3
    renewed = time.monotonic()
    asked: list[int] = []
    reminded: list[int] = []
    for notification, check_id, reminder in batch.plans:
        if time.monotonic() - renewed >= renew_every:  # a long batch keeps its lease
            await asyncio.to_thread(_renew, services, held, holder)
            renewed = time.monotonic()
        try:
            await services.notifier.deliver(notification)
        except Exception:
            log.exception("outcome question to %s failed", notification.target)
        # asked even when nobody could be reached: it waits in `followup pending`, and
        # after the reminder and the last wait it is "unknown"
        (reminded if reminder else asked).append(check_id)
    marked = await asyncio.to_thread(_finish, services, asked, reminded, holder)
    if marked < len(held):
        log.warning(
            "outcome checks: %s answered meanwhile or taken over by another instance",
            len(held) - marked,
        )
    return len(held)
