"""The waitlist of a full meetup: a freed place is offered to the first member waiting, who
has until a deadline to accept; then it goes to the next."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.i18n import N_, Translator
from bot.notifier import MemberTarget, Notification
from bot.reply import Action, Reply
from bot.services import Services
from scheduler.occurrences import describe, find_occurrence
from scheduler.reminders import effective_status
from storage import meetups as store
from storage.identity import Member
from storage.meetups import GOING, NO, OFFERED, SERIES, WAITING, Meetup, Rsvp

log = logging.getLogger(__name__)

HOLDS_PLACE = (GOING, OFFERED)
Notify = Callable[[int, Reply], None]
TranslatorFor = Callable[[Member], Translator]


def held(rsvps: list[Rsvp], key: str) -> int:
    """Places taken (going, or offered and not yet answered) for the series or one date."""
    if key == SERIES:
        return sum(1 for r in rsvps if r.occurrence == SERIES and r.status in HOLDS_PLACE)
    return sum(1 for r in effective_status(rsvps, key).values() if r.status in HOLDS_PLACE)


def queue(rsvps: list[Rsvp], key: str) -> list[Rsvp]:
    waiting = [r for r in rsvps if r.occurrence == key and r.status == WAITING]
    return sorted(waiting, key=lambda r: (r.updated_at, r.id or 0))


def label_of(session: Session, meetup: Meetup, key: str, t: Translator) -> str:
    if key == SERIES:
        return t(N_("every date"))
    assert meetup.id is not None
    found = find_occurrence(meetup, store.changes_of(session, meetup.id), key)
    return describe(t, found) if found else key


def offer_next(
    session: Session,
    meetup: Meetup,
    key: str,
    now: datetime,
    hours: int,
    translator_for: TranslatorFor,
    notify: Notify,
) -> Rsvp | None:
    """Offer a free place to the first member waiting at this level (series or date)."""
    assert meetup.id is not None
    store.lock_places(session, meetup.id)  # a promotion can't overbook either
    rsvps = store.rsvps_of(session, meetup.id)
    if meetup.capacity is not None and held(rsvps, key) >= meetup.capacity:
        return None
    waiting = queue(rsvps, key)
    if not waiting:
        return None
    first = waiting[0]
    first.status, first.offered_until = OFFERED, now + timedelta(hours=hours)
    session.add(first)
    member = session.get(Member, first.member_id)
    assert member is not None
    t = translator_for(member)
    occurrence = "" if key == SERIES else f" {key}"
    notify(
        first.member_id,
        Reply(
            text=t(
                N_(
                    "A place is free for {title} ({when})! It is yours if you accept within "
                    "{hours} hours."
                ),
                title=f"**{meetup.title}**",
                when=label_of(session, meetup, key, t),
                hours=hours,
            ),
            actions=(
                Action.yes(t(N_("Accept the place")), f"meetup rsvp {meetup.id} going{occurrence}"),
                Action.no(t(N_("Decline")), f"meetup rsvp {meetup.id} no{occurrence}"),
            ),
        ),
    )
    return first


async def expire_offers(services: Services) -> int:
    """Offers not accepted in time lapse; the place goes to the next member waiting. The
    database's part runs in a worker thread, off the event loop."""
    lapsed, outgoing = await asyncio.to_thread(_lapse_offers, services)
    for notification in outgoing:
        try:
            await services.notifier.deliver(notification)
        except Exception:
            log.exception("waitlist notification failed")
    return lapsed


def _lapse_offers(services: Services) -> tuple[int, list[Notification]]:
    now = services.clock.now()
    outgoing: list[Notification] = []

    def notify(member_id: int, reply: Reply) -> None:
        outgoing.append(Notification(MemberTarget(member_id), reply))

    lapsed = 0
    with services.database.session() as session:
        for offer in store.expired_offers(session, now):
            # the member may be accepting (or declining) right now: decide on the row as it is
            # once the meetup's places are ours, or an accepted place would lapse and go to the
            # next one too
            store.lock_places(session, offer.meetup_id)
            session.refresh(offer)
            if offer.status != OFFERED or offer.offered_until is None or offer.offered_until > now:
                continue
            meetup = session.get(Meetup, offer.meetup_id)
            if meetup is None:
                continue
            offer.status, offer.offered_until = NO, None
            session.add(offer)
            session.flush()
            lapsed += 1
            member = session.get(Member, offer.member_id)
            t = services.translator_for(member)
            notify(
                offer.member_id,
                Reply(
                    text=t(
                        N_(
                            "The place for {title} ({when}) went to the next person on the "
                            "waitlist: the time to accept it ran out."
                        ),
                        title=meetup.title,
                        when=label_of(session, meetup, offer.occurrence, t),
                    )
                ),
            )
            offer_next(
                session,
                meetup,
                offer.occurrence,
                now,
                services.settings.waitlist_offer_hours,
                services.translator_for,
                notify,
            )
    return lapsed, outgoing
