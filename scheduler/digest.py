"""The weekly digest of every circle (issue 12), and the animators' figures.

When: on ``[followup] digest_weekday`` at ``digest_hour``, local time in ``timezone``. The job
runs every few minutes; a week's digest is due from that moment until the next one, so a bot
that was down at 09:00 sends it when it comes back that week, and never the week after (the
next week has a digest of its own; a missed one is not sent late).

What: a circle's week, from the moment the digest is due back seven days: its meetups held
(each date with registered — "going", for that date or the whole series — and present —
checked in), its meetups of the coming seven days (local times; a cancelled or moved date
says so), the needs and offers published in its scope with the newest few, and the posts
closed as met in the community. The scope: a sector circle's sector and the sectors below
it, a region circle's region and the regions below it, a theme circle's posts tagged with its
key. Counts of people (attendance, met) below ``privacy_threshold`` show as "<5" in a digest
that members read; animators get the full figures.

To whom: each room or channel linked to the circle, in the community's default language
(circles have no language of their own). A circle with no linked place sends its digest to
its members by direct message, each in their language. A circle with nothing at all that
week (no meetup held or coming, no post, nothing met) sends nothing. Each animator gets one
direct message with the figures of all their circles (new members, attendance, met in the
community). ``followup digest off`` stops every digest direct message to that member (the
circle's and the figures); it does not silence a room.

Exactly once: see storage/digests.py (a claim per circle and week, and per animator and
week, taken before sending; idempotency keys ``digest:<circle>:<week>:…`` on every message).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from babel.numbers import format_percent
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.i18n import N_, Translator
from bot.notifier import MemberTarget, Notification, PlaceTarget
from bot.reply import Reply
from bot.services import Services
from scheduler.occurrences import Occurrence, describe, occurrences
from storage import digests as store
from storage.board import Post, PostTag
from storage.circles import ANIMATOR, Circle, CircleMembership, CirclePlace, member_counts
from storage.facts import POST_CLOSED, POST_PUBLISHED, Fact
from storage.identity import Member
from storage.meetups import GOING, SERIES, Meetup, OccurrenceChange, Rsvp, active_meetups

log = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MET = "found_in_community"
NEWEST = 3  # the newest posts named in a digest
MET_SHOWN = 5
COMING_SHOWN = 10
LEASE = timedelta(minutes=15)  # a claim never marked sent is taken over after this
CHUNK = 500
KIND_LABELS = {"need": N_("need"), "offer": N_("offer")}

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- when ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Week:
    """The digest week that ``due`` opens: its digest covers [since, due) and [due, until)."""

    start: date  # the local day the digest is due (the claim's week_start)
    due: datetime  # UTC
    since: datetime  # UTC: the previous digest's moment
    until: datetime  # UTC: the next digest's moment


def week_of(settings: Settings, now: datetime) -> Week:
    """The latest digest moment at or before ``now`` (local day and hour, in the zone)."""
    zone = settings.zone
    target = WEEKDAYS.index(settings.followup.digest_weekday)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - target) % 7)

    def at(d: date) -> datetime:
        return datetime.combine(d, time(settings.followup.digest_hour), tzinfo=zone).astimezone(UTC)

    if at(day) > now:
        day -= timedelta(days=7)
    return Week(day, at(day), at(day - timedelta(days=7)), at(day + timedelta(days=7)))


# -- what ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostLine:
    id: int
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class Held:
    meetup: Meetup
    occurrence: Occurrence
    registered: int
    present: int


@dataclass
class CircleWeek:
    circle: Circle
    held: list[Held] = field(default_factory=list)
    coming: list[tuple[Occurrence, Meetup]] = field(default_factory=list)
    needs: int = 0
    offers: int = 0
    newest: list[PostLine] = field(default_factory=list)
    met: int = 0
    met_posts: list[PostLine] = field(default_factory=list)
    new_members: int = 0
    members: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.held or self.coming or self.needs or self.offers or self.met)

    @property
    def registered(self) -> int:
        return sum(h.registered for h in self.held)

    @property
    def present(self) -> int:
        return sum(h.present for h in self.held)


def collect(
    session: Session,
    settings: Settings,
    circles: Sequence[Circle],
    since: datetime,
    until: datetime,
    coming_from: datetime,
    coming_until: datetime,
) -> dict[int, CircleWeek]:
    """Each circle's week, read in a few queries for all the circles at once: the past
    [since, until), the coming [coming_from, coming_until)."""
    weeks = {c.id: CircleWeek(c) for c in circles if c.id is not None}
    if not weeks:
        return {}
    ids = list(weeks)
    _collect_meetups(session, weeks, ids, since, until, coming_from, coming_until)
    _collect_posts(session, settings, weeks, since, until)
    counts = member_counts(session)
    for circle_id, week in weeks.items():
        week.members = counts.get(circle_id, 0)
    for chunk in _chunks(ids):
        rows = session.exec(
            select(CircleMembership.circle_id, func.count())
            .where(
                col(CircleMembership.circle_id).in_(chunk),
                col(CircleMembership.joined_at) >= since,
                col(CircleMembership.joined_at) < until,
            )
            .group_by(col(CircleMembership.circle_id))
        )
        for circle_id, count in rows:
            weeks[circle_id].new_members = int(count)
    return weeks


def _collect_meetups(
    session: Session,
    weeks: dict[int, CircleWeek],
    ids: list[int],
    since: datetime,
    until: datetime,
    coming_from: datetime,
    coming_until: datetime,
) -> None:
    meetups: list[Meetup] = []
    for chunk in _chunks(ids):
        meetups.extend(active_meetups(session, circle_ids=list(chunk)))
    meetup_ids = [m.id for m in meetups if m.id is not None]
    changes: dict[int, list[OccurrenceChange]] = defaultdict(list)
    for chunk in _chunks(meetup_ids):
        for change in session.exec(
            select(OccurrenceChange).where(col(OccurrenceChange.meetup_id).in_(chunk))
        ):
            changes[change.meetup_id].append(change)
    held: list[tuple[Meetup, Occurrence]] = []
    for meetup in meetups:
        assert meetup.id is not None
        assert meetup.circle_id is not None
        mine = changes.get(meetup.id, [])
        held.extend((meetup, o) for o in occurrences(meetup, mine, since, until))
        weeks[meetup.circle_id].coming.extend(
            (o, meetup)
            for o in occurrences(meetup, mine, coming_from, coming_until, include_cancelled=True)
        )
    for week in weeks.values():
        week.coming.sort(key=lambda pair: pair[0].start)
    keys = sorted({o.key for _, o in held})
    answers: dict[tuple[int, str], list[tuple[int, str, bool]]] = defaultdict(list)
    held_ids = sorted({m.id for m, _ in held if m.id is not None})
    for chunk in _chunks(held_ids):
        rows = session.execute(
            sa_select(
                col(Rsvp.meetup_id),
                col(Rsvp.occurrence),
                col(Rsvp.member_id),
                col(Rsvp.status),
                col(Rsvp.checked_in),
            ).where(col(Rsvp.meetup_id).in_(chunk), col(Rsvp.occurrence).in_([SERIES, *keys]))
        )
        for meetup_id, occurrence, member_id, status, checked_in in rows:
            answers[(meetup_id, occurrence)].append((member_id, status, bool(checked_in)))
    for meetup, occurrence in held:
        assert meetup.id is not None
        assert meetup.circle_id is not None
        specific = {m: (s, c) for m, s, c in answers.get((meetup.id, occurrence.key), [])}
        going = {m for m, (s, _) in specific.items() if s == GOING}
        going |= {
            m
            for m, s, _ in answers.get((meetup.id, SERIES), [])
            if s == GOING and m not in specific
        }
        present = sum(1 for _, c in specific.values() if c)
        weeks[meetup.circle_id].held.append(Held(meetup, occurrence, len(going), present))
    for week in weeks.values():
        week.held.sort(key=lambda h: h.occurrence.start)


def _collect_posts(
    session: Session,
    settings: Settings,
    weeks: dict[int, CircleWeek],
    since: datetime,
    until: datetime,
) -> None:
    """The needs and offers published, and the posts met in the community, of the week, read
    once from the facts and shared out to the circles whose scope they are in."""
    by_sector: dict[str, list[int]] = defaultdict(list)
    by_region: dict[str, list[int]] = defaultdict(list)
    by_tag: dict[str, list[int]] = defaultdict(list)
    for circle_id, week in weeks.items():
        circle = week.circle
        if circle.kind == "sector":
            levels = settings.sector_levels
            keys = levels.descendants(circle.key) if circle.key in levels else [circle.key]
            for key in keys:
                by_sector[key].append(circle_id)
        elif circle.kind == "region":
            levels = settings.region_levels
            keys = levels.descendants(circle.key) if circle.key in levels else [circle.key]
            for key in keys:
                by_region[key].append(circle_id)
        else:
            by_tag[circle.key].append(circle_id)

    def facts_of(kind: str) -> list[Any]:
        statement = select(Fact.post_id, Fact.post_kind, Fact.sector, Fact.region).where(
            Fact.kind == kind, col(Fact.occurred_at) >= since, col(Fact.occurred_at) < until
        )
        if kind == POST_CLOSED:
            statement = statement.where(Fact.outcome == MET)
        return list(session.exec(statement.order_by(col(Fact.id).desc())))

    published, met = facts_of(POST_PUBLISHED), facts_of(POST_CLOSED)
    tags: dict[int, list[str]] = defaultdict(list)
    tagged = sorted({row[0] for row in (*published, *met) if row[0] is not None})
    if by_tag:
        for chunk in _chunks(tagged):
            for post_id, tag in session.exec(
                select(PostTag.post_id, PostTag.tag).where(
                    col(PostTag.post_id).in_(chunk), col(PostTag.tag).in_(list(by_tag))
                )
            ):
                tags[post_id].append(tag)

    def circles_for(post_id: int | None, sector: str | None, region: str | None) -> set[int]:
        found = set(by_sector.get(sector or "", ())) | set(by_region.get(region or "", ()))
        for tag in tags.get(post_id or 0, ()):
            found.update(by_tag[tag])
        return found

    wanted: dict[int, list[tuple[int, str]]] = defaultdict(list)  # post id → (circle, list)
    picked: dict[tuple[int, str], int] = defaultdict(int)
    for post_id, kind, sector, region in published:
        for circle_id in circles_for(post_id, sector, region):
            week = weeks[circle_id]
            if kind == "need":
                week.needs += 1
            else:
                week.offers += 1
            if post_id is not None and picked[(circle_id, "new")] < NEWEST:
                picked[(circle_id, "new")] += 1
                wanted[post_id].append((circle_id, "new"))
    for post_id, _kind, sector, region in met:
        for circle_id in circles_for(post_id, sector, region):
            weeks[circle_id].met += 1
            if post_id is not None and picked[(circle_id, "met")] < MET_SHOWN:
                picked[(circle_id, "met")] += 1
                wanted[post_id].append((circle_id, "met"))
    titles: dict[int, PostLine] = {}
    for chunk in _chunks(sorted(wanted)):
        for found_id, kind, title in session.exec(
            select(Post.id, Post.kind, Post.title).where(col(Post.id).in_(chunk))
        ):
            assert found_id is not None
            titles[found_id] = PostLine(found_id, kind, title)
    for post_id in sorted(wanted, reverse=True):  # the newest first
        line = titles.get(post_id)
        if line is None:  # gone since (a member forgotten): counted, not named
            continue
        for circle_id, which in wanted[post_id]:
            target = weeks[circle_id].newest if which == "new" else weeks[circle_id].met_posts
            target.append(line)


# -- how it reads ---------------------------------------------------------------------------------


def _count(t: Translator, value: int, threshold: int, full: bool) -> str:
    """A count of people: below the threshold, "<5" unless the reader may see it all."""
    return t.number(value) if full or value >= threshold else f"<{t.number(threshold)}"


def _rate(t: Translator, present: int, registered: int) -> str:
    if not registered:
        return "—"
    return format_percent(present / registered, locale=t.babel_locale)


def _post(t: Translator, post: PostLine) -> str:
    kind = KIND_LABELS.get(post.kind)
    return f"- #{post.id} · {t(kind) if kind else post.kind} · **{post.title}**"


def render_digest(
    t: Translator, week: CircleWeek, threshold: int, *, full: bool = False, direct: bool = False
) -> Reply:
    """The circle's digest as members read it (``full``: every count as it is)."""
    past_heading = t(N_("Meetups of the past week"))
    lines = [f"**{past_heading}**"]
    for held in week.held:
        lines.append(
            "- "
            + t(
                N_("{title} · {when}: {registered} registered, {present} present"),
                title=held.meetup.title,
                when=describe(t, held.occurrence),
                registered=_count(t, held.registered, threshold, full),
                present=_count(t, held.present, threshold, full),
            )
        )
    if not week.held:
        lines.append(t(N_("No meetup took place.")))
    coming_heading = t(N_("Meetups of the coming week"))
    lines += ["", f"**{coming_heading}**"]
    for occurrence, meetup in week.coming[:COMING_SHOWN]:
        lines.append(f"- #{meetup.id} {meetup.title} · {describe(t, occurrence)}")
    if len(week.coming) > COMING_SHOWN:
        lines.append(
            t(N_("…and {count} more: !meetup list"), count=len(week.coming) - COMING_SHOWN)
        )
    if not week.coming:
        lines.append(t(N_("No meetup planned yet.")))
    lines += [
        "",
        "**"
        + t(
            N_("New on the board: {needs}, {offers}"),
            needs=t.plural("{count} need", "{count} needs", week.needs),
            offers=t.plural("{count} offer", "{count} offers", week.offers),
        )
        + "**",
    ]
    lines.extend(_post(t, post) for post in week.newest)
    met = _count(t, week.met, threshold, full)
    lines += ["", "**" + t(N_("Met in the community: {count}"), count=met) + "**"]
    if full or week.met >= threshold:
        lines.extend(_post(t, post) for post in week.met_posts)
    if direct:
        lines += [
            "",
            t(N_("No more digests by direct message: {command}"), command="`!followup digest off`"),
        ]
    return Reply(
        title=t(N_("The week of {circle}"), circle=week.circle.name), text="\n".join(lines)
    )


