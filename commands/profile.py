"""Profiles: who a member is, what they do, where, and who may see it; finding members."""

from __future__ import annotations

from typing import Annotated

from bot.config import Term
from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.i18n import N_, Translator
from bot.params import Flag, Integer, Languages, MemberRef, OneOf, Text, TextList, Vocabulary
from bot.reply import Field, Reply
from bot.spec import CommandSet, Opt
from bot.text import fold, shorten
from scheduler.reminders import format_offset, parse_offsets
from storage import profiles
from storage.identity import Member
from storage.profiles import ProfileDetails

commands = CommandSet()
commands.group("profile", help=N_("Your profile: what you do and where"))
commands.group("members", help=N_("Find other members"))

PAGE_SIZE = 10

# The member whose profile a command changes: yourself, or (admins) someone else.
EditedMember = Annotated[
    Member | None, Opt(MemberRef(), N_("Whose profile (admins only; default: yours)"))
]

VISIBILITY = {
    "all": N_("all members"),
    "circles": N_("members of my circles"),
    "hidden": N_("nobody"),
}
LOCALES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
CLEARABLE = {
    "region": N_("region"),
    "sectors": N_("sectors"),
    "skills": N_("skills"),
    "languages": N_("languages"),
    "bio": N_("bio"),
    "locale": N_("language of the bot"),
    "reminders": N_("reminders"),
}


def term_label(terms: tuple[Term, ...], key: str, locale: str) -> str:
    for term in terms:
        if term.key == key:
            return term.label(locale)
    return key


def profile_summary(
    ctx: Context, member: Member, t: Translator, details: ProfileDetails | None = None
) -> str:
    """One line about a member, for lists, responses and introductions."""
    assert member.id is not None
    details = details or profiles.details_of(ctx.session, [member.id])[member.id]
    parts = [f"**{member.display_name}** (#{member.id})"]
    if details.sectors:
        parts.append(
            ", ".join(term_label(ctx.settings.sectors, s, t.locale) for s in details.sectors)
        )
    if member.region:
        parts.append(term_label(ctx.settings.regions, member.region, t.locale))
    if details.skills:
        parts.append(shorten(", ".join(details.skills), 80))
    return " · ".join(parts)


def profile_fields(
    ctx: Context, member: Member, details: ProfileDetails, *, own: bool
) -> tuple[Field, ...]:
    t = ctx.t
    none = t(N_("not given"))
    fields = [
        Field(
            t(N_("Sectors")),
            ", ".join(term_label(ctx.settings.sectors, s, t.locale) for s in details.sectors)
            or none,
            inline=True,
        ),
        Field(
            t(N_("Region")),
            term_label(ctx.settings.regions, member.region, t.locale) if member.region else none,
            inline=True,
        ),
        Field(t(N_("Skills")), ", ".join(details.skills) or none),
        Field(
            t(N_("Languages")),
            ", ".join(t.language_name(c) for c in details.languages) or none,
            inline=True,
        ),
    ]
    if member.bio:
        fields.append(Field(t(N_("About")), member.bio))
    if own:
        fields.append(Field(t(N_("Visible to")), t(VISIBILITY[member.visibility]), inline=True))
        fields.append(
            Field(
                t(N_("Bot language")),
                LOCALES.get(member.locale or "", t(N_("default"))),
                inline=True,
            )
        )
        fields.append(Field(t(N_("Platforms")), ", ".join(sorted(details.platforms)), inline=True))
        if member.reminder_offsets:
            fields.append(Field(t(N_("Reminders")), member.reminder_offsets, inline=True))
    return tuple(fields)


