"""Discussion topics (issue 13): members propose what they want to talk about; at enough
support, or when an animator accepts, the topic gets a place of its own.

    !topic propose "Pricing a day of work" circle=gent text="How do you set your rate?"
    !topic support 3          (or its 👍 button / reaction)
    !topic follow 3           hear when it opens, and be invited into its room
    !topic list sort=recent   open, popular (default), recent, or one circle's
    !topic accept 3           an animator of its circle (or an admin): open it now
    !topic close 3            its author, an animator of its circle or an admin
    !meetup create "Pricing evening" topic=3 start="jeudi 19h"   a meetup planned from it

Who may do what (checked here, whatever the way in): anyone proposes an open-to-all topic, or
one for a circle they belong to; anyone who may see a topic supports or follows it (a circle's
topic: its members); its author, the circle's animators and the admins close or archive it;
the animators (admins for open-to-all topics) accept it. The place itself is opened by the
topics job (scheduler/topics.py).
"""

from __future__ import annotations

from typing import Annotated

from sqlmodel import col, func, select

from bot.context import Context
from bot.errors import NotFound, PermissionDenied, UserError
from bot.i18n import N_, Translator
from bot.params import Flag, Integer, OneOf, Text
from bot.reply import Action, ActionStyle, Field, Reply, Visibility
from bot.spec import CommandSet, Opt
from commands.refs import CircleRef
from storage import facts
from storage import topics as store
from storage.circles import Circle, CircleMembership, is_animator, membership
from storage.folding import fold
from storage.meetups import Meetup
from storage.topics import Topic, TopicMember

commands = CommandSet()
commands.group("topic", help=N_("Discussion topics that members propose"))

TopicArg = Annotated[int, Opt(Integer(1, 10**12), N_("The topic's number"), name="topic")]
LIST_LIMIT = 15
SORTS = {"popular": N_("popular"), "recent": N_("recent"), "open": N_("open")}
STATE_NAMES = {
    store.PROPOSED: N_("looking for support"),
    store.OPENING: N_("opening"),
    store.OPEN: N_("open"),
    store.CLOSED: N_("closed"),
    store.ARCHIVED: N_("archived"),
}


# -- finding and guarding ----------------------------------------------------------------------


def topic_by_number(ctx: Context, number: int) -> Topic:
    topic = ctx.session.get(Topic, number)
    if topic is None or not may_see(ctx, topic):
        raise NotFound(N_("There is no topic {number}."), number=number)
    return topic


def is_member(ctx: Context, circle_id: int) -> bool:
    return membership(ctx.session, circle_id, ctx.actor_id) is not None


def may_see(ctx: Context, topic: Topic) -> bool:
    return topic.circle_id is None or ctx.is_admin or is_member(ctx, topic.circle_id)


def leads(ctx: Context, topic: Topic) -> bool:
    """An animator of the topic's circle, or an admin (open-to-all topics: admins)."""
    if ctx.is_admin:
        return True
    return topic.circle_id is not None and is_animator(ctx.session, ctx.actor_id, topic.circle_id)


def ensure_live(topic: Topic) -> None:
    if topic.state not in store.LIVE:
        raise UserError(N_("Topic {number} is closed."), number=topic.id)


def circle_name(ctx: Context, topic: Topic) -> str:
    if topic.circle_id is None:
        return ctx.t(N_("open to all"))
    circle = ctx.session.get(Circle, topic.circle_id)
    return circle.name if circle else "—"


def topic_actions(t: Translator, topic: Topic) -> tuple[Action, ...]:
    if topic.state not in store.LIVE:
        return ()
    return (
        Action(t(N_("Support")), f"topic support {topic.id}", ActionStyle.PRIMARY, "👍"),
        Action(t(N_("Follow")), f"topic follow {topic.id}", ActionStyle.SECONDARY, "🔔"),
    )