def figures_line(t: Translator, week: CircleWeek) -> str:
    """One circle's figures for its animators: every count as it is."""
    return t(
        N_(
            "**{circle}**: {new} new ({members} now) · attendance {present}/{registered} "
            "({rate}) · met in the community: {met}"
        ),
        circle=week.circle.name,
        new=t.number(week.new_members),
        members=t.number(week.members),
        present=t.number(week.present),
        registered=t.number(week.registered),
        rate=_rate(t, week.present, week.registered),
        met=t.number(week.met),
    )


def render_figures(t: Translator, weeks: Iterable[CircleWeek]) -> Reply:
    lines = [f"- {figures_line(t, week)}" for week in weeks]
    lines += [
        "",
        t(N_("No more digests by direct message: {command}"), command="`!followup digest off`"),
    ]
    return Reply(title=t(N_("Your circles this week")), text="\n".join(lines))


# -- the job ------------------------------------------------------------------------------------


@dataclass
class _Batch:
    notifications: list[Notification] = field(default_factory=list)
    circles: list[int] = field(default_factory=list)
    animators: list[int] = field(default_factory=list)


async def send_weekly_digests(services: Services) -> int:
    """Send this week's digests not sent yet (none before the digest moment); returns the
    number of messages sent."""
    now = services.clock.now()
    week = week_of(services.settings, now)
    batch = await asyncio.to_thread(_claim_and_build, services, week, now)
    sent = 0
    for notification in batch.notifications:
        try:
            if await services.notifier.deliver(notification):
                sent += 1
        except Exception:
            log.exception("digest to %s failed", notification.target)
    if batch.circles or batch.animators:
        await asyncio.to_thread(_mark_sent, services, week, batch, services.clock.now())
    return sent