@commands.command(
    "profile show",
    help=N_("Show your profile or another member's"),
    examples=("profile show", "profile show #12"),
)
async def show(
    ctx: Context,
    member: Annotated[Member | None, Opt(MemberRef(), N_("Whose profile (default: yours)"))] = None,
) -> Reply:
    subject = member or ctx.actor
    assert subject.id is not None
    own = subject.id == ctx.actor.id
    details = profiles.details_of(ctx.session, [subject.id])[subject.id]
    text = ""
    if own and not details.sectors and not subject.region:
        prefix = ctx.settings.platform_prefix(ctx.platform)
        text = ctx.t(
            N_("Tell others what you do: {example}"),
            example=f'`{prefix}profile set sectors=… region=… skills="…"`',
        )
    return Reply(
        title=f"{subject.display_name} (#{subject.id})",
        text=text,
        fields=profile_fields(ctx, subject, details, own=own),
    )


@commands.command(
    "profile set",
    help=N_("Change your profile: name, sectors, region, skills, languages, bio, visibility"),
    examples=(
        'profile set region=Gent sectors=audiovisual skills="sound engineering"',
        "profile set locale=fr visibility=circles",
    ),
)
async def set_profile(
    ctx: Context,
    *,
    name: Annotated[str | None, Opt(Text(80), N_("Your name as others see it"))] = None,
    sectors: Annotated[
        tuple[Term, ...] | None,
        Opt(Vocabulary("sectors", many=True), N_("Your sectors, comma-separated")),
    ] = None,
    region: Annotated[Term | None, Opt(Vocabulary("regions"), N_("Where you work"))] = None,
    skills: Annotated[
        tuple[str, ...] | None, Opt(TextList(60, 20), N_("Your skills, comma-separated"))
    ] = None,
    languages: Annotated[
        tuple[str, ...] | None, Opt(Languages(), N_("Languages you speak, comma-separated"))
    ] = None,
    bio: Annotated[str | None, Opt(Text(500), N_("A few words about you"))] = None,
    locale: Annotated[str | None, Opt(OneOf(LOCALES), N_("The language I speak to you"))] = None,
    visibility: Annotated[
        str | None, Opt(OneOf(VISIBILITY), N_("Who may see your profile"))
    ] = None,
    reminders: Annotated[
        str | None, Opt(Text(40), N_("Your meetup reminders before the start: 1d,2h"))
    ] = None,
    remind_maybe: Annotated[
        bool | None, Opt(Flag(), N_("Remind you also when you said maybe?"))
    ] = None,
    member: EditedMember = None,
) -> Reply:
    member = _editable(ctx, member)
    assert member.id is not None
    given = {
        "name": name,
        "sectors": sectors,
        "region": region,
        "skills": skills,
        "languages": languages,
        "bio": bio,
        "locale": locale,
        "visibility": visibility,
        "reminders": reminders,
        "remind_maybe": remind_maybe,
    }
    if all(value is None for value in given.values()):
        raise UserError(N_("Tell me what to change, for example region=Gent."), show_usage=True)
    if name is not None:
        member.display_name, member.name_folded = name, fold(name)
    if region is not None:
        member.region = region.key
    if bio is not None:
        member.bio = bio
    if locale is not None:
        member.locale = locale
        if member.id == ctx.actor_id:
            ctx.t = ctx.catalogues.translator(locale, ctx.settings.default_locale)
    if visibility is not None:
        member.visibility = visibility
    if reminders is not None:
        try:
            member.reminder_offsets = ",".join(format_offset(m) for m in parse_offsets(reminders))
        except ValueError:
            raise UserError(
                N_("Reminders look like 1d,2h or 30m (at most 7 days before, 5 reminders).")
            ) from None
    if remind_maybe is not None:
        member.remind_maybe = remind_maybe
    ctx.session.add(member)
    if sectors is not None:
        profiles.replace_sectors(ctx.session, member.id, (t.key for t in sectors))
    if skills is not None:
        profiles.replace_skills(ctx.session, member.id, [(s, fold(s)) for s in skills])
    if languages is not None:
        profiles.replace_languages(ctx.session, member.id, languages)
    ctx.session.flush()
    details = profiles.details_of(ctx.session, [member.id])[member.id]
    return Reply(
        title=ctx.t(N_("Profile saved")),
        text=profile_summary(ctx, member, ctx.t, details),
        fields=profile_fields(ctx, member, details, own=True),
    )