def topic_reply(ctx: Context, topic: Topic, text: str = "") -> Reply:
    assert topic.id is not None
    t = ctx.t
    count = store.supporters(ctx.session, topic.id)
    fields = [
        Field(t(N_("Circle")), circle_name(ctx, topic), inline=True),
        Field(t(N_("State")), t(STATE_NAMES[topic.state]), inline=True),
        Field(
            t(N_("Support")),
            t(
                N_("{count} of the {needed} it needs"),
                count=count,
                needed=ctx.settings.topic_support_threshold,
            )
            if topic.state == store.PROPOSED
            else str(count),
            inline=True,
        ),
    ]
    meetups = ctx.session.exec(
        select(func.count()).select_from(Meetup).where(Meetup.topic_id == topic.id)
    ).one()
    if meetups:
        fields.append(Field(t(N_("Meetups planned from it")), str(meetups), inline=True))
    if topic.messages:
        fields.append(Field(t(N_("Messages in its place")), str(topic.messages), inline=True))
    if topic.place_platform == ctx.platform and topic.place_id:
        fields.append(Field(t(N_("Its place")), place_link(topic)))
    body = "\n\n".join(part for part in (text, topic.text) if part)
    return Reply(
        title=f"#{topic.id} {topic.title}",
        text=body,
        fields=tuple(fields),
        actions=topic_actions(t, topic),
        refresh=f"topic show {topic.id}",
    )


def place_link(topic: Topic) -> str:
    return store.place_reference(topic.place_platform, topic.place_id)


def record(ctx: Context, kind: str, topic: Topic) -> None:
    scope = facts.circle_facts(ctx.session, topic.circle_id)
    facts.record(ctx.session, kind, ctx.now(), member_id=ctx.actor_id, **scope)


def join(ctx: Context, topic: Topic, supports: bool) -> bool:
    """The asker supports (or follows) the topic; False when nothing changed."""
    assert topic.id is not None
    row = store.membership(ctx.session, topic.id, ctx.actor_id)
    if row is not None and (row.supports or not supports):
        return False
    if row is None:
        row = TopicMember(
            topic_id=topic.id, member_id=ctx.actor_id, supports=supports, at=ctx.now()
        )
    else:
        row.supports = True
    ctx.session.add(row)
    ctx.session.flush()
    if supports:
        record(ctx, facts.TOPIC_SUPPORTED, topic)
    if topic.state == store.OPEN and topic.place_platform and topic.place_id:
        ctx.invite(ctx.actor_id, topic.place_platform, topic.place_id)
    return True


def accept(ctx: Context, topic: Topic) -> None:
    """The topic's place is to be opened (by the topics job, once)."""
    topic.state = store.OPENING
    ctx.session.add(topic)
    ctx.changed.add("topics")


# -- commands -------------------------------------------------------------------------------


@commands.command(
    "topic propose",
    help=N_("Propose a discussion topic"),
    examples=(
        'topic propose Pricing a day of work circle=gent text="How do you set your rate?"',
        "topic propose Sharing a van",
    ),
)
async def propose(
    ctx: Context,
    title: Annotated[str, Opt(Text(store.MAX_TITLE), N_("The topic's title"), rest=True)],
    *,
    circle: Annotated[Circle | None, Opt(CircleRef(), N_("Its circle (none: open to all)"))] = None,
    text: Annotated[str, Opt(Text(1000, long=True), N_("A few words on it"))] = "",
) -> Reply:
    if circle is not None:
        assert circle.id is not None
        if circle.archived:
            raise UserError(N_("{circle} is archived."), circle=circle.name)
        if not ctx.is_admin and not is_member(ctx, circle.id):
            raise PermissionDenied(
                N_("Join {circle} first to propose a topic for it."), circle=circle.name
            )
    folded = fold(" ".join(title.split()))
    same = store.live_with_title(ctx.session, folded, circle.id if circle else None)
    if same is not None:
        raise UserError(
            N_("Topic #{number} “{title}” is already proposed: support it with {command}."),
            number=same.id,
            title=same.title,
            command=f"`!topic support {same.id}`",
            actions=(
                Action(ctx.t(N_("Support")), f"topic support {same.id}", ActionStyle.PRIMARY, "👍"),
            ),
        )
    topic = Topic(
        title=" ".join(title.split()),
        title_folded=folded,
        text=text,
        circle_id=circle.id if circle else None,
        author_id=ctx.actor_id,
        created_at=ctx.now(),
        home_platform=ctx.platform,
        home_place=ctx.place or "",
    )
    ctx.session.add(topic)
    ctx.session.flush()
    record(ctx, facts.TOPIC_PROPOSED, topic)
    join(ctx, topic, supports=True)
    if ctx.settings.topic_support_threshold <= 1:
        accept(ctx, topic)
    return topic_reply(
        ctx,
        topic,
        ctx.t(
            N_(
                "Topic #{number} is proposed. At {needed} supporters (or when an animator "
                "accepts it) it gets a place of its own."
            ),
            number=topic.id,
            needed=ctx.settings.topic_support_threshold,
        ),
    )


