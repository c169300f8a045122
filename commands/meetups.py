"""Meetups: one-off and recurring, with formats, venues, RSVPs with capacity and a waitlist,
per-occurrence cancel and move, attendance and iCalendar export."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import col, select

from bot.config import Term
from bot.context import Context
from bot.discord_shape import example as shown_example
from bot.errors import PermissionDenied, UserError
from bot.i18n import N_, LazyText, Translator
from bot.params import (
    ASK_TIME,
    Day,
    Duration,
    Integer,
    MemberRef,
    OneOf,
    Text,
    TypedMoment,
    Vocabulary,
    When,
)
from bot.ratelimit import RateClass
from bot.recurrence import WEEKDAY_CODES, RecurrenceError, parse_recurrence
from bot.reply import Action, ActionStyle, Attachment, Field, Reply, Visibility
from bot.spec import CommandSet, Opt
from bot.text import fold, shorten
from bot.timeparse import parse_day
from commands.ical import calendar_for
from commands.refs import CircleRef, MeetupRef, ProjectRef, VenueRef
from commands.topics import topic_for_meetup
from scheduler.occurrences import (
    Occurrence,
    describe,
    find_occurrence,
    next_occurrences,
    occurrences,
)
from scheduler.reminders import effective_status, format_offset, parse_offsets, plan
from scheduler.waitlist import HOLDS_PLACE, held, offer_next, queue
from storage import circles as circle_store
from storage import facts
from storage import meetups as store
from storage import projects as project_store
from storage.circles import Circle
from storage.identity import Member
from storage.meetups import GOING, MAYBE, NO, OFFERED, SERIES, WAITING, Meetup, Rsvp, Venue
from storage.projects import Project

commands = CommandSet()
commands.group("meetup", help=N_("Meetups: breakfasts, afterworks, walks and more"))

ANSWERS = {GOING: N_("going"), MAYBE: N_("maybe"), NO: N_("not going")}
ANSWER_WORDS = {
    "yes": GOING,
    "ja": GOING,
    "oui": GOING,
    "kom": GOING,
    "viens": GOING,
    "present": GOING,
    "misschien": MAYBE,
    "peut-etre": MAYBE,
    "peutetre": MAYBE,
    "nee": NO,
    "non": NO,
    "niet": NO,
    "absent": NO,
}
PERIODS = {"week": N_("this week"), "month": N_("this month")}
PERIOD_WORDS = {"semaine": "week", "maand": "month", "mois": "month"}
STATUS_LABEL = {
    GOING: N_("going"),
    MAYBE: N_("maybe"),
    NO: N_("not going"),
    WAITING: N_("on the waitlist"),
    OFFERED: N_("offered a place"),
}
SHOWN_OCCURRENCES = 5
MAYBE_COUNT = N_("{count} maybe")
CANCELLED = N_("cancelled")
MeetupArg = Annotated[Meetup, Opt(MeetupRef(), N_("The meetup number"))]
OccurrenceOpt = Annotated[str | None, Opt(Text(40), N_("One date of the series (default: all)"))]


# -- shared pieces -------------------------------------------------------------------------------


PLAIN_FORMAT = "meetup"  # the format of a meetup created without one
TOPIC_FORMAT = "discussion-forum"  # a meetup planned from a discussion topic, unless told


def format_label(ctx: Context, t: Translator, key: str) -> str:
    for term in ctx.settings.formats:
        if term.key == key:
            return term.label(t.locale)
    if key == PLAIN_FORMAT:
        return t(N_("meetup"))
    return key  # a format since taken out of bot.toml: its key is all that is left


def can_schedule(ctx: Context, circle: Circle | None, project: Project | None) -> bool:
    if ctx.is_admin:
        return True
    if project is not None and project.lead_id == ctx.actor_id:
        return True
    if circle is not None and circle.id is not None:
        if circle_store.is_animator(ctx.session, ctx.actor_id, circle.id):
            return True
        member = circle_store.membership(ctx.session, circle.id, ctx.actor_id)
        return bool(circle.members_schedule and member is not None)
    return False


def is_organiser(ctx: Context, meetup: Meetup) -> bool:
    """Who may change a meetup (edit, cancel, move, check others in), checked against the
    roles as they are now, not as they were when it was scheduled: an admin; for a project
    meetup, the project's lead; for a circle meetup, a current animator of the circle; and
    its creator only while they may still schedule there (still an animator or lead, or still
    a member of a circle open to its members). A member of an open circle does not change the
    meetups others scheduled."""
    if ctx.is_admin:
        return True
    circle = ctx.session.get(Circle, meetup.circle_id) if meetup.circle_id else None
    project = ctx.session.get(Project, meetup.project_id) if meetup.project_id else None
    if project is not None and project.lead_id == ctx.actor_id:
        return True
    if (
        circle is not None
        and circle.id is not None
        and circle_store.is_animator(ctx.session, ctx.actor_id, circle.id)
    ):
        return True
    return meetup.created_by == ctx.actor_id and can_schedule(ctx, circle, project)


def ensure_organiser(ctx: Context, meetup: Meetup) -> None:
    if not is_organiser(ctx, meetup):
        raise PermissionDenied(
            N_("Only the animators of its circle (or the project lead) may change this meetup.")
        )
    ctx.acting_for(meetup.created_by, f"meetup #{meetup.id}")


def partners_of(ctx: Context, project: Project) -> set[int]:
    """A project's lead and the members who fill one of its slots."""
    assert project.id is not None
    return {project.lead_id} | {
        slot.filled_by
        for slot in project_store.slots_of(ctx.session, project.id)
        if slot.filled_by is not None
    }


def may_see(ctx: Context, meetup: Meetup) -> bool:
    """Whether a list shows this meetup to the asker: a project meeting only to the project's
    partners (and admins); every other meetup to everyone."""
    if meetup.project_id is None or ctx.is_admin:
        return True
    project = ctx.session.get(Project, meetup.project_id)
    return project is not None and ctx.actor_id in partners_of(ctx, project)