def _editable(ctx: Context, member: Member | None) -> Member:
    if member is None:
        return ctx.actor
    assert member.id is not None
    ensure_own(ctx, member.id)
    return member


@commands.command(
    "profile clear",
    help=N_("Empty one part of your profile"),
    examples=("profile clear region",),
)
async def clear(
    ctx: Context,
    part: Annotated[str, Opt(OneOf(CLEARABLE), N_("What to empty"))],
    *,
    member: EditedMember = None,
) -> Reply:
    member = _editable(ctx, member)
    assert member.id is not None
    if part == "region":
        member.region = None
    elif part == "bio":
        member.bio = ""
    elif part == "locale":
        member.locale = None
    elif part == "reminders":
        member.reminder_offsets = ""
    elif part == "sectors":
        profiles.replace_sectors(ctx.session, member.id, ())
    elif part == "skills":
        profiles.replace_skills(ctx.session, member.id, ())
    elif part == "languages":
        profiles.replace_languages(ctx.session, member.id, ())
    ctx.session.add(member)
    return ctx.say(N_("Emptied: {part}."), part=ctx.t(CLEARABLE[part]))


@commands.command(
    "members find",
    help=N_("Find members by sector, region or skill"),
    examples=("members find sector=audiovisual region=Gent", 'members find skill="sound"'),
)
async def find(
    ctx: Context,
    *,
    sector: Annotated[Term | None, Opt(Vocabulary("sectors"), N_("Their sector"))] = None,
    region: Annotated[Term | None, Opt(Vocabulary("regions"), N_("Their region"))] = None,
    skill: Annotated[str | None, Opt(Text(60), N_("A word of their skills"))] = None,
    page: Annotated[int, Opt(Integer(1, 10_000), N_("Page of the results"))] = 1,
) -> Reply:
    result = profiles.find_members(
        ctx.session,
        sector=sector.key if sector else None,
        region=region.key if region else None,
        skill_folded=fold(skill) if skill else None,
        viewer_id=None if ctx.is_admin else ctx.actor_id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    found, total = result.members, result.total
    if total == 0:
        return ctx.say(N_("No member matches. Try fewer filters."))
    if not found:
        raise UserError(N_("There is no page {page}."), page=page)
    details = profiles.details_of(ctx.session, [m.id for m in found if m.id is not None])
    lines = [f"- {profile_summary(ctx, m, ctx.t, details[m.id])}" for m in found if m.id]
    if total > profiles.COUNT_CAP:
        title = ctx.t(N_("More than {count} members found"), count=ctx.t.number(profiles.COUNT_CAP))
    else:
        title = ctx.t.plural("{count} member found", "{count} members found", total)
    footer = ""
    if total > profiles.COUNT_CAP and result.has_more:
        known = max(profiles.COUNT_CAP // PAGE_SIZE, page)
        footer = ctx.t(N_("Page {page} of more than {pages}."), page=page, pages=known)
    else:
        pages = (max(total, (page - 1) * PAGE_SIZE + len(found)) + PAGE_SIZE - 1) // PAGE_SIZE
        if pages > 1:
            footer = ctx.t(N_("Page {page} of {pages}."), page=page, pages=pages)
    return Reply(title=title, text="\n".join(lines + ([footer] if footer else [])))


def ensure_own(ctx: Context, owner_id: int) -> None:
    """Refuse to change someone else's data (admins may)."""
    if owner_id != ctx.actor_id and not ctx.is_admin:
        raise PermissionDenied(N_("That belongs to another member; you cannot change it."))
    ctx.acting_for(owner_id, f"profile #{owner_id}")