def _mark_sent(services: Services, week: Week, batch: _Batch, now: datetime) -> None:
    with services.database.session() as session:
        store.mark_sent(session, store.DigestSent, batch.circles, week.start, now)
        store.mark_sent(session, store.DigestFiguresSent, batch.animators, week.start, now)


def _claim_and_build(services: Services, week: Week, now: datetime) -> _Batch:
    settings, batch = services.settings, _Batch()
    lease_start = now - LEASE
    with services.database.session() as session:
        circles = [c for c in session.exec(select(Circle).where(col(Circle.archived).is_(False)))]
        done = store.settled(session, store.DigestSent, week.start, lease_start)
        animated: dict[int, list[int]] = defaultdict(list)
        for circle_id, member_id in session.exec(
            select(CircleMembership.circle_id, CircleMembership.member_id).where(
                CircleMembership.role == ANIMATOR
            )
        ):
            animated[member_id].append(circle_id)
        done_animators = store.settled(session, store.DigestFiguresSent, week.start, lease_start)
    todo = [c for c in circles if c.id not in done]
    animators = {m: ids for m, ids in animated.items() if m not in done_animators}
    if not todo and not animators:
        return batch
    with services.database.session() as session:
        weeks = collect(
            session, settings, circles, week.since, week.due, max(week.due, now), week.until
        )
    for circle in todo:
        assert circle.id is not None
        with services.database.session() as session:
            if not store.claim(
                session, store.DigestSent, circle.id, week.start, now, services.instance_id, LEASE
            ):
                continue
        batch.circles.append(circle.id)
        if not weeks[circle.id].is_empty:
            batch.notifications.extend(_circle_messages(services, weeks[circle.id], week))
    for member_id, circle_ids in sorted(animators.items()):
        mine = [weeks[i] for i in circle_ids if i in weeks]
        if not mine or all(w.is_empty and not w.new_members for w in mine):
            continue
        with services.database.session() as session:
            if not store.claim(
                session,
                store.DigestFiguresSent,
                member_id,
                week.start,
                now,
                services.instance_id,
                LEASE,
            ):
                continue
            batch.animators.append(member_id)
            if store.opted_out(session, [member_id]):
                continue
            t = services.translator_for(session.get(Member, member_id))
        mine.sort(key=lambda w: w.circle.name)
        batch.notifications.append(
            Notification(
                MemberTarget(member_id),
                render_figures(t, mine),
                key=f"digest-figures:{member_id}:{week.start.isoformat()}",
            )
        )
    return batch