@commands.command("topic show", help=N_("Show a topic"), examples=("topic show 3",))
async def show(ctx: Context, topic_number: TopicArg) -> Reply:
    return topic_reply(ctx, topic_by_number(ctx, topic_number))


@commands.command(
    "topic support",
    help=N_("Support a proposed topic"),
    examples=("topic support 3",),
    visibility=Visibility.PRIVATE,
)
async def support(ctx: Context, topic_number: TopicArg) -> Reply:
    topic = topic_by_number(ctx, topic_number)
    ensure_live(topic)
    assert topic.id is not None
    if not join(ctx, topic, supports=True):
        raise UserError(N_("You support topic {number} already."), number=topic.id)
    count = store.supporters(ctx.session, topic.id)
    opens = topic.state == store.PROPOSED and count >= ctx.settings.topic_support_threshold
    if opens:
        accept(ctx, topic)
    message = (
        N_("Thank you: topic {number} has {count} supporters and now gets a place of its own.")
        if opens
        else N_("Thank you: topic {number} has {count} supporters.")
    )
    reply = ctx.say(message, number=topic.id, count=count)
    return Reply(text=reply.text, visibility=Visibility.PRIVATE, refresh=f"topic show {topic.id}")


@commands.command(
    "topic follow",
    help=N_("Follow a topic: hear when it opens, be invited in"),
    examples=("topic follow 3",),
    visibility=Visibility.PRIVATE,
)
async def follow(ctx: Context, topic_number: TopicArg) -> Reply:
    topic = topic_by_number(ctx, topic_number)
    ensure_live(topic)
    if not join(ctx, topic, supports=False):
        raise UserError(N_("You follow topic {number} already."), number=topic.id)
    return ctx.say(N_("You follow topic {number}."), number=topic.id)


@commands.command(
    "topic unfollow",
    help=N_("Stop following (or supporting) a topic"),
    examples=("topic unfollow 3",),
    visibility=Visibility.PRIVATE,
)
async def unfollow(ctx: Context, topic_number: TopicArg) -> Reply:
    topic = topic_by_number(ctx, topic_number)
    assert topic.id is not None
    row = store.membership(ctx.session, topic.id, ctx.actor_id)
    if row is None:
        raise UserError(N_("You do not follow topic {number}."), number=topic.id)
    ctx.session.delete(row)
    return ctx.say(N_("You no longer follow topic {number}."), number=topic.id)


@commands.command(
    "topic accept",
    help=N_("Open a topic's place now (animators)"),
    examples=("topic accept 3",),
)
async def accept_topic(ctx: Context, topic_number: TopicArg) -> Reply:
    topic = topic_by_number(ctx, topic_number)
    if not leads(ctx, topic):
        raise PermissionDenied(
            N_("Only the animators of its circle (admins, for a topic open to all) accept it.")
        )
    if topic.state != store.PROPOSED:
        raise UserError(N_("Topic {number} is not waiting for support."), number=topic.id)
    accept(ctx, topic)
    return ctx.say(N_("Topic {number} is accepted: its place is being opened."), number=topic.id)


