"""The needs & offers board: post, browse, search, respond, introduce, close, renew, match."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from bot.config import Term
from bot.context import Context
from bot.errors import NotFound, PermissionDenied, UserError
from bot.i18n import N_, Translator
from bot.params import Day, Flag, Integer, MemberRef, OneOf, Text, TextList, Vocabulary
from bot.ratelimit import RateClass
from bot.reply import Action, ActionStyle, Field, Reply, Visibility
from bot.spec import CommandSet, Opt
from bot.text import fold, shorten
from commands import matching
from commands.profile import profile_summary, term_label
from commands.refs import PostRef
from storage import board as store
from storage import facts
from storage import outcome_checks as checks
from storage import projects as project_store
from storage.board import NEED, OFFER, OPEN, Post, Response, Subscription
from storage.identity import Member, accounts_of, members_by_ids
from storage.profiles import details_of
from storage.search import POST, SLOT, search

commands = CommandSet()
commands.group("need", help=N_("Post what you need"))
commands.group("offer", help=N_("Post what you offer"))
commands.group("board", help=N_("The board of needs and offers"))

KINDS = {NEED: N_("need"), OFFER: N_("offer")}
CATEGORIES = {
    "work": N_("work"),
    "material": N_("material"),
    "logistics": N_("logistics"),
    "admin": N_("admin"),
    "other": N_("other"),
}
OUTCOMES = {
    "found_in_community": N_("found in the community"),
    "found_elsewhere": N_("found elsewhere"),
    "withdrawn": N_("withdrawn"),
}
DECISIONS = {"accept": N_("accept"), "decline": N_("decline")}
STATUS = {store.OPEN: N_("open"), store.CLOSED: N_("closed"), store.EXPIRED: N_("expired")}
PAGE_SIZE = 10
MAX_SUBSCRIPTIONS = 10
TAGS = TextList(30, 10)


# -- shared pieces -------------------------------------------------------------------------------


def kind_label(t: Translator, kind: str) -> str:
    return t(KINDS[kind])


def post_line(ctx: Context, t: Translator, post: Post) -> str:
    parts = [f"#{post.id}", kind_label(t, post.kind), f"**{post.title}**"]
    if post.sector:
        parts.append(term_label(ctx.settings.sectors, post.sector, t.locale))
    if post.region:
        parts.append(term_label(ctx.settings.regions, post.region, t.locale))
    if post.remote:
        parts.append(t(N_("remote possible")))
    if post.status != OPEN:
        parts.append(t(STATUS[post.status]))
    return " · ".join(parts)


def slot_line(
    t: Translator, slot: project_store.ProjectSlot, project: project_store.Project
) -> str:
    return t(
        N_("project need · **{role}** for {project} (project #{number})"),
        role=slot.role,
        project=project.title,
        number=project.id,
    )


def end_of_day(ctx: Context, day: date) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=ctx.settings.zone)


def validity(ctx: Context, until: date | None) -> datetime:
    if until is None:
        return ctx.now() + timedelta(days=ctx.settings.post_validity_days)
    if until > ctx.now().astimezone(ctx.settings.zone).date() + timedelta(days=365):
        raise UserError(N_("A post stays at most a year; choose an earlier date."))
    return end_of_day(ctx, until)


def ensure_author(ctx: Context, post: Post) -> None:
    if post.author_id != ctx.actor_id and not ctx.is_admin:
        raise PermissionDenied(N_("That belongs to another member; you cannot change it."))
    ctx.acting_for(post.author_id, f"post #{post.id}")


def tag_names(tags: tuple[str, ...]) -> list[str]:
    """The tags as typed (lower case, accents kept: "éclairage"), one per folded form; they
    are compared folded, so "eclairage" finds "éclairage"."""
    named: dict[str, str] = {}
    for tag in tags:
        named.setdefault(fold(tag), " ".join(tag.split()).lower())
    return list(named.values())


def contact_of(ctx: Context, member: Member) -> str:
    """How to reach a member on each of their platforms."""
    assert member.id is not None
    names = {"discord": "Discord", "matrix": "Matrix", "console": "Console"}
    lines = []
    for account in accounts_of(ctx.session, member.id):
        handle = (
            f"<@{account.platform_user_id}>" if account.platform == "discord" else (account.handle)
        )
        lines.append(f"{names.get(account.platform, account.platform)}: {handle}")
    return "\n".join(lines)


def post_card(ctx: Context, post: Post) -> Reply:
    t = ctx.t
    assert post.id is not None
    author = ctx.session.get(Member, post.author_id)
    tags = store.tags_of(ctx.session, post.id)
    fields = [
        Field(t(N_("Category")), t(CATEGORIES[post.category]), inline=True),
        Field(
            t(N_("Sector")),
            term_label(ctx.settings.sectors, post.sector, t.locale) if post.sector else "—",
            inline=True,
        ),
        Field(
            t(N_("Region")),
            term_label(ctx.settings.regions, post.region, t.locale) if post.region else "—",
            inline=True,
        ),
        Field(t(N_("Remote possible")), t(N_("yes")) if post.remote else t(N_("no")), inline=True),
        Field(t(N_("Valid until")), t.day_of(post.valid_until), inline=True),
        Field(
            t(N_("Status")),
            t(STATUS[post.status])
            + (f" · {t(OUTCOMES[post.outcome])}" if post.outcome in OUTCOMES else ""),
            inline=True,
        ),
    ]
    if tags:
        fields.append(Field(t(N_("Tags")), ", ".join(tags)))
    if author is not None:
        fields.append(Field(t(N_("Posted by")), profile_summary(ctx, author, t)))
    actions: list[Action] = []
    if post.status == OPEN and post.author_id != ctx.actor_id:
        actions.append(
            Action(t(N_("I can help")), f"board respond {post.id}", ActionStyle.PRIMARY, "🤝")
        )
    if post.author_id == ctx.actor_id and post.status != store.CLOSED:
        # a closed post is over: renewing it is refused, so no button offers it
        actions.append(Action(t(N_("Renew")), f"board renew {post.id}"))
    title = f"{kind_label(t, post.kind).capitalize()} #{post.id} · {post.title}"
    return Reply(
        title=shorten(title, 250),
        text=post.description,
        fields=tuple(fields),
        actions=tuple(actions),
    )


# -- posting and matching ----------------------------------------------------------------------


async def create_post(
    ctx: Context,
    kind: str,
    title: str,
    description: str,
    category: str,
    sector: Term | None,
    region: Term | None,
    remote: bool,
    tags: tuple[str, ...],
    until: date | None,
) -> Reply:
    post = Post(
        kind=kind,
        author_id=ctx.actor_id,
        title=title,
        description=description,
        category=category,
        sector=sector.key if sector else None,
        region=region.key if region else None,
        remote=remote,
        valid_until=validity(ctx, until),
        created_at=ctx.now(),
    )
    ctx.session.add(post)
    ctx.session.flush()
    assert post.id is not None
    keys = tag_names(tags)
    store.publish(ctx.session, post, keys)
    facts.record_post(ctx.session, facts.POST_PUBLISHED, post, post.created_at, ctx.actor_id)
    fields = list(_suggestions(ctx, post, keys))
    _queue_for_subscribers(ctx, post, keys)
    t = ctx.t
    return Reply(
        title=t(
            N_("{kind} #{number} posted"), kind=kind_label(t, kind).capitalize(), number=post.id
        ),
        text=post_line(ctx, t, post)
        + "\n"
        + t(
            N_("It stays on the board until {date}; members who fit are told."),
            date=t.day_of(post.valid_until),
        ),
        fields=tuple(fields),
        actions=(Action(t(N_("Show")), f"board show {post.id}"),),
    )


def _suggestions(ctx: Context, post: Post, tags: list[str]) -> list[Field]:
    t = ctx.t
    assert post.id is not None
    fields: list[Field] = []
    candidates = matching.matching_posts(ctx.session, post, tags)
    post_ids = [c.source_id for c in candidates if c.source == POST]
    found = store.posts_by_ids(ctx.session, post_ids)
    # the authors told below, in one query; held here, as the session's identity map keeps
    # only objects that something else refers to (session.get would query them one by one)
    authors = members_by_ids(ctx.session, [other.author_id for other in found.values()])
    lines = []
    for candidate in candidates:
        if candidate.source == POST and candidate.source_id in found:
            other = found[candidate.source_id]
            lines.append(f"- {post_line(ctx, t, other)}")
            _tell_author_of_match(ctx, authors.get(other.author_id), other, post)
        elif candidate.source == SLOT:
            slot = ctx.session.get(project_store.ProjectSlot, candidate.source_id)
            project = ctx.session.get(project_store.Project, slot.project_id) if slot else None
            if slot and project:
                lines.append(f"- {slot_line(t, slot, project)}")
    if lines:
        label = N_("Offers that may fit") if post.kind == NEED else N_("Needs that may fit")
        fields.append(Field(t(label), "\n".join(lines)))
    members = matching.matching_members(
        ctx.session,
        sector=post.sector,
        region=post.region,
        text=f"{post.title} {' '.join(tags)}",
        exclude={ctx.actor_id},
        viewer_id=None if ctx.is_admin else ctx.actor_id,
    )
    if members:
        details = details_of(ctx.session, [m.id for m, _ in members if m.id is not None])
        fields.append(
            Field(
                t(N_("Members who may help"))
                if post.kind == NEED
                else t(N_("Members who may be interested")),
                "\n".join(
                    f"- {profile_summary(ctx, m, t, details.get(m.id or 0))}" for m, _ in members
                ),
            )
        )
    return fields


def _tell_author_of_match(ctx: Context, author: Member | None, theirs: Post, new: Post) -> None:
    if author is None or author.id is None:
        return
    t = ctx.translator_for(author)
    message = (
        N_("A new offer may fit your need #{mine}:")
        if theirs.kind == NEED
        else N_("A new need may fit your offer #{mine}:")
    )
    ctx.notify_member(
        author.id,
        Reply(
            text=t(message, mine=theirs.id) + "\n" + post_line(ctx, t, new),
            actions=(Action(t(N_("Show")), f"board show {new.id}"),),
        ),
    )


def _queue_for_subscribers(ctx: Context, post: Post, tags: list[str]) -> None:
    assert post.id is not None
    for subscription in store.subscriptions_matching(
        ctx.session, post.kind, post.sector, post.region
    ):
        if subscription.member_id == ctx.actor_id:
            continue
        wanted = {fold(t) for t in subscription.tags.split(",") if t}
        if wanted and not wanted & {fold(tag) for tag in tags}:
            continue
        store.queue_digest(ctx.session, subscription.member_id, post.id, ctx.now())


Title = Annotated[str, Opt(Text(120), N_("In a few words"), rest=True)]
Description = Annotated[str, Opt(Text(2000, long=True), N_("The details"))]
Category = Annotated[str, Opt(OneOf(CATEGORIES), N_("work, material, logistics, admin or other"))]
SectorOpt = Annotated[Term | None, Opt(Vocabulary("sectors"), N_("The sector"))]
RegionOpt = Annotated[Term | None, Opt(Vocabulary("regions"), N_("The region"))]
RemoteOpt = Annotated[bool, Opt(Flag(), N_("Can it be done remotely?"))]
TagsOpt = Annotated[tuple[str, ...], Opt(TAGS, N_("Tags, comma-separated"))]
UntilOpt = Annotated[date | None, Opt(Day(), N_("Until when (default: 30 days)"))]


@commands.command(
    "need post",
    help=N_("Post a need: what you are looking for"),
    examples=(
        'need post Sound engineer for Friday description="Concert in Gent, 20h" '
        "sector=audiovisual region=gent tags=sound,live",
    ),
    rate=RateClass.PUBLISH,
)
async def need_post(
    ctx: Context,
    title: Title,
    *,
    description: Description = "",
    category: Category = "work",
    sector: SectorOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    tags: TagsOpt = (),
    until: UntilOpt = None,
) -> Reply:
    return await create_post(
        ctx, NEED, title, description, category, sector, region, remote, tags, until
    )


@commands.command(
    "offer post",
    help=N_("Post an offer: what you can do or lend"),
    examples=("offer post Sound engineer with own gear sector=audiovisual region=gent tags=sound",),
    rate=RateClass.PUBLISH,
)
async def offer_post(
    ctx: Context,
    title: Title,
    *,
    description: Description = "",
    category: Category = "work",
    sector: SectorOpt = None,
    region: RegionOpt = None,
    remote: RemoteOpt = False,
    tags: TagsOpt = (),
    until: UntilOpt = None,
) -> Reply:
    return await create_post(
        ctx, OFFER, title, description, category, sector, region, remote, tags, until
    )


# -- browsing ----------------------------------------------------------------------------------


@commands.command(
    "board list",
    help=N_("The newest needs and offers, with filters"),
    examples=("board list kind=need sector=audiovisual", "board list mine=yes"),
)
async def board_list(
    ctx: Context,
    *,
    kind: Annotated[str | None, Opt(OneOf(KINDS), N_("need or offer"))] = None,
    category: Annotated[str | None, Opt(OneOf(CATEGORIES), N_("The category"))] = None,
    sector: SectorOpt = None,
    region: RegionOpt = None,
    mine: Annotated[bool, Opt(Flag(), N_("Only your own posts (closed ones too)"))] = False,
    before: Annotated[
        Post | None, Opt(PostRef(), N_("Show the posts older than this one (next page)"))
    ] = None,
) -> Reply:
    filters = {
        "kind": kind,
        "category": category,
        "sector": sector.key if sector else None,
        "region": region.key if region else None,
    }
    page = store.list_posts(
        ctx.session,
        **filters,
        author_id=ctx.actor_id if mine else None,
        limit=PAGE_SIZE,
        before=before,
    )
    if not page.posts:
        if before is not None:
            return ctx.say(N_("No older posts match."))
        return ctx.say(
            N_("Nothing on the board matches. Post it yourself with {command}."),
            command="`!need post …`",
        )
    lines = [f"- {post_line(ctx, ctx.t, p)}" for p in page.posts]
    if page.total > store.COUNT_CAP:
        title = ctx.t(N_("More than {count} posts"), count=ctx.t.number(store.COUNT_CAP))
    else:
        title = ctx.t.plural("{count} post", "{count} posts", page.total)
    if page.has_more:
        given = [f"{name}={value}" for name, value in filters.items() if value is not None]
        if mine:
            given.append("mine=yes")
        command = " ".join(["!board list", *given, f"before={page.posts[-1].id}"])
        lines.append(ctx.t(N_("Older posts: {command}"), command=f"`{command}`"))
    return Reply(title=title, text="\n".join(lines))


@commands.command("board show", help=N_("One need or offer, whole"), examples=("board show 12",))
async def board_show(
    ctx: Context,
    post: Annotated[Post, Opt(PostRef(), N_("The post number"))],
) -> Reply:
    return post_card(ctx, post)


@commands.command(
    "board search",
    help=N_("Search the needs, offers and project needs"),
    examples=("board search geluid", "board search theatre kind=offer"),
)
async def board_search(
    ctx: Context,
    text: Annotated[str, Opt(Text(200), N_("Words to look for"), rest=True)],
    *,
    kind: Annotated[str | None, Opt(OneOf(KINDS), N_("need or offer"))] = None,
    sector: SectorOpt = None,
    region: RegionOpt = None,
    page: Annotated[int, Opt(Integer(1, 1000), N_("Page of the results"))] = 1,
) -> Reply:
    hits = search(
        ctx.session,
        fold(text),
        kind=kind,
        sector=sector.key if sector else None,
        region=region.key if region else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    if not hits:
        return ctx.say(N_("Nothing found for “{text}”."), text=text)
    posts = store.posts_by_ids(ctx.session, [h.source_id for h in hits if h.source == POST])
    lines = []
    for hit in hits:
        if hit.source == POST and hit.source_id in posts:
            lines.append(f"- {post_line(ctx, ctx.t, posts[hit.source_id])}")
        elif hit.source == SLOT:
            slot = ctx.session.get(project_store.ProjectSlot, hit.source_id)
            project = ctx.session.get(project_store.Project, slot.project_id) if slot else None
            if slot and project:
                lines.append(f"- {slot_line(ctx.t, slot, project)}")
    return Reply(title=ctx.t(N_("Found for “{text}”"), text=text), text="\n".join(lines))


# -- responding and introducing ----------------------------------------------------------------


@commands.command(
    "board respond",
    help=N_("Answer a post: “I can help”"),
    examples=("board respond 12 I have the gear and I'm free on Friday",),
    rate=RateClass.PUBLISH,
)
async def respond(
    ctx: Context,
    post: Annotated[Post, Opt(PostRef(), N_("The post number"))],
    message: Annotated[str, Opt(Text(1000), N_("A word for the author"), rest=True)] = "",
) -> Reply:
    assert post.id is not None
    if post.status != OPEN:
        raise UserError(N_("Post #{number} is no longer open."), number=post.id)
    if post.author_id == ctx.actor_id:
        raise UserError(N_("That is your own post."))
    if store.response_of(ctx.session, post.id, ctx.actor_id) is not None:
        raise UserError(
            N_("You already answered post #{number}; the author will get back to you."),
            number=post.id,
        )
    response = Response(
        post_id=post.id, responder_id=ctx.actor_id, message=message, created_at=ctx.now()
    )
    ctx.session.add(response)
    ctx.session.flush()
    facts.record_post(ctx.session, facts.POST_RESPONDED, post, response.created_at, ctx.actor_id)
    _plan_checks(ctx, checks.RESPONSE, post, response)
    author = ctx.session.get(Member, post.author_id)
    assert author is not None
    assert author.id is not None
    t = ctx.translator_for(author)
    text = t(
        N_("{name} can help with your {kind} #{number} “{title}”:"),
        name=ctx.actor.display_name,
        kind=kind_label(t, post.kind),
        number=post.id,
        title=post.title,
    )
    text += "\n" + profile_summary(ctx, ctx.actor, t)
    if message:
        text += f"\n> {message}"
    text += "\n" + t(
        N_("Accept, and I introduce you to each other; your contacts are shared only then.")
    )
    ctx.notify_member(
        author.id,
        Reply(
            text=text,
            actions=(
                Action.yes(t(N_("Accept")), f"board intro {response.id} accept"),
                Action.no(t(N_("Decline")), f"board intro {response.id} decline"),
            ),
        ),
    )
    return Reply(
        text=ctx.t(
            N_(
                "Sent to the author of #{number}. If they accept, you are introduced to each other."
            ),
            number=post.id,
        ),
        visibility=Visibility.PRIVATE,
    )


def _plan_checks(ctx: Context, subject: str, post: Post, response: Response) -> None:
    """ "Did it work out?" for the author and the responder, some days from now (see
    storage/outcome_checks.py: a response that becomes an introduction is asked once)."""
    people = ((post.author_id, response.responder_id), (response.responder_id, post.author_id))
    after = timedelta(days=ctx.settings.followup.ask_after_days)
    about = {
        "post_id": post.id,
        "post_kind": post.kind,
        "sector": post.sector,
        "region": post.region,
    }
    key = f"response:{response.id}"
    if subject == checks.INTRODUCTION:
        checks.introduced(ctx.session, key, people, ctx.now(), after, **about)
    else:
        checks.plan(ctx.session, subject, key, people, ctx.now(), after, **about)


@commands.command(
    "board intro",
    help=N_("Accept or decline an answer to your post"),
    examples=("board intro 7 accept",),
    visibility=Visibility.PRIVATE,
)
async def intro(
    ctx: Context,
    response: Annotated[int, Opt(Integer(1, 10**12), N_("The answer's number"))],
    decision: Annotated[str, Opt(OneOf(DECISIONS), N_("accept or decline"))],
) -> Reply:
    answer = ctx.session.get(Response, response)
    post = ctx.session.get(Post, answer.post_id) if answer else None
    if answer is None or post is None or (post.author_id != ctx.actor_id and not ctx.is_admin):
        raise NotFound(N_("There is no answer {number} to one of your posts."), number=response)
    if answer.status != store.PENDING:
        raise UserError(N_("You already decided on answer {number}."), number=response)
    answer.status = store.ACCEPTED if decision == "accept" else store.DECLINED
    answer.decided_at = ctx.now()
    ctx.session.add(answer)
    responder = ctx.session.get(Member, answer.responder_id)
    author = ctx.session.get(Member, post.author_id)
    assert responder is not None
    assert responder.id is not None
    assert author is not None
    assert author.id is not None
    if decision == "accept":
        facts.record_post(ctx.session, facts.INTRODUCTION_MADE, post, ctx.now(), author.id)
        _plan_checks(ctx, checks.INTRODUCTION, post, answer)
    else:
        checks.cancel_unasked(ctx.session, f"response:{answer.id}")
    if decision == "decline":
        t = ctx.translator_for(responder)
        ctx.notify_member(
            responder.id,
            Reply(
                text=t(
                    N_("Thank you for answering “{title}”; the author went another way this time."),
                    title=post.title,
                )
            ),
        )
        return Reply(
            text=ctx.t(
                N_("Declined. {name} is thanked for the offer."), name=responder.display_name
            ),
            visibility=Visibility.PRIVATE,
        )
    for person, other in ((author, responder), (responder, author)):
        assert person.id is not None
        t = ctx.translator_for(person)
        ctx.notify_member(
            person.id,
            Reply(
                title=t(N_("Introduction: {name}"), name=other.display_name),
                text=t(
                    N_("About “{title}” (#{number}). Here is how to reach each other:"),
                    title=post.title,
                    number=post.id,
                )
                + "\n"
                + profile_summary(ctx, other, t)
                + "\n"
                + contact_of(ctx, other),
                visibility=Visibility.DIRECT,
            ),
        )
    return Reply(
        text=ctx.t(
            N_(
                "Accepted: you and {name} are introduced by direct message. "
                "When it worked out, close the post with {command}."
            ),
            name=responder.display_name,
            command=f"`!board close {post.id} found_in_community with=#{responder.id}`",
        ),
        visibility=Visibility.PRIVATE,
    )


# -- the author's own posts ---------------------------------------------------------------------


@commands.command(
    "board close",
    help=N_("Close your post and say how it ended"),
    examples=("board close 12 found_in_community with=#34", "board close 12 withdrawn"),
)
async def close(
    ctx: Context,
    post: Annotated[Post, Opt(PostRef(), N_("The post number"))],
    outcome: Annotated[str, Opt(OneOf(OUTCOMES), N_("How it ended"))],
    *,
    with_: Annotated[
        Member | None, Opt(MemberRef(), N_("Who helped (a member)"), name="with")
    ] = None,
) -> Reply:
    ensure_author(ctx, post)
    if post.status == store.CLOSED:
        raise UserError(N_("Post #{number} is already closed."), number=post.id)
    if with_ is not None and outcome != "found_in_community":
        raise UserError(N_("“with” only goes with found_in_community."))
    if with_ is not None and with_.id == post.author_id:
        raise UserError(N_("Name the member who helped, not yourself."))
    post.status, post.outcome, post.closed_at = store.CLOSED, outcome, ctx.now()
    post.closed_with_id = with_.id if with_ else None
    ctx.session.add(post)
    assert post.id is not None
    store.reindex(ctx.session, post)
    facts.record_post(ctx.session, facts.POST_CLOSED, post, ctx.now(), post.author_id)
    if with_ is not None and with_.id is not None:
        t = ctx.translator_for(with_)
        ctx.notify_member(
            with_.id,
            Reply(
                text=t(
                    N_("{name} closed “{title}”: found in the community, thanks to you!"),
                    name=ctx.actor.display_name,
                    title=post.title,
                )
            ),
        )
    return ctx.say(
        N_("Post #{number} closed: {outcome}."), number=post.id, outcome=ctx.t(OUTCOMES[outcome])
    )


@commands.command(
    "board renew",
    help=N_("Keep your post on the board longer"),
    examples=("board renew 12", "board renew 12 2027-03-31"),
)
async def renew(
    ctx: Context,
    post: Annotated[Post, Opt(PostRef(), N_("The post number"))],
    until: UntilOpt = None,
) -> Reply:
    ensure_author(ctx, post)
    if post.status == store.CLOSED:
        raise UserError(N_("Post #{number} is closed; post it again instead."), number=post.id)
    post.valid_until = validity(ctx, until)
    post.status, post.outcome, post.closed_at, post.expiry_warned = OPEN, None, None, False
    ctx.session.add(post)
    assert post.id is not None
    store.reindex(ctx.session, post)
    return ctx.say(
        N_("Post #{number} stays until {date}."),
        number=post.id,
        date=ctx.t.day_of(post.valid_until),
    )


@commands.command(
    "board edit",
    help=N_("Change your post"),
    examples=('board edit 12 title="Sound engineer for Saturday"',),
)
async def edit(
    ctx: Context,
    post: Annotated[Post, Opt(PostRef(), N_("The post number"))],
    *,
    title: Annotated[str | None, Opt(Text(120), N_("In a few words"))] = None,
    description: Annotated[str | None, Opt(Text(2000), N_("The details"))] = None,
    category: Annotated[str | None, Opt(OneOf(CATEGORIES), N_("The category"))] = None,
    sector: SectorOpt = None,
    region: RegionOpt = None,
    remote: Annotated[bool | None, Opt(Flag(), N_("Can it be done remotely?"))] = None,
    tags: Annotated[tuple[str, ...] | None, Opt(TAGS, N_("Tags, comma-separated"))] = None,
) -> Reply:
    ensure_author(ctx, post)
    changes = (title, description, category, sector, region, remote, tags)
    if all(value is None for value in changes):
        raise UserError(N_("Tell me what to change, for example title=…"), show_usage=True)
    if post.status == store.CLOSED:
        raise UserError(N_("Post #{number} is closed."), number=post.id)
    post.title = title if title is not None else post.title
    post.description = description if description is not None else post.description
    post.category = category or post.category
    post.sector = sector.key if sector else post.sector
    post.region = region.key if region else post.region
    post.remote = remote if remote is not None else post.remote
    assert post.id is not None
    if tags is not None:
        store.set_tags(ctx.session, post.id, tag_names(tags))
    ctx.session.add(post)
    ctx.session.flush()
    store.reindex(ctx.session, post)
    return post_card(ctx, post)


# -- subscriptions ------------------------------------------------------------------------------


@commands.command(
    "board subscribe",
    help=N_("Get new posts that fit, at most once an hour"),
    examples=("board subscribe kind=need sector=audiovisual region=gent",),
)
async def subscribe(
    ctx: Context,
    *,
    kind: Annotated[str | None, Opt(OneOf(KINDS), N_("need or offer"))] = None,
    sector: SectorOpt = None,
    region: RegionOpt = None,
    tags: TagsOpt = (),
) -> Reply:
    existing = store.subscriptions_of(ctx.session, ctx.actor_id)
    if len(existing) >= MAX_SUBSCRIPTIONS:
        raise UserError(
            N_("You have {count} subscriptions, the most; remove one with {command}."),
            count=len(existing),
            command="`!board unsubscribe <number>`",
        )
    subscription = Subscription(
        member_id=ctx.actor_id,
        kind=kind,
        sector=sector.key if sector else None,
        region=region.key if region else None,
        tags=",".join(tag_names(tags)),
        created_at=ctx.now(),
    )
    ctx.session.add(subscription)
    ctx.session.flush()
    return ctx.say(
        N_(
            "Subscribed (number {number}): {what}. New posts that fit "
            "reach you at most once an hour."
        ),
        number=subscription.id,
        what=_describe(ctx, subscription),
    )


def _describe(ctx: Context, subscription: Subscription) -> str:
    t = ctx.t
    parts = [t(KINDS[subscription.kind]) if subscription.kind else t(N_("needs and offers"))]
    if subscription.sector:
        parts.append(term_label(ctx.settings.sectors, subscription.sector, t.locale))
    if subscription.region:
        parts.append(term_label(ctx.settings.regions, subscription.region, t.locale))
    if subscription.tags:
        parts.append(subscription.tags.replace(",", ", "))
    return " · ".join(parts)


@commands.command(
    "board subscriptions",
    help=N_("Your subscriptions to new posts"),
    examples=("board subscriptions",),
)
async def subscriptions(ctx: Context) -> Reply:
    found = store.subscriptions_of(ctx.session, ctx.actor_id)
    if not found:
        return ctx.say(
            N_("You have no subscriptions. Start one with {command}."),
            command="`!board subscribe …`",
        )
    return Reply(
        title=ctx.t(N_("Your subscriptions")),
        text="\n".join(f"- {s.id}: {_describe(ctx, s)}" for s in found),
    )


@commands.command(
    "board unsubscribe",
    help=N_("Stop a subscription, or all"),
    examples=("board unsubscribe 3", "board unsubscribe all"),
)
async def unsubscribe(
    ctx: Context,
    which: Annotated[str, Opt(Text(12), N_("The subscription number, or all"))] = "all",
) -> Reply:
    found = store.subscriptions_of(ctx.session, ctx.actor_id)
    if which.strip().lower() not in ("all", "alle", "tout", "tous"):
        found = [s for s in found if str(s.id) == which.strip().lstrip("#")]
        if not found:
            raise NotFound(N_("You have no subscription {number}."), number=which)
    for subscription in found:
        ctx.session.delete(subscription)
    return Reply(
        text=ctx.t.plural(
            "{count} subscription stopped.", "{count} subscriptions stopped.", len(found)
        )
    )