def ensure_may_answer(ctx: Context, meetup: Meetup, member_id: int) -> None:
    """Who may answer (RSVP) a meetup; the one check for the typed command, a button and a
    reaction alike (they all become ``meetup rsvp``), made when the answer comes in.

    - A circle meetup: every member. There is no members-only circle: any member joins any
      circle with ``circle join``, so requiring membership would only add a step; the circle
      is who organises, not who may come. Once the circle is archived, its meetups take no
      answers any more.
    - A project meeting (a meetup for a project): only its partners, the lead and the members
      who fill one of its slots; once the project is closed, nobody. ``meetup list`` shows it
      only to them (and to admins).
    """
    if meetup.project_id is not None:
        project = ctx.session.get(Project, meetup.project_id)
        if project is None or project.status != project_store.OPEN:
            raise UserError(N_("The project of this meetup is closed: it takes no answers."))
        if member_id not in partners_of(ctx, project):
            raise PermissionDenied(
                N_("Only the partners of project #{number} answer its meetings."),
                number=project.id,
            )
    if meetup.circle_id is not None:
        circle = ctx.session.get(Circle, meetup.circle_id)
        if circle is not None and circle.archived:
            raise UserError(
                N_("Circle {circle} is archived: its meetups take no answers."),
                circle=circle.name,
            )


def check_capacity(capacity: int | None, venue: Venue | None) -> None:
    """A meetup has no more places than its venue holds."""
    if venue is None or venue.capacity is None or capacity is None:
        return
    if capacity > venue.capacity:
        raise UserError(
            N_("{venue} holds {capacity} people: a meetup there has at most {capacity} places."),
            venue=venue.name,
            capacity=venue.capacity,
        )


def ensure_active(meetup: Meetup) -> None:
    if meetup.status != "active":
        raise UserError(N_("Meetup #{number} is cancelled."), number=meetup.id)


def place_of(meetup: Meetup, venue: Venue | None) -> str:
    if venue is not None:
        return f"{venue.name}, {venue.city}" if venue.city else venue.name
    return meetup.online_link or "—"


def when_line(t: Translator, occurrence: Occurrence) -> str:
    return describe(t, occurrence)


def upcoming(ctx: Context, meetup: Meetup, count: int = SHOWN_OCCURRENCES) -> list[Occurrence]:
    assert meetup.id is not None
    return next_occurrences(meetup, store.changes_of(ctx.session, meetup.id), ctx.now(), count)


def resolve_occurrence(ctx: Context, meetup: Meetup, text: str) -> Occurrence:
    """An occurrence named by its number in the upcoming list, its date, or its key."""
    assert meetup.id is not None
    changes = store.changes_of(ctx.session, meetup.id)
    raw = text.strip()
    coming = next_occurrences(meetup, changes, ctx.now() - timedelta(hours=12), 60)
    if raw.isdigit() and 1 <= int(raw) <= len(coming):
        return coming[int(raw) - 1]
    if raw.lower() in ("next", "volgende", "prochaine", "prochain") and coming:
        return coming[0]
    found = find_occurrence(meetup, changes, raw) if raw.endswith("Z") else None
    if found is not None:
        return found
    day = parse_day(raw, ctx.now() - timedelta(days=1), ctx.settings.zone)
    if day is not None:
        window = occurrences(
            meetup,
            changes,
            ctx.now() - timedelta(days=400),
            ctx.now() + timedelta(days=800),
            include_cancelled=True,
        )
        for occurrence in window:
            if occurrence.original_start.astimezone(ctx.settings.zone).date() == day or (
                occurrence.start.astimezone(ctx.settings.zone).date() == day
            ):
                return occurrence
    dates = ", ".join(
        ctx.t.date(o.start.astimezone(ctx.settings.zone).date(), "short") for o in coming[:5]
    )
    raise UserError(
        N_("Meetup #{number} has no date “{value}”. Next dates: {dates}."),
        number=meetup.id,
        value=text,
        dates=dates or "—",
    )


def rsvp_actions(t: Translator, meetup: Meetup, occurrence: str = "") -> tuple[Action, ...]:
    suffix = f" {occurrence}" if occurrence else ""
    return (
        Action.yes(t(N_("Going")), f"meetup rsvp {meetup.id} going{suffix}"),
        Action(
            t(N_("Maybe")), f"meetup rsvp {meetup.id} maybe{suffix}", ActionStyle.SECONDARY, "❔"
        ),
        Action.no(t(N_("Not going")), f"meetup rsvp {meetup.id} no{suffix}"),
    )


def replan(ctx: Context, meetup: Meetup, only: set[int] | None = None) -> None:
    """Bring the reminders in line (of the whole meetup, or of ``only`` these members)."""
    plan(ctx.session, meetup, ctx.now(), ctx.settings.default_reminders, only=only)
    ctx.changed.update(("reminders", "meetups"))


