"""Discussion topics: the job that opens an accepted topic's place (issue 13).

Every minute, in the instance that leads the periodic jobs: topics accepted (enough support,
or an animator's yes) are claimed under a lease (storage/leases.claim: one instance opens each
once; a lapsed lease is taken over), their place is opened on the platform where they were
proposed (a Discord thread in the circle's channel, or beside the proposal; a Matrix room with
the supporters and followers invited; on the console the list is the place), and every
supporter and follower is told where it is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update as sa_update
from sqlmodel import col

from bot.i18n import N_
from bot.notifier import MemberTarget, Notification
from bot.reply import Reply, Visibility
from bot.services import Services
from storage import facts
from storage import topics as store
from storage.circles import places_of
from storage.identity import Member
from storage.topics import Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Opening:
    topic_id: int
    title: str
    platform: str
    home: str
    intro: Reply
    members: list[int]


def _claim(services: Services, instance: str) -> list[Opening]:
    now = services.clock.now()
    lease = timedelta(seconds=services.settings.reminder_lease_seconds * 3)
    t = services.catalogues.translator(None, services.settings.default_locale)
    plans: list[Opening] = []
    with services.database.session() as session:
        for topic in store.claim_opening(session, now, lease, instance):
            assert topic.id is not None
            home = topic.home_place
            if topic.circle_id is not None:
                linked = [
                    p.place_id
                    for p in places_of(session, topic.circle_id)
                    if p.platform == topic.home_platform
                ]
                home = linked[0] if linked else home
            intro = Reply(
                title=f"#{topic.id} {topic.title}",
                text="\n\n".join(
                    part
                    for part in (
                        topic.text,
                        t(
                            N_("A place for this topic, opened by Samen for its {count} members."),
                            count=len(store.members_of(session, topic.id)),
                        ),
                    )
                    if part
                ),
            )
            plans.append(
                Opening(
                    topic.id,
                    topic.title,
                    topic.home_platform,
                    home,
                    intro,
                    store.members_of(session, topic.id),
                )
            )
    return plans


def _opened(services: Services, plan: Opening, place: str, instance: str) -> list[Notification]:
    now = services.clock.now()
    told: list[Notification] = []
    with services.database.session() as session:
        done = session.execute(
            sa_update(Topic)
            .where(
                col(Topic.id) == plan.topic_id,
                col(Topic.state) == store.OPENING,
                col(Topic.claimed_by) == instance,
            )
            .values(
                state=store.OPEN,
                opened_at=now,
                place_platform=plan.platform if place else "",
                place_id=place,
                claimed_by=None,
                claimed_at=None,
            )
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            log.warning("topic %s was taken over while its place opened", plan.topic_id)
            return []
        topic = session.get(Topic, plan.topic_id)
        assert topic is not None
        facts.record(
            session,
            facts.TOPIC_OPENED,
            now,
            member_id=topic.author_id,
            **facts.circle_facts(session, topic.circle_id),
        )
        for member_id in plan.members:
            t = services.translator_for(session.get(Member, member_id))
            if place and plan.platform == "discord":
                where = t(N_("Its thread: {place}."), place=store.place_reference("discord", place))
            elif place and plan.platform == "matrix":
                where = t(
                    N_("You are invited to its room: {place}."),
                    place=store.place_reference("matrix", place),
                )
            else:
                where = t(N_("Follow it with {command}."), command=f"`!topic show {topic.id}`")
            told.append(
                Notification(
                    MemberTarget(member_id),
                    Reply(
                        text=t(
                            N_("Topic #{number} “{title}” is open."),
                            number=topic.id,
                            title=topic.title,
                        )
                        + " "
                        + where,
                        visibility=Visibility.DIRECT,
                    ),
                    key=f"topic:{topic.id}:{member_id}:opened",
                )
            )
    return told


async def run_topics(services: Services, instance: str | None = None) -> int:
    """Open the places of the topics accepted; how many were opened."""
    holder = instance or services.instance_id
    opened = 0
    for plan in await asyncio.to_thread(_claim, services, holder):
        place = await services.notifier.open_place(
            plan.platform, plan.home, plan.title, plan.intro, plan.members
        )
        if place is None:
            continue  # it failed: the lease runs out and the next run tries again
        for notification in await asyncio.to_thread(_opened, services, plan, place, holder):
            try:
                await services.notifier.deliver(notification)
            except Exception:
                log.exception("topic message to %s failed", notification.target)
        opened += 1
    return opened