async def _end(ctx: Context, topic_number: int, state: str) -> Reply:
    topic = topic_by_number(ctx, topic_number)
    if topic.author_id != ctx.actor_id and not leads(ctx, topic):
        raise PermissionDenied(
            N_("Only its author, the animators of its circle and the admins close a topic.")
        )
    if topic.state == state:
        raise UserError(
            N_("Topic {number} is {state} already."),
            number=topic.id,
            state=ctx.t(STATE_NAMES[state]),
        )
    ctx.acting_for(topic.author_id, f"topic #{topic.id}")
    topic.state, topic.closed_at = state, ctx.now()
    ctx.session.add(topic)
    return ctx.say(
        N_("Topic {number} is {state}."), number=topic.id, state=ctx.t(STATE_NAMES[state])
    )


@commands.command(
    "topic close",
    help=N_("Close a topic (its author or an animator)"),
    examples=("topic close 3",),
)
async def close(ctx: Context, topic_number: TopicArg) -> Reply:
    return await _end(ctx, topic_number, store.CLOSED)


@commands.command(
    "topic archive",
    help=N_("Archive a topic: kept, out of the lists"),
    examples=("topic archive 3",),
)
async def archive(ctx: Context, topic_number: TopicArg) -> Reply:
    return await _end(ctx, topic_number, store.ARCHIVED)


@commands.command(
    "topic list",
    help=N_("Discussion topics: popular, recent, open, or a circle's"),
    examples=("topic list", "topic list sort=recent", "topic list circle=gent"),
)
async def topic_list(
    ctx: Context,
    *,
    sort: Annotated[str, Opt(OneOf(SORTS), N_("popular, recent or open"))] = "popular",
    circle: Annotated[Circle | None, Opt(CircleRef(), N_("Only this circle's"))] = None,
    closed: Annotated[bool, Opt(Flag(), N_("Also the closed ones"))] = False,
) -> Reply:
    t = ctx.t
    states: tuple[str, ...] = (*store.LIVE, store.CLOSED) if closed else store.LIVE
    if sort == "open":
        states = (store.OPEN,)
    statement = select(Topic).where(col(Topic.state).in_(states))
    if circle is not None:
        statement = statement.where(Topic.circle_id == circle.id)
    if not ctx.is_admin:
        mine = select(CircleMembership.circle_id).where(CircleMembership.member_id == ctx.actor_id)
        statement = statement.where(col(Topic.circle_id).is_(None) | col(Topic.circle_id).in_(mine))
    supported = (
        select(func.count())
        .select_from(TopicMember)
        .where(TopicMember.topic_id == Topic.id, col(TopicMember.supports))
        .scalar_subquery()
    )
    if sort == "popular":
        statement = statement.order_by(supported.desc(), col(Topic.id).desc())
    else:
        statement = statement.order_by(col(Topic.id).desc())
    topics = list(ctx.session.exec(statement.limit(LIST_LIMIT)))
    if not topics:
        return ctx.say(
            N_("No topics yet. Propose one with {command}."),
            command="`!topic propose …`",
        )
    counts = store.support_counts(ctx.session, [topic.id for topic in topics if topic.id])
    lines = [
        t(
            N_("#{number} {title} · {circle} · {state} · 👍 {count}"),
            number=topic.id,
            title=topic.title,
            circle=circle_name(ctx, topic),
            state=t(STATE_NAMES[topic.state]),
            count=counts.get(topic.id or 0, 0),
        )
        + (
            f" · {place_link(topic)}"
            if topic.place_platform == ctx.platform and topic.place_id
            else ""
        )
        for topic in topics
    ]
    return Reply(title=t(N_("Discussion topics")), text="\n".join(f"- {line}" for line in lines))


def topic_for_meetup(ctx: Context, number: int) -> Topic:
    """The topic a meetup is planned from: it must be live, and seen by the asker."""
    topic = topic_by_number(ctx, number)
    ensure_live(topic)
    return topic