def counts(rsvps: list[Rsvp], key: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for rsvp in effective_status(rsvps, key).values():
        found[rsvp.status] = found.get(rsvp.status, 0) + 1
    return found


# -- creating and showing ------------------------------------------------------------------------


@commands.command(
    "meetup create",
    help=N_("Schedule a meetup for a circle or a project"),
    examples=(
        'meetup create Werkontbijt circle=brussels start="maandag 8:30" '
        'every="elke maandag" venue=kop capacity=12 format=work-breakfast',
    ),
    rate=RateClass.PUBLISH,
)
async def create(
    ctx: Context,
    title: Annotated[str, Opt(Text(120), N_("The meetup's name"), rest=True)],
    *,
    typed_start: Annotated[
        TypedMoment,
        Opt(
            When(time_optional=True),
            N_("When: “maandag 8:30”, “2027-01-11 08:30”"),
            name="start",
        ),
    ],
    circle: Annotated[Circle | None, Opt(CircleRef(), N_("The circle it is for"))] = None,
    project: Annotated[Project | None, Opt(ProjectRef(), N_("Or the project it is for"))] = None,
    every: Annotated[
        str | None, Opt(Text(80), N_("Repeat: “elke maandag”, “every 2 weeks”"))
    ] = None,
    until: Annotated[date | None, Opt(Day(), N_("Last day of the series"))] = None,
    count: Annotated[int | None, Opt(Integer(1, 500), N_("How many times in all"))] = None,
    duration: Annotated[int, Opt(Duration(), N_("How long: 90m, 1h30, 2h"))] = 90,
    format: Annotated[Term | None, Opt(Vocabulary("formats"), N_("The format"))] = None,
    venue: Annotated[Venue | None, Opt(VenueRef(), N_("Where"))] = None,
    online: Annotated[str | None, Opt(Text(300), N_("Or an online link"))] = None,
    capacity: Annotated[int | None, Opt(Integer(1, 10_000), N_("How many places"))] = None,
    reminders: Annotated[str | None, Opt(Text(40), N_("Reminders before it: 1d,1h"))] = None,
    description: Annotated[str, Opt(Text(2000, long=True), N_("What to expect"))] = "",
    topic: Annotated[
        int | None, Opt(Integer(1, 10**12), N_("The discussion topic it is planned from"))
    ] = None,
) -> Reply:
    planned_from = topic_for_meetup(ctx, topic) if topic is not None else None
    if planned_from is not None:
        if circle is None and project is None and planned_from.circle_id is not None:
            circle = ctx.session.get(Circle, planned_from.circle_id)
        if format is None:
            format = next((f for f in ctx.settings.formats if f.key == TOPIC_FORMAT), None)
    if circle is None and project is None:
        raise UserError(
            N_("Say which circle (circle=…) or project (project=…) it is for."), show_usage=True
        )
    if not can_schedule(ctx, circle, project):
        raise PermissionDenied(
            N_("Only the animators of this circle (or the project lead) may schedule its meetups.")
        )
    usual = getattr(format, "time", None)
    start, note = complete_moment(
        ctx, typed_start, time.fromisoformat(usual) if isinstance(usual, str) else None
    )
    if online and not online.startswith(("https://", "http://")):
        raise UserError(N_("An online link starts with https://"))
    if reminders is not None:
        _check_reminders(reminders)
    check_capacity(capacity, venue)
    local = start.astimezone(ctx.settings.zone)
    rule = ""
    if every:
        try:
            rule = parse_recurrence(every, local).rule
        except RecurrenceError:
            raise UserError(
                N_(
                    "I don't understand the repetition “{value}”. Try “every monday”, "
                    "“elke 2 weken”, “premier mardi du mois”."
                ),
                value=every,
            ) from None
        if until is not None and count is not None:
            raise UserError(N_("Give an end date or a count, not both."))
        if count is not None:
            rule += f";COUNT={count}"
        elif until is not None:
            last = datetime.combine(until, local.time(), tzinfo=ctx.settings.zone)
            rule += f";UNTIL={last.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        local = first_of_rule(rule, local)
        start = local
    elif until is not None or count is not None:
        raise UserError(N_("An end date or a count only goes with a repetition (every=…)."))
    meetup = Meetup(
        circle_id=circle.id if circle else None,
        project_id=project.id if project else None,
        title=title,
        format=format.key if format else PLAIN_FORMAT,
        description=description,
        venue_id=venue.id if venue else None,
        online_link=online or "",
        local_start=local.replace(tzinfo=None),
        timezone=ctx.settings.timezone,
        first_start=start.astimezone(UTC),
        duration_minutes=duration,
        rrule=rule,
        capacity=capacity or (venue.capacity if venue else None),
        reminders=",".join(format_offset(m) for m in parse_offsets(reminders)) if reminders else "",
        created_by=ctx.actor_id,
        created_at=ctx.now(),
        topic_id=planned_from.id if planned_from else None,
    )
    ctx.session.add(meetup)
    ctx.session.flush()
    next_dates = upcoming(ctx, meetup)
    ctx.changed.add("meetups")
    if not next_dates:
        raise UserError(N_("That repetition gives no date after now."))
    if planned_from is not None:
        facts.record_meetup(ctx.session, facts.TOPIC_MEETUP, meetup, "", ctx.actor_id, ctx.now())
    told = _announce_new_meetup(ctx, meetup, circle, project, venue, next_dates[0])
    t = ctx.t
    lines = [f"- {when_line(t, o)}" for o in next_dates]
    return Reply(
        title=t(N_("Meetup #{number} scheduled: {title}"), number=meetup.id, title=title),
        text=t(
            N_("{format} at {place}, {duration} minutes."),
            format=format_label(ctx, t, meetup.format),
            place=place_of(meetup, venue),
            duration=duration,
        )
        + (f"\n{note}" if note else ""),
        fields=(
            Field(t(N_("Next dates")), "\n".join(lines)),
            *((Field(t(N_("Told")), told),) if told else ()),
        ),
        actions=rsvp_actions(t, meetup),
    )


def _announce_new_meetup(
    ctx: Context,
    meetup: Meetup,
    circle: Circle | None,
    project: Project | None,
    venue: Venue | None,
    first: Occurrence,
) -> str:
    """Tell the circle (its linked rooms, and the members who get its announcements by direct
    message) or the project's partners (its lead and the members in its roles) of a new
    meetup, with the RSVP buttons; the one who scheduled it is not told. Returns who was told,
    for the organiser's answer ("" when nobody)."""
    assert meetup.id is not None

    def announcement(t: Translator) -> Reply:
        group = circle.name if circle else f"#{project.id} {project.title}" if project else ""
        recurring = t(N_("Repeats; next date:")) + " " if meetup.rrule else ""
        return Reply(
            title=t(
                N_("New meetup · {group}: {title}"),
                group=group,
                title=shorten(meetup.title, 120),
            ),
            text=t(
                N_("{when} · {format} at {place}. Will you come?")
                if venue is not None or meetup.online_link
                else N_("{when} · {format}. Will you come?"),
                when=recurring + when_line(t, first),
                format=format_label(ctx, t, meetup.format),
                place=place_of(meetup, venue),
            ),
            actions=rsvp_actions(t, meetup),
        )

    members: list[int] = []
    rooms = 0
    if circle is not None and circle.id is not None:
        community = ctx.catalogues.translator(
            ctx.settings.default_locale, ctx.settings.default_locale
        )
        for place in circle_store.places_of(ctx.session, circle.id):
            if place.platform == ctx.platform and place.place_id == ctx.place:
                continue  # scheduled in that room: the answer there shows it already
            ctx.notify_place(place.platform, place.place_id, announcement(community))
            rooms += 1
        # only those who asked for the circle's announcements by direct message
        members += circle_store.dm_subscribers(ctx.session, circle.id)
    if project is not None and project.id is not None:
        members += [project.lead_id] + [
            slot.filled_by
            for slot in project_store.slots_of(ctx.session, project.id)
            if slot.filled_by is not None
        ]
    told = 0
    for member_id in dict.fromkeys(members):
        member = ctx.session.get(Member, member_id)
        if member_id == ctx.actor_id or member is None:
            continue
        ctx.notify_member(member_id, announcement(ctx.translator_for(member)))
        told += 1
    t = ctx.t
    parts = []
    if rooms:
        parts.append(t.plural("{count} room", "{count} rooms", rooms))
    if told:
        parts.append(t.plural("{count} member", "{count} members", told))
    return ", ".join(parts)


def complete_moment(ctx: Context, typed: TypedMoment, usual: time | None) -> tuple[datetime, str]:
    """The start for a typed moment, and a note for the answer when a usual time was taken
    for a date given without one (with no usual time, ask for the time)."""
    if typed.has_time and typed.typed_time:
        return typed.at, ctx.t(
            N_("{typed} does not exist on {day} (the clocks go forward): I took {time}."),
            typed=typed.typed_time,
            day=ctx.t.date(typed.at.date()),
            time=f"{typed.at:%H:%M}",
        )
    if typed.has_time:
        return typed.at, ""
    if usual is None:
        raise UserError(ASK_TIME, example=f"{ctx.t.date(typed.at.date(), 'short')} 8:30")
    start = datetime.combine(typed.at.date(), usual, tzinfo=typed.at.tzinfo)
    if start <= ctx.now():
        raise UserError(N_("{moment} is in the past."), moment=ctx.t.datetime(start, "short"))
    return start, ctx.t(N_("No time was given, so I took the usual {time}."), time=f"{usual:%H:%M}")


def first_of_rule(rule: str, local: datetime) -> datetime:
    """The series starts on the rule's first date (RFC 5545 leaves an unaligned start undefined)."""
    first = next(iter(rrulestr(rule, dtstart=local)), None)
    if first is None:
        raise UserError(N_("That repetition gives no date after now."))
    return first


def _check_reminders(text: str) -> None:
    try:
        parse_offsets(text)
    except ValueError:
        raise UserError(
            N_("Reminders look like 1d,2h or 30m (at most 7 days before, 5 reminders).")
        ) from None


@commands.command(
    "meetup show",
    help=N_("A meetup: its next dates, who comes, where"),
    examples=("meetup show 3",),
)
async def show(ctx: Context, meetup: MeetupArg) -> Reply:
    assert meetup.id is not None
    t = ctx.t
    venue = ctx.session.get(Venue, meetup.venue_id) if meetup.venue_id else None
    rsvps = store.rsvps_of(ctx.session, meetup.id)
    lines = []
    for index, occurrence in enumerate(upcoming(ctx, meetup), start=1):
        tally = counts(rsvps, occurrence.key)
        going = tally.get(GOING, 0) + tally.get(OFFERED, 0)
        seats = f"{going}/{meetup.capacity}" if meetup.capacity else str(going)
        extra = t(N_("{count} waiting"), count=tally[WAITING]) if tally.get(WAITING) else ""
        lines.append(
            f"{index}. {when_line(t, occurrence)} · "
            + t(N_("{seats} going"), seats=seats)
            + (" · " + t(MAYBE_COUNT, count=tally[MAYBE]) if tally.get(MAYBE) else "")
            + (f" · {extra}" if extra else "")
        )
    circle = ctx.session.get(Circle, meetup.circle_id) if meetup.circle_id else None
    project = ctx.session.get(Project, meetup.project_id) if meetup.project_id else None
    fields = [
        Field(t(N_("Format")), format_label(ctx, t, meetup.format), inline=True),
        Field(t(N_("Where")), place_of(meetup, venue), inline=True),
        Field(
            t(N_("Duration")),
            t(N_("{minutes} minutes"), minutes=meetup.duration_minutes),
            inline=True,
        ),
        Field(t(N_("Next dates")), "\n".join(lines) or t(N_("none"))),
    ]
    if circle is not None:
        fields.append(Field(t(N_("Circle")), circle.name, inline=True))
    if project is not None:
        fields.append(Field(t(N_("Project")), f"#{project.id} {project.title}", inline=True))
    if venue is not None and venue.accessibility:
        fields.append(Field(t(N_("Accessibility")), venue.accessibility))
    mine = effective_status(rsvps, SERIES).get(ctx.actor_id)
    if mine is not None and not ctx.shared:
        fields.append(Field(t(N_("You")), t(STATUS_LABEL[mine.status]), inline=True))
    status = "" if meetup.status == "active" else " (" + t(CANCELLED) + ")"
    return Reply(
        title=f"#{meetup.id} {meetup.title}{status}",
        text=meetup.description,
        fields=tuple(fields),
        actions=rsvp_actions(t, meetup) if meetup.status == "active" else (),
    )


@commands.command(
    "meetup list",
    help=N_("Coming meetups, of one circle or all"),
    examples=("meetup list", "meetup list brussels week"),
)
async def meetup_list(
    ctx: Context,
    circle: Annotated[Circle | None, Opt(CircleRef(), N_("Only this circle"))] = None,
    period: Annotated[str, Opt(OneOf(PERIODS, PERIOD_WORDS), N_("week or month"))] = "month",
) -> Reply:
    now = ctx.now()
    end = now + (timedelta(days=7) if period == "week" else timedelta(days=31))
    meetups = store.active_meetups(ctx.session, circle_id=circle.id if circle else None)
    rows: list[tuple[Occurrence, Meetup]] = []
    for meetup in meetups:
        assert meetup.id is not None
        if not may_see(ctx, meetup):
            continue
        for occurrence in occurrences(meetup, store.changes_of(ctx.session, meetup.id), now, end):
            rows.append((occurrence, meetup))
    if not rows:
        return ctx.say(N_("No meetup planned in that period."))
    rows.sort(key=lambda pair: pair[0].start)
    lines = [f"- {when_line(ctx.t, o)} · **{m.title}** (#{m.id})" for o, m in rows[:40]]
    return Reply(
        title=ctx.t(N_("Meetups {period}"), period=ctx.t(PERIODS[period])), text="\n".join(lines)
    )


@commands.command(
    "meetup edit",
    help=N_("Change a meetup (organisers)"),
    examples=("meetup edit 3 capacity=15 venue=kop",),
)
async def edit(
    ctx: Context,
    meetup: MeetupArg,
    *,
    title: Annotated[str | None, Opt(Text(120), N_("The meetup's name"))] = None,
    description: Annotated[str | None, Opt(Text(2000), N_("What to expect"))] = None,
    format: Annotated[Term | None, Opt(Vocabulary("formats"), N_("The format"))] = None,
    venue: Annotated[Venue | None, Opt(VenueRef(), N_("Where"))] = None,
    online: Annotated[str | None, Opt(Text(300), N_("Or an online link"))] = None,
    capacity: Annotated[int | None, Opt(Integer(1, 10_000), N_("How many places"))] = None,
    duration: Annotated[int | None, Opt(Duration(), N_("How long: 90m, 1h30, 2h"))] = None,
    reminders: Annotated[str | None, Opt(Text(40), N_("Reminders before it: 1d,1h"))] = None,
) -> Reply:
    ensure_organiser(ctx, meetup)
    ensure_active(meetup)
    given = (title, description, format, venue, online, capacity, duration, reminders)
    if all(value is None for value in given):
        raise UserError(N_("Tell me what to change, for example title=…"), show_usage=True)
    if reminders is not None:
        _check_reminders(reminders)
        meetup.reminders = ",".join(format_offset(m) for m in parse_offsets(reminders))
    meetup.title = title or meetup.title
    meetup.description = description if description is not None else meetup.description
    meetup.format = format.key if format else meetup.format
    if venue is not None:
        meetup.venue_id, meetup.online_link = venue.id, ""
    if online is not None:
        meetup.online_link = online
    before = meetup.capacity
    meetup.capacity = capacity or meetup.capacity
    where = venue or (ctx.session.get(Venue, meetup.venue_id) if meetup.venue_id else None)
    check_capacity(meetup.capacity, where if meetup.venue_id else None)
    meetup.duration_minutes = duration or meetup.duration_minutes
    ctx.session.add(meetup)
    ctx.session.flush()
    if before is not None and (meetup.capacity is None or meetup.capacity > before):
        _offer_freed_places(ctx, meetup)
    replan(ctx, meetup)
    return await show(ctx, meetup)


def _offer_freed_places(ctx: Context, meetup: Meetup) -> None:
    """More places: offer them to those waiting (for the series and for each date), first come
    first served, the same way as a place freed by someone who no longer comes."""
    assert meetup.id is not None
    keys = dict.fromkeys(
        r.occurrence for r in store.rsvps_of(ctx.session, meetup.id) if r.status == WAITING
    )
    for key in keys:
        while _offer_next(ctx, meetup, key) is not None:
            ctx.session.flush()


# -- RSVP and the waitlist ----------------------------------------------------------------------


def _offer_next(ctx: Context, meetup: Meetup, key: str) -> Rsvp | None:
    return offer_next(
        ctx.session,
        meetup,
        key,
        ctx.now(),
        ctx.settings.waitlist_offer_hours,
        ctx.translator_for,
        ctx.notify_member,
    )


def answer_rsvp(
    ctx: Context, meetup: Meetup, member_id: int, answer: str, occurrence: Occurrence | None
) -> str:
    """Record an answer (if this member may give it); returns the member's resulting status."""
    assert meetup.id is not None
    ensure_may_answer(ctx, meetup, member_id)
    key = occurrence.key if occurrence else SERIES
    store.lock_places(ctx.session, meetup.id)  # no overbooking by concurrent answers
    rsvps = store.rsvps_of(ctx.session, meetup.id)
    current = next((r for r in rsvps if r.member_id == member_id and r.occurrence == key), None)
    before = current.status if current else None
    if occurrence is not None and before is None:
        series = next(
            (r for r in rsvps if r.member_id == member_id and r.occurrence == SERIES), None
        )
        before = series.status if series else None
    was_going = current is not None and current.status == GOING
    status = answer
    if answer == GOING and (current is None or current.status not in HOLDS_PLACE):
        if before in HOLDS_PLACE and occurrence is not None:
            status = GOING
        elif meetup.capacity is not None and held(rsvps, key) >= meetup.capacity:
            status = WAITING
    if current is None:
        current = Rsvp(
            meetup_id=meetup.id,
            member_id=member_id,
            occurrence=key,
            status=status,
            updated_at=ctx.now(),
        )
    elif not (current.status == WAITING and status == WAITING):
        current.updated_at = ctx.now()  # a waiting member keeps their place in the queue
    current.status, current.offered_until = status, None
    ctx.session.add(current)
    ctx.session.flush()
    if status == GOING and not was_going:
        facts.record_meetup(ctx.session, facts.RSVP_GOING, meetup, key, member_id, ctx.now())
    if before in HOLDS_PLACE and status not in HOLDS_PLACE:
        _offer_next(ctx, meetup, key)
    replan(ctx, meetup, only={member_id})
    return status


@commands.command(
    "meetup rsvp",
    help=N_("Say if you come: going, maybe or no"),
    examples=("meetup rsvp 3 going", "meetup rsvp 3 no 2027-01-18"),
    visibility=Visibility.PRIVATE,
)
async def rsvp(
    ctx: Context,
    meetup: MeetupArg,
    answer: Annotated[str, Opt(OneOf(ANSWERS, ANSWER_WORDS), N_("going, maybe or no"))],
    occurrence: OccurrenceOpt = None,
) -> Reply:
    ensure_active(meetup)
    found = resolve_occurrence(ctx, meetup, occurrence) if occurrence else None
    if found is not None and found.cancelled:
        raise UserError(N_("That date is cancelled."))
    status = answer_rsvp(ctx, meetup, ctx.actor_id, answer, found)
    t = ctx.t
    when = when_line(t, found) if found else t(N_("every date"))
    if status == WAITING:
        assert meetup.id is not None
        rsvps = store.rsvps_of(ctx.session, meetup.id)
        key = found.key if found else SERIES
        waiting = queue(rsvps, key)
        position = next(i for i, r in enumerate(waiting, 1) if r.member_id == ctx.actor_id)
        text = t(
            N_(
                "{title} is full ({when}). You are number {position} on the waitlist; I "
                "tell you when a place frees up."
            ),
            title=meetup.title,
            when=when,
            position=position,
        )
    else:
        text = t(
            N_("Noted: {answer} for {title} ({when})."),
            answer=t(STATUS_LABEL[status]),
            title=meetup.title,
            when=when,
        )
    return Reply(text=text, visibility=Visibility.PRIVATE, refresh=f"meetup show {meetup.id}")


@commands.command(
    "meetup attendees",
    help=N_("Who comes to a meetup"),
    examples=("meetup attendees 3", "meetup attendees 3 2027-01-18"),
)
async def attendees(ctx: Context, meetup: MeetupArg, occurrence: OccurrenceOpt = None) -> Reply:
    assert meetup.id is not None
    t = ctx.t
    other = ""
    if occurrence:
        found: Occurrence | None = resolve_occurrence(ctx, meetup, occurrence)
    else:
        coming = upcoming(ctx, meetup, 2)
        found = coming[0] if coming else None
        if len(coming) > 1:  # a series: say which date this is, and how to see another
            other = t(
                N_("These are the answers for the next date, {when}. For another date: {command}"),
                when=when_line(t, coming[0]),
                command=f"`{_attendees_example(ctx, meetup, coming[1])}`",
            )
    if found is None:
        return Reply(text=t(N_("Meetup #{number} has no coming date."), number=meetup.id))
    rsvps = store.rsvps_of(ctx.session, meetup.id)
    answers = effective_status(rsvps, found.key)
    members = {
        m.id: m for m in ctx.session.exec(select(Member).where(col(Member.id).in_(list(answers))))
    }
    groups: dict[str, list[str]] = {}
    for member_id, answer in sorted(answers.items(), key=lambda p: (p[1].updated_at, p[0])):
        member = members.get(member_id)
        if member is None:
            continue
        mark = " ✓" if answer.checked_in else ""
        groups.setdefault(answer.status, []).append(f"{member.display_name} (#{member.id}){mark}")
    fields = tuple(
        Field(f"{t(STATUS_LABEL[s])} ({len(names)})", ", ".join(names))
        for s in (GOING, OFFERED, MAYBE, WAITING, NO)
        if (names := groups.get(s))
    )
    text = "" if fields else t(N_("Nobody answered yet."))
    return Reply(
        title=f"#{meetup.id} {meetup.title} · {when_line(t, found)}",
        text="\n".join(part for part in (text, other) if part),
        fields=fields,
    )


def _attendees_example(ctx: Context, meetup: Meetup, occurrence: Occurrence) -> str:
    """``!meetup attendees 3 2027-01-18`` (or its slash form), for the given date."""
    return _date_example(ctx, meetup, occurrence, "meetup attendees")


def _date_example(ctx: Context, meetup: Meetup, occurrence: Occurrence, command: str) -> str:
    """``!<command> 3 2027-01-18`` (or its slash form), for the given date."""
    day = occurrence.start.astimezone(ctx.settings.zone).date().isoformat()
    example = f"{command} {meetup.id} {day}"
    prefix = ctx.settings.platform_prefix(ctx.platform)
    spec = ctx.registry.get(command)
    if spec is not None:
        return shown_example(ctx.registry, spec, example, prefix)
    return prefix + example


# -- cancel, move, check in ---------------------------------------------------------------------


def _tell_everyone(
    ctx: Context,
    meetup: Meetup,
    occurrence: Occurrence | None,
    message: LazyText,
    **params: object,
) -> int:
    """Notify every member who answered (for that date, or any), in their language."""
    assert meetup.id is not None
    rsvps = store.rsvps_of(ctx.session, meetup.id)
    if occurrence is not None:
        people = {m for m, r in effective_status(rsvps, occurrence.key).items() if r.status != NO}
    else:
        people = {r.member_id for r in rsvps if r.status != NO}
    people.discard(ctx.actor_id)
    for member_id in people:
        member = ctx.session.get(Member, member_id)
        if member is None:
            continue
        t = ctx.translator_for(member)
        when = when_line(t, occurrence) if occurrence else t(N_("every date"))
        shown = {
            k: t.datetime(v, "short") if isinstance(v, datetime) else v for k, v in params.items()
        }
        ctx.notify_member(
            member_id, Reply(text=t(message, title=f"**{meetup.title}**", when=when, **shown))
        )
    return len(people)


@commands.command(
    "meetup cancel",
    help=N_("Cancel one date, or the whole meetup (organisers)"),
    examples=("meetup cancel 3 2027-01-18", "meetup cancel 3"),
)
async def cancel(ctx: Context, meetup: MeetupArg, occurrence: OccurrenceOpt = None) -> Reply:
    ensure_organiser(ctx, meetup)
    ensure_active(meetup)
    assert meetup.id is not None
    if occurrence:
        found = resolve_occurrence(ctx, meetup, occurrence)
        if found.cancelled:
            raise UserError(N_("That date is already cancelled."))
        change = store.change_for(ctx.session, meetup.id, found.original_start)
        change.cancelled = True
        ctx.session.add(change)
        # cancelled once it had taken place: it did not, after all (the follow-up's figure)
        facts.forget_held(ctx.session, meetup.id, found.key)
        told = _tell_everyone(ctx, meetup, found, N_("Cancelled: {title} on {when}."))
        text = ctx.t(
            N_("{when} cancelled; {count} told."), when=when_line(ctx.t, found), count=told
        )
    else:
        told = _tell_everyone(ctx, meetup, None, N_("Cancelled: {title}, {when}."))
        meetup.status = "cancelled"
        ctx.session.add(meetup)
        text = ctx.t(N_("Meetup #{number} cancelled; {count} told."), number=meetup.id, count=told)
    ctx.session.flush()
    replan(ctx, meetup)
    return Reply(text=text)


@commands.command(
    "meetup move",
    help=N_("Move one date, or the whole series (organisers)"),
    examples=('meetup move 3 2027-01-18 "2027-01-19 08:30"', 'meetup move 3 series "dinsdag 9:00"'),
)
async def move(
    ctx: Context,
    meetup: MeetupArg,
    occurrence: Annotated[str, Opt(Text(40), N_("The date to move, or “series”"))],
    typed: Annotated[
        TypedMoment, Opt(When(time_optional=True), N_("The new start"), rest=True, name="start")
    ],
) -> Reply:
    ensure_organiser(ctx, meetup)
    ensure_active(meetup)
    assert meetup.id is not None
    # a new date without a time keeps the meetup's own time of day
    start, note = complete_moment(ctx, typed, meetup.local_start.time())
    if fold(occurrence) in ("series", "reeks", "serie", "all", "alle", "tout"):
        local = start.astimezone(ZoneInfo(meetup.timezone))
        old_day = meetup.local_start.weekday()
        meetup.local_start, meetup.first_start = local.replace(tzinfo=None), start.astimezone(UTC)
        if meetup.rrule and "BYDAY=" in meetup.rrule and old_day != local.weekday():
            meetup.rrule = meetup.rrule.replace(
                f"BYDAY={WEEKDAY_CODES[old_day]}", f"BYDAY={WEEKDAY_CODES[local.weekday()]}"
            )
        for change in store.changes_of(ctx.session, meetup.id):
            ctx.session.delete(change)
        for answer in store.rsvps_of(ctx.session, meetup.id):
            if answer.occurrence != SERIES and answer.updated_at >= ctx.now() - timedelta(days=1):
                ctx.session.delete(answer)
        ctx.session.add(meetup)
        told = _tell_everyone(
            ctx, meetup, None, N_("{title} moves: from now on {start}."), start=start
        )
        text = ctx.t(N_("Meetup #{number} moved; {count} told."), number=meetup.id, count=told)
    else:
        found = resolve_occurrence(ctx, meetup, occurrence)
        change = store.change_for(ctx.session, meetup.id, found.original_start)
        change.new_start, change.cancelled = start.astimezone(UTC), False
        ctx.session.add(change)
        moved = Occurrence(
            found.key,
            found.original_start,
            start.astimezone(UTC),
            start + timedelta(minutes=meetup.duration_minutes),
        )
        told = _tell_everyone(
            ctx,
            meetup,
            found,
            N_("{title} on {when} moves to {start}."),
            start=start,
        )
        text = ctx.t(
            N_("{when} moved to {start}; {count} told."),
            when=when_line(ctx.t, found),
            start=when_line(ctx.t, moved),
            count=told,
        )
    ctx.session.flush()
    replan(ctx, meetup)
    return Reply(text="\n".join(part for part in (text, note) if part))


@commands.command(
    "meetup checkin",
    help=N_("Say you were there (or an animator says who was)"),
    examples=("meetup checkin 3", "meetup checkin 3 #12"),
)
async def checkin(
    ctx: Context,
    meetup: MeetupArg,
    member: Annotated[Member | None, Opt(MemberRef(), N_("Who (animators only)"))] = None,
    occurrence: OccurrenceOpt = None,
) -> Reply:
    assert meetup.id is not None
    who = member or ctx.actor
    assert who.id is not None
    if who.id != ctx.actor_id:
        ensure_organiser(ctx, meetup)
    else:  # saying one was there is an answer too
        ensure_may_answer(ctx, meetup, who.id)
    if occurrence:
        found = resolve_occurrence(ctx, meetup, occurrence)
    else:
        recent = occurrences(
            meetup,
            store.changes_of(ctx.session, meetup.id),
            ctx.now() - timedelta(hours=12),
            ctx.now() + timedelta(hours=2),
        )
        if not recent:
            raise UserError(
                N_("Meetup #{number} is not happening now; name the date."), number=meetup.id
            )
        found = recent[-1]
    if found.start > ctx.now() + timedelta(hours=2):
        raise UserError(N_("That date has not started yet."))
    store.lock_places(ctx.session, meetup.id)  # as every answer: after an RSVP, not beside it
    existing = store.rsvp_for(ctx.session, meetup.id, who.id, found.key)
    answer = existing or Rsvp(
        meetup_id=meetup.id,
        member_id=who.id,
        occurrence=found.key,
        status=GOING,
        updated_at=ctx.now(),
    )
    if existing is None or existing.status != GOING:  # one who was there came: "going" too
        facts.record_meetup(ctx.session, facts.RSVP_GOING, meetup, found.key, who.id, ctx.now())
    if not answer.checked_in:
        facts.record_meetup(ctx.session, facts.CHECKED_IN, meetup, found.key, who.id, ctx.now())
    answer.checked_in, answer.status = True, GOING
    ctx.session.add(answer)
    reply = ctx.say(
        N_("{name} was at {title} on {when}. Thank you for coming!"),
        name=who.display_name,
        title=meetup.title,
        when=when_line(ctx.t, found),
    )
    if who.id == ctx.actor_id:
        return reply
    # marked by an animator (a button of ``meetup attendance``): that message shows it
    return replace(reply, refresh=f"meetup attendance {meetup.id} {found.key}")


# -- attendance ---------------------------------------------------------------------------------

SHOWN_PRESENT_BUTTONS = 20  # Discord shows 25 buttons at most; Matrix numbers its choices


def latest_started(ctx: Context, meetup: Meetup) -> Occurrence | None:
    """The latest date of a meetup that has started (not cancelled), within the last 400 days."""
    assert meetup.id is not None
    now = ctx.now()
    past = occurrences(
        meetup,
        store.changes_of(ctx.session, meetup.id),
        now - timedelta(days=400),
        now + timedelta(seconds=1),
    )
    started = [o for o in past if o.start <= now]
    return started[-1] if started else None


def past_occurrence(ctx: Context, meetup: Meetup, occurrence: str | None) -> Occurrence:
    """The date attendance is about: the one named (it must have started and not be
    cancelled), else the latest that has started."""
    if occurrence:
        found = resolve_occurrence(ctx, meetup, occurrence)
        if found.cancelled:
            raise UserError(N_("That date is cancelled."))
        if found.start > ctx.now():
            raise UserError(N_("That date has not started yet."))
        return found
    latest = latest_started(ctx, meetup)
    if latest is None:
        raise UserError(N_("Meetup #{number} has not started yet."), number=meetup.id)
    return latest


def ensure_attendance_keeper(ctx: Context, meetup: Meetup) -> None:
    """Attendance is kept by who organises: the circle's animators, the project lead, its
    organiser while they may schedule there, admins (is_organiser)."""
    if not is_organiser(ctx, meetup):
        raise PermissionDenied(
            N_("Only the animators of its circle (or its organiser) keep a meetup's attendance.")
        )


@commands.command(
    "meetup attendance",
    help=N_("Who registered and who was there; mark them present (organisers)"),
    examples=("meetup attendance 3", "meetup attendance 3 2027-01-18"),
)
async def attendance(ctx: Context, meetup: MeetupArg, occurrence: OccurrenceOpt = None) -> Reply:
    assert meetup.id is not None
    ensure_attendance_keeper(ctx, meetup)
    found = past_occurrence(ctx, meetup, occurrence)
    t = ctx.t
    rsvps = store.rsvps_of(ctx.session, meetup.id)
    answers = effective_status(rsvps, found.key)
    present = {r.member_id for r in rsvps if r.occurrence == found.key and r.checked_in}
    going = {m for m, r in answers.items() if r.status in (GOING, OFFERED)} | present
    booked = facts.going_before(ctx.session, meetup.id, found.key, found.start)
    walk_ins = present - booked
    registered = going - walk_ins
    ids = list(going)
    members = {m.id: m for m in ctx.session.exec(select(Member).where(col(Member.id).in_(ids)))}

    def name(member_id: int) -> str:
        member = members.get(member_id)
        return f"{member.display_name} (#{member_id})" if member else f"#{member_id}"

    def order(member_id: int) -> tuple[str, int]:
        member = members.get(member_id)
        return (fold(member.display_name) if member else "", member_id)

    lines = [
        f"- {name(m)}" + (" ✅" if m in present else "")
        for m in sorted(registered, key=order)
        if m in members
    ]
    fields = [
        Field(
            t(N_("Registered ({count})"), count=len(registered)),
            "\n".join(lines) or t(N_("none")),
        )
    ]
    if walk_ins:
        fields.append(
            Field(
                t(N_("Walk-ins ({count})"), count=len(walk_ins)),
                ", ".join(name(m) for m in sorted(walk_ins, key=order)),
            )
        )
    summary = t(
        N_("Registered: {registered} · present: {present} · walk-ins: {walk_ins}"),
        registered=len(registered),
        present=len(present),
        walk_ins=len(walk_ins),
    )
    parts = [summary]
    if not occurrence:  # say which date this is, and how to see another
        parts.append(
            t(
                N_("This is the latest date that has started. For another one: {command}"),
                command=f"`{_date_example(ctx, meetup, found, 'meetup attendance')}`",
            )
        )
    absent = [m for m in sorted(registered - present, key=order) if m in members]
    actions = tuple(
        Action.yes(
            members[m].display_name,
            f"meetup checkin {meetup.id} member=#{m} occurrence={found.key}",
        )
        for m in absent[:SHOWN_PRESENT_BUTTONS]
    )
    if len(absent) > SHOWN_PRESENT_BUTTONS:
        parts.append(
            t(
                N_("More than {count} to mark: {command}"),
                count=SHOWN_PRESENT_BUTTONS,
                command=f"`meetup checkin {meetup.id} member=… occurrence={found.key}`",
            )
        )
    return Reply(
        title=f"#{meetup.id} {meetup.title} · {when_line(t, found)}",
        text="\n".join(parts),
        fields=tuple(fields),
        actions=actions,
    )


@commands.command(
    "meetup absent",
    help=N_("Take back a check-in marked by mistake (organisers)"),
    examples=("meetup absent 3 #12", "meetup absent 3 #12 2027-01-18"),
)
async def absent(
    ctx: Context,
    meetup: MeetupArg,
    member: Annotated[Member, Opt(MemberRef(), N_("Who was not there"))],
    occurrence: OccurrenceOpt = None,
) -> Reply:
    assert meetup.id is not None
    assert member.id is not None
    ensure_attendance_keeper(ctx, meetup)
    found = past_occurrence(ctx, meetup, occurrence)
    answer = store.rsvp_for(ctx.session, meetup.id, member.id, found.key)
    if answer is None or not answer.checked_in:
        raise UserError(
            N_("{name} is not marked present on {when}."),
            name=member.display_name,
            when=when_line(ctx.t, found),
        )
    ctx.acting_for(meetup.created_by, f"meetup #{meetup.id}")
    answer.checked_in = False  # still registered ("going"), no longer present
    ctx.session.add(answer)
    facts.take_back_check_in(ctx.session, meetup.id, found.key, member.id)
    reply = ctx.say(
        N_("{name} is no longer marked present at {title} on {when}."),
        name=member.display_name,
        title=meetup.title,
        when=when_line(ctx.t, found),
    )
    return replace(reply, refresh=f"meetup attendance {meetup.id} {found.key}")


# -- calendar export ----------------------------------------------------------------------------


@commands.command(
    "meetup ics",
    help=N_("A calendar file (.ics) of a meetup or a circle"),
    examples=("meetup ics 3", "meetup ics circle=brussels"),
)
async def ics(
    ctx: Context,
    meetup: Annotated[Meetup | None, Opt(MeetupRef(), N_("The meetup number"))] = None,
    *,
    circle: Annotated[Circle | None, Opt(CircleRef(), N_("Or all meetups of a circle"))] = None,
) -> Reply:
    if (meetup is None) == (circle is None):
        raise UserError(N_("Name a meetup, or a circle with circle=…"), show_usage=True)
    chosen: Iterable[Meetup]
    if meetup is not None:
        chosen, name = [meetup], f"meetup-{meetup.id}.ics"
    else:
        assert circle is not None
        chosen, name = store.active_meetups(ctx.session, circle_id=circle.id), f"{circle.key}.ics"
    content = calendar_for(ctx, list(chosen))
    return Reply(
        text=ctx.t(N_("Add it to your calendar: open the attached file.")),
        attachments=(Attachment(name, content, "text/calendar"),),
    )
