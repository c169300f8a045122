"""Surveys: the periodic job that invites, reminds once, and closes (issue 13).

Every minute, in the instance that leads the periodic jobs:

1. invitations whose lease ran out (an instance died while sending them) go back to pending;
2. open surveys past their closing time are closed, and their makers told;
3. invitations still to send are claimed in batches (``pending`` → ``sending``, one
   conditional UPDATE, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and go out as direct messages
   with an idempotency key (``survey:<survey>:<member>:invite``), then are marked sent;
4. a survey whose reminder is due is marked reminded (once, by one instance) and the members
   invited who have not finished get one reminder (``…:remind``).

The platforms' own rate limits pace the messages (the adapters wait when told to); a batch
keeps its lease while it is being sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy import update as sa_update
from sqlmodel import Session, col

from bot.config import Settings
from bot.i18n import N_, Translator
from bot.notifier import MemberTarget, Notification
from bot.reply import Action, ActionStyle, Reply, Visibility
from bot.services import Services
from storage import surveys as store
from storage.circles import Circle
from storage.identity import Member
from storage.surveys import Survey, SurveyParticipant

log = logging.getLogger(__name__)

BATCH = 500


def audience_name(settings: Settings, session: Session, survey: Survey, t: Translator) -> str:
    """Who a survey is for, in ``t``'s language: the circle's name, the sector or region, or
    everyone."""
    if survey.audience == store.CIRCLE:
        circle = session.get(Circle, int(survey.audience_key))
        return circle.name if circle else "—"
    if survey.audience == store.EVERYONE:
        return t(N_("everyone"))
    terms = settings.sectors if survey.audience == store.SECTOR else settings.regions
    for term in terms:
        if term.key == survey.audience_key:
            return term.label(t.locale)
    return survey.audience_key


def language_note(t: Translator, survey: Survey) -> str:
    """Said when the reader's language is not the one the survey was written in."""
    if survey.language == t.locale:
        return ""
    return t(N_("(Written in {language}.)"), language=t.language_name(survey.language))


def invitation_reply(
    settings: Settings, session: Session, survey: Survey, t: Translator, reminder: bool = False
) -> Reply:
    """The direct message that invites a member (or reminds them), in their language."""
    assert survey.id is not None
    day = t.date(survey.closes_at.astimezone(settings.zone).date())
    lead = (
        N_("A reminder: survey “{title}” closes on {day}, and your answers are still missing.")
        if reminder
        else N_("You are invited to answer the survey “{title}” of {audience}, until {day}.")
    )
    audience = audience_name(settings, session, survey, t)
    text = t(lead, title=survey.title, audience=audience, day=day)
    if survey.intro:
        text += "\n" + survey.intro
    privacy = (
        t(N_("Your answers are anonymous: nobody, not even the animators, sees who gave them."))
        if survey.anonymous
        else t(N_("Your answers carry your name for the survey's makers."))
    )
    text += "\n" + " ".join(filter(None, [privacy, language_note(t, survey)]))
    text += "\n" + t(N_("Start with {command}."), command=f"`!survey take {survey.id}`")
    return Reply(
        title=t(N_("Survey")) + f" #{survey.id}",
        text=text,
        actions=(Action(t(N_("Start")), f"survey take {survey.id}", ActionStyle.PRIMARY, "📝"),),
        visibility=Visibility.DIRECT,
    )


def _close_due(services: Services) -> list[Notification]:
    now = services.clock.now()
    told: list[Notification] = []
    with services.database.session() as session:
        for survey in store.due_to_close(session, now):
            survey.state, survey.closed_at = store.CLOSED, now
            session.add(survey)
            maker = session.get(Member, survey.created_by) if survey.created_by else None
            if maker is None:
                continue
            t = services.translator_for(maker)
            told.append(
                Notification(
                    MemberTarget(maker.id or 0),
                    Reply(
                        text=t(
                            N_("Survey #{number} “{title}” has closed; see {command}."),
                            number=survey.id,
                            title=survey.title,
                            command=f"`!survey results {survey.id}`",
                        ),
                        visibility=Visibility.DIRECT,
                    ),
                    key=f"survey:{survey.id}:closed",
                )
            )
    return told