def _circle_messages(services: Services, week: CircleWeek, when: Week) -> list[Notification]:
    circle_id = week.circle.id
    key = f"digest:{circle_id}:{when.start.isoformat()}"
    threshold = services.settings.followup.privacy_threshold
    with services.database.session() as session:
        places = list(session.exec(select(CirclePlace).where(CirclePlace.circle_id == circle_id)))
        if places:
            t = services.translator_for(None)
            reply = render_digest(t, week, threshold)
            return [
                Notification(PlaceTarget(p.platform, p.place_id), reply, key=f"{key}:place:{p.id}")
                for p in places
            ]
        member_ids = list(
            session.exec(
                select(CircleMembership.member_id).where(CircleMembership.circle_id == circle_id)
            )
        )
        off = store.opted_out(session, member_ids)
        members = {
            m.id: m
            for chunk in _chunks([i for i in member_ids if i not in off])
            for m in session.exec(select(Member).where(col(Member.id).in_(chunk)))
        }
    notifications = []
    for member_id, member in sorted(members.items()):
        assert member_id is not None
        t = services.translator_for(member)
        notifications.append(
            Notification(
                MemberTarget(member_id),
                render_digest(t, week, threshold, direct=True),
                key=f"{key}:member:{member_id}",
            )
        )
    return notifications


# -- the preview ----------------------------------------------------------------------------------


def preview(session: Session, settings: Settings, circle: Circle, now: datetime) -> CircleWeek:
    """The circle's week as a digest said now would show it: the past seven days and the
    coming seven."""
    week = timedelta(days=7)
    assert circle.id is not None
    return collect(session, settings, [circle], now - week, now, now, now + week)[circle.id]