def _claim(services: Services, instance: str) -> list[tuple[Notification, int]]:
    now = services.clock.now()
    lease = timedelta(seconds=services.settings.reminder_lease_seconds)
    with services.database.session() as session:
        released = store.release_expired(session, now, lease)
        if released:
            log.info("survey invitations: %s taken back from a lapsed lease", released)
    plans: list[tuple[Notification, int]] = []
    with services.database.session() as session:
        surveys: dict[int, Survey] = {}
        for participant in store.claim_invitations(session, now, BATCH, instance):
            assert participant.id is not None
            survey = surveys.get(participant.survey_id) or session.get(
                Survey, participant.survey_id
            )
            assert survey is not None
            surveys[participant.survey_id] = survey
            member = session.get(Member, participant.member_id)
            t = services.translator_for(member)
            reply = invitation_reply(services.settings, session, survey, t)
            plans.append(
                (
                    Notification(
                        MemberTarget(participant.member_id),
                        reply,
                        key=f"survey:{survey.id}:{participant.member_id}:invite",
                    ),
                    participant.id,
                )
            )
    return plans


def _reminders(services: Services) -> list[Notification]:
    now = services.clock.now()
    out: list[Notification] = []
    with services.database.session() as session:
        for survey, members in store.claim_reminders(session, now):
            for member_id in members:
                member = session.get(Member, member_id)
                t = services.translator_for(member)
                out.append(
                    Notification(
                        MemberTarget(member_id),
                        invitation_reply(services.settings, session, survey, t, reminder=True),
                        key=f"survey:{survey.id}:{member_id}:remind",
                    )
                )
            if members:
                session.execute(
                    sa_update(SurveyParticipant)
                    .where(
                        col(SurveyParticipant.survey_id) == survey.id,
                        col(SurveyParticipant.member_id).in_(members),
                    )
                    .values(reminded=True)
                )
    return out


def _renew(services: Services, held: list[int], instance: str) -> None:
    with services.database.session() as session:
        session.execute(
            sa_update(SurveyParticipant)
            .where(
                col(SurveyParticipant.id).in_(held),
                col(SurveyParticipant.claimed_by) == instance,
            )
            .values(claimed_at=services.clock.now())
        )


def _mark(services: Services, sent: list[int], instance: str) -> int:
    with services.database.session() as session:
        return store.mark_invited(session, sent, instance)


async def _deliver(services: Services, notification: Notification) -> None:
    try:
        await services.notifier.deliver(notification)
    except Exception:
        log.exception("survey message to %s failed", notification.target)


async def run_surveys(services: Services, instance: str | None = None) -> int:
    """Close what is due, send the invitations and reminders; how many messages went out."""
    holder = instance or services.instance_id
    sent = 0
    for notification in await asyncio.to_thread(_close_due, services):
        await _deliver(services, notification)
        sent += 1
    renew_every = services.settings.reminder_lease_seconds / 3
    while True:
        plans = await asyncio.to_thread(_claim, services, holder)
        if not plans:
            break
        held = [participant_id for _, participant_id in plans]
        renewed = time.monotonic()
        for notification, _ in plans:
            if time.monotonic() - renewed >= renew_every:  # a long batch keeps its lease
                await asyncio.to_thread(_renew, services, held, holder)
                renewed = time.monotonic()
            await _deliver(services, notification)
        marked = await asyncio.to_thread(_mark, services, held, holder)
        sent += len(plans)
        if marked < len(held):
            log.warning("survey invitations: %s taken over by another instance", len(held) - marked)
    for notification in await asyncio.to_thread(_reminders, services):
        await _deliver(services, notification)
        sent += 1
    return sent
