"""Projects and partner calls: a member presents a project as its lead, lists the roles it
needs, and others join it or bring in someone useful."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from bot.config import Term
from bot.context import Context
from bot.errors import NotFound, PermissionDenied, UserError
from bot.i18n import N_
from bot.params import Flag, Integer, MemberRef, OneOf, Text, Vocabulary
from bot.ratelimit import RateClass
from bot.reply import Action, ActionStyle, Field, Reply, Visibility
from bot.spec import CommandSet, Opt
from bot.text import fold, shorten
from commands import matching
from commands.board import DECISIONS, contact_of
from commands.profile import profile_summary, term_label
from commands.refs import ProjectRef
from storage import facts
from storage import outcome_checks as checks
from storage import projects as store
from storage.board import posts_by_ids
from storage.identity import Member
from storage.projects import Project, ProjectRequest, ProjectSlot
from storage.search import POST

commands = CommandSet()
commands.group("project", help=N_("Projects that look for partners"))
commands.group("project slot", help=N_("The roles a project needs"))

PAGE_SIZE = 10
MAX_SLOTS = 20
OPEN_LABEL = N_("open")
CLOSED_LABEL = N_("closed")
SectorOpt = Annotated[Term | None, Opt(Vocabulary("sectors"), N_("The sector"))]
RegionOpt = Annotated[Term | None, Opt(Vocabulary("regions"), N_("The region"))]
ProjectArg = Annotated[Project, Opt(ProjectRef(), N_("The project (number or title)"))]


def slot_body(project: Project, slot: ProjectSlot) -> str:
    return fold(f"{slot.role} {project.title} {project.pitch}")


def ensure_lead(ctx: Context, project: Project) -> None:
    if project.lead_id != ctx.actor_id and not ctx.is_admin:
        raise PermissionDenied(N_("Only the lead of this project may do this."))
    ctx.acting_for(project.lead_id, f"project #{project.id}")


def ensure_open(project: Project) -> None:
    if project.status != store.OPEN:
        raise UserError(N_("Project #{number} is closed."), number=project.id)


def ensure_slot_open(slot: ProjectSlot) -> None:
    if slot.status == store.CLOSED:
        raise UserError(N_("The role “{role}” is closed: it is no longer needed."), role=slot.role)
    if slot.status != store.OPEN:
        raise UserError(N_("The role “{role}” is already filled."), role=slot.role)


def _slot(ctx: Context, project: Project, raw: str) -> ProjectSlot:
    slots = store.slots_of(ctx.session, project.id or 0)
    wanted = fold(raw).lstrip("#")
    for slot in slots:
        if wanted in (str(slot.id), fold(slot.role)):
            return slot
    raise NotFound(
        N_("Project #{number} has no role “{role}”. Its roles: {roles}."),
        number=project.id,
        role=raw,
        roles=", ".join(f"{s.id}: {s.role}" for s in slots) or "—",
    )


def _reindex_all(ctx: Context, project: Project) -> None:
    for slot in store.slots_of(ctx.session, project.id or 0):
        store.reindex_slot(ctx.session, project, slot, slot_body(project, slot))


@commands.command(
    "project create",
    help=N_("Present a project you lead"),
    examples=(
        'project create Street opera in Liège pitch="An opera on a '
        'market square, summer 2027" sector=performing-arts region=liege',
    ),
    rate=RateClass.PUBLISH,
)
async def create(
    ctx: Context,
    title: Annotated[str, Opt(Text(120), N_("The project's name"), rest=True)],
    *,
    pitch: Annotated[str, Opt(Text(2000, long=True), N_("What it is and what it needs"))] = "",
    sector: SectorOpt = None,
    region: RegionOpt = None,
) -> Reply:
    project = Project(
        lead_id=ctx.actor_id,
        title=title,
        pitch=pitch,
        sector=sector.key if sector else None,
        region=region.key if region else None,
        created_at=ctx.now(),
    )
    ctx.session.add(project)
    ctx.session.flush()
    facts.record_project(
        ctx.session, facts.PROJECT_CREATED, project, project.created_at, ctx.actor_id
    )
    return Reply(
        title=ctx.t(N_("Project #{number} created"), number=project.id),
        text=ctx.t(
            N_("Now list the roles it needs: {command}"),
            command=f"`!project slot add {project.id} scenographer`",
        ),
        actions=(Action(ctx.t(N_("Show")), f"project show {project.id}"),),
    )


@commands.command(
    "project slot add",
    help=N_("Add a role your project needs"),
    examples=("project slot add 3 van with driver",),
)
async def slot_add(
    ctx: Context,
    project: ProjectArg,
    role: Annotated[str, Opt(Text(80), N_("The role: scenographer, van with driver…"), rest=True)],
) -> Reply:
    ensure_lead(ctx, project)
    ensure_open(project)
    assert project.id is not None
    slots = store.slots_of(ctx.session, project.id)
    if len(slots) >= MAX_SLOTS:
        raise UserError(N_("A project has at most {limit} roles."), limit=MAX_SLOTS)
    if any(fold(s.role) == fold(role) for s in slots):
        raise UserError(
            N_("Project #{number} already has the role “{role}”."), number=project.id, role=role
        )
    slot = ProjectSlot(project_id=project.id, role=role, created_at=ctx.now())
    ctx.session.add(slot)
    ctx.session.flush()
    store.reindex_slot(ctx.session, project, slot, slot_body(project, slot))
    fields = _slot_matches(ctx, project, slot)
    return Reply(
        text=ctx.t(
            N_(
                "Role “{role}” added to project #{number}; it shows in board "
                "searches as a project need."
            ),
            role=role,
            number=project.id,
        ),
        fields=fields,
    )


@commands.command(
    "project slot close",
    help=N_("Close a role your project no longer needs"),
    examples=("project slot close 3 van with driver", "project slot close 3 2"),
)
async def slot_close(
    ctx: Context,
    project: ProjectArg,
    role: Annotated[str, Opt(Text(80), N_("The role (its number or name)"), rest=True)],
) -> Reply:
    ensure_lead(ctx, project)
    ensure_open(project)
    slot = _slot(ctx, project, role)
    ensure_slot_open(slot)
    assert slot.id is not None
    slot.status = store.CLOSED
    ctx.session.add(slot)
    store.reindex_slot(ctx.session, project, slot, slot_body(project, slot))
    for request in store.pending_requests_of(ctx.session, slot.id):
        request.status = store.DECLINED
        ctx.session.add(request)
        member = ctx.session.get(Member, request.member_id)
        if member is None or member.id is None:
            continue
        t = ctx.translator_for(member)
        ctx.notify_member(
            member.id,
            Reply(
                text=t(
                    N_("The role “{role}” in project #{number} {title} is no longer needed."),
                    role=slot.role,
                    number=project.id,
                    title=project.title,
                )
            ),
        )
    return ctx.say(
        N_("Role “{role}” of project #{number} closed; it no longer shows in searches or matches."),
        role=slot.role,
        number=project.id,
    )


def _slot_matches(ctx: Context, project: Project, slot: ProjectSlot) -> tuple[Field, ...]:
    t = ctx.t
    fields: list[Field] = []
    members = matching.matching_members(
        ctx.session,
        sector=project.sector,
        region=project.region,
        text=slot.role,
        exclude={project.lead_id},
        viewer_id=None if ctx.is_admin else ctx.actor_id,
    )
    if members:
        fields.append(
            Field(
                t(N_("Members who may fit")),
                "\n".join(f"- {profile_summary(ctx, m, t)}" for m, _ in members),
            )
        )
    from storage.search import search

    hits = search(
        ctx.session,
        " ".join(matching.key_words(slot.role)) or fold(slot.role),
        kind="offer",
        any_word=True,
        limit=5,
    )
    offers = posts_by_ids(ctx.session, [h.source_id for h in hits if h.source == POST])
    if offers:
        fields.append(
            Field(
                t(N_("Offers that may fit")),
                "\n".join(f"- #{p.id} {p.title}" for p in offers.values()),
            )
        )
    return tuple(fields)


@commands.command(
    "project list",
    help=N_("Projects looking for partners"),
    examples=("project list sector=performing-arts",),
)
async def project_list(
    ctx: Context,
    *,
    sector: SectorOpt = None,
    region: RegionOpt = None,
    mine: Annotated[bool, Opt(Flag(), N_("Only projects you lead (closed ones too)"))] = False,
    page: Annotated[int, Opt(Integer(1, 10_000), N_("Page of the results"))] = 1,
) -> Reply:
    found, total = store.list_projects(
        ctx.session,
        sector=sector.key if sector else None,
        region=region.key if region else None,
        lead_id=ctx.actor_id if mine else None,
        include_closed=mine,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    if total == 0:
        return ctx.say(
            N_("No project yet. Present yours with {command}."), command="`!project create …`"
        )
    if not found:
        raise UserError(N_("There is no page {page}."), page=page)
    lines = []
    for project in found:
        open_roles = [
            s.role for s in store.slots_of(ctx.session, project.id or 0) if s.status == store.OPEN
        ]
        lines.append(
            f"- #{project.id} **{project.title}**"
            + (f" · {shorten(', '.join(open_roles), 80)}" if open_roles else "")
        )
    return Reply(
        title=ctx.t.plural("{count} project", "{count} projects", total), text="\n".join(lines)
    )


@commands.command(
    "project show",
    help=N_("A project, its lead and the roles it needs"),
    examples=("project show 3",),
)
async def show(ctx: Context, project: ProjectArg) -> Reply:
    t = ctx.t
    assert project.id is not None
    lead = ctx.session.get(Member, project.lead_id)
    slots = store.slots_of(ctx.session, project.id)
    lines = []
    for slot in slots:
        if slot.status == store.OPEN:
            lines.append(f"- {slot.id}: **{slot.role}** · " + t(OPEN_LABEL))
        elif slot.status == store.CLOSED:
            lines.append(f"- {slot.id}: {slot.role} · " + t(CLOSED_LABEL))
        else:
            filler = ctx.session.get(Member, slot.filled_by) if slot.filled_by else None
            lines.append(
                f"- {slot.id}: {slot.role} · "
                + t(N_("filled by {name}"), name=filler.display_name if filler else "—")
            )
    fields = [
        Field(t(N_("Lead")), profile_summary(ctx, lead, t) if lead else "—"),
        Field(t(N_("Roles")), "\n".join(lines) or t(N_("none yet"))),
    ]
    if project.sector:
        fields.append(
            Field(t(N_("Sector")), term_label(ctx.settings.sectors, project.sector, t.locale), True)
        )
    if project.region:
        fields.append(
            Field(t(N_("Region")), term_label(ctx.settings.regions, project.region, t.locale), True)
        )
    actions = [
        Action(
            t(N_("Join as {role}"), role=shorten(slot.role, 40)),
            f"project join {project.id} {slot.id}",
            ActionStyle.PRIMARY,
        )
        for slot in slots
        if slot.status == store.OPEN and project.lead_id != ctx.actor_id
    ][:5]
    status = "" if project.status == store.OPEN else " (" + t(CLOSED_LABEL) + ")"
    return Reply(
        title=f"#{project.id} {project.title}{status}",
        text=project.pitch,
        fields=tuple(fields),
        actions=tuple(actions),
    )


def _ask_lead(
    ctx: Context,
    project: Project,
    slot: ProjectSlot,
    request: ProjectRequest,
    member: Member,
    introduced_by: Member | None,
) -> None:
    lead = ctx.session.get(Member, project.lead_id)
    assert lead is not None
    assert lead.id is not None
    t = ctx.translator_for(lead)
    if introduced_by is None:
        text = t(
            N_("{name} would like to join your project “{title}” as {role}:"),
            name=member.display_name,
            title=project.title,
            role=slot.role,
        )
    else:
        text = t(
            N_("{by} introduces {name} for your project “{title}” as {role}:"),
            by=introduced_by.display_name,
            name=member.display_name,
            title=project.title,
            role=slot.role,
        )
    text += "\n" + profile_summary(ctx, member, t)
    if request.message:
        text += f"\n> {request.message}"
    ctx.notify_member(
        lead.id,
        Reply(
            text=text,
            actions=(
                Action.yes(t(N_("Accept")), f"project answer {request.id} accept"),
                Action.no(t(N_("Decline")), f"project answer {request.id} decline"),
            ),
        ),
    )


@commands.command(
    "project join",
    help=N_("Ask to join a project in one of its roles"),
    examples=("project join 3 scenographer", "project join 3 2"),
)
async def join(
    ctx: Context,
    project: ProjectArg,
    role: Annotated[str, Opt(Text(80), N_("The role (its number or name)"), rest=True)],
    *,
    message: Annotated[str, Opt(Text(1000), N_("A word for the lead"))] = "",
) -> Reply:
    ensure_open(project)
    if project.lead_id == ctx.actor_id:
        raise UserError(
            N_("You lead this project; fill the role with {command}."),
            command="`!project introduce …`",
        )
    slot = _slot(ctx, project, role)
    ensure_slot_open(slot)
    assert slot.id is not None
    if store.request_for(ctx.session, slot.id, ctx.actor_id) is not None:
        raise UserError(N_("You already asked for this role; the lead will answer."))
    request = ProjectRequest(
        slot_id=slot.id, member_id=ctx.actor_id, message=message, created_at=ctx.now()
    )
    ctx.session.add(request)
    ctx.session.flush()
    _ask_lead(ctx, project, slot, request, ctx.actor, None)
    return Reply(
        text=ctx.t(
            N_("Asked. The lead of “{title}” decides; you will hear from me."), title=project.title
        ),
        visibility=Visibility.PRIVATE,
    )


@commands.command(
    "project introduce",
    help=N_("Bring someone useful into a project"),
    examples=("project introduce 3 #12 role=scenographer",),
    visibility=Visibility.PRIVATE,
)
async def introduce(
    ctx: Context,
    project: ProjectArg,
    member: Annotated[Member, Opt(MemberRef(), N_("Who you introduce"))],
    *,
    role: Annotated[str, Opt(Text(80), N_("For which role (its number or name)"))],
    message: Annotated[str, Opt(Text(1000), N_("Why they fit"))] = "",
) -> Reply:
    ensure_open(project)
    assert member.id is not None
    if member.id == project.lead_id:
        raise UserError(N_("{name} leads this project already."), name=member.display_name)
    slot = _slot(ctx, project, role)
    ensure_slot_open(slot)
    assert slot.id is not None
    if store.request_for(ctx.session, slot.id, member.id) is not None:
        raise UserError(N_("{name} is already proposed for this role."), name=member.display_name)
    request = ProjectRequest(
        slot_id=slot.id,
        member_id=member.id,
        message=message,
        introduced_by=ctx.actor_id,
        created_at=ctx.now(),
    )
    ctx.session.add(request)
    ctx.session.flush()
    by_lead = project.lead_id == ctx.actor_id
    if not by_lead:
        _ask_lead(ctx, project, slot, request, member, ctx.actor)
    t = ctx.translator_for(member)
    ctx.notify_member(
        member.id,
        Reply(
            text=t(
                N_("{by} proposed you for the project “{title}” as {role}. Have a look: {command}"),
                by=ctx.actor.display_name,
                title=project.title,
                role=slot.role,
                command=f"`!project show {project.id}`",
            )
        ),
    )
    if by_lead:
        return await _decide(ctx, project, slot, request, "accept")
    return Reply(
        text=ctx.t(N_("Introduced. The lead of “{title}” decides."), title=project.title),
        visibility=Visibility.PRIVATE,
    )


@commands.command(
    "project answer",
    help=N_("Accept or decline a request for your project"),
    examples=("project answer 5 accept",),
    visibility=Visibility.PRIVATE,
)
async def answer(
    ctx: Context,
    request: Annotated[int, Opt(Integer(1, 10**12), N_("The request's number"))],
    decision: Annotated[str, Opt(OneOf(DECISIONS), N_("accept or decline"))],
) -> Reply:
    found = ctx.session.get(ProjectRequest, request)
    slot = ctx.session.get(ProjectSlot, found.slot_id) if found else None
    project = ctx.session.get(Project, slot.project_id) if slot else None
    if (
        found is None
        or slot is None
        or project is None
        or (project.lead_id != ctx.actor_id and not ctx.is_admin)
    ):
        raise NotFound(N_("There is no request {number} for one of your projects."), number=request)
    if found.status != store.PENDING:
        raise UserError(N_("You already decided on request {number}."), number=request)
    ensure_open(project)
    if decision == "accept":
        ensure_slot_open(slot)
    return await _decide(ctx, project, slot, found, decision)


async def _decide(
    ctx: Context, project: Project, slot: ProjectSlot, request: ProjectRequest, decision: str
) -> Reply:
    member = ctx.session.get(Member, request.member_id)
    lead = ctx.session.get(Member, project.lead_id)
    assert member is not None
    assert member.id is not None
    assert lead is not None
    assert lead.id is not None
    request.status = store.ACCEPTED if decision == "accept" else store.DECLINED
    ctx.session.add(request)
    t = ctx.translator_for(member)
    if decision == "decline":
        ctx.notify_member(
            member.id,
            Reply(
                text=t(
                    N_("The lead of “{title}” went another way for {role}. Thank you!"),
                    title=project.title,
                    role=slot.role,
                )
            ),
        )
        return Reply(text=ctx.t(N_("Declined.")), visibility=Visibility.PRIVATE)
    slot.status, slot.filled_by = store.FILLED, member.id
    ctx.session.add(slot)
    facts.record_project(
        ctx.session, facts.SLOT_FILLED, project, ctx.now(), member.id, slot_id=slot.id
    )
    checks.plan(
        ctx.session,
        checks.SLOT,
        f"slot:{slot.id}:{member.id}",
        ((lead.id, member.id), (member.id, lead.id)),
        ctx.now(),
        timedelta(days=ctx.settings.followup.ask_after_days),
        project_id=project.id,
        slot_id=slot.id,
        sector=project.sector,
        region=project.region,
    )
    store.reindex_slot(ctx.session, project, slot, slot_body(project, slot))
    ctx.notify_member(
        member.id,
        Reply(
            title=t(N_("Welcome to “{title}”"), title=project.title),
            text=t(
                N_("You are in as {role}. Your lead, {name}:"),
                role=slot.role,
                name=lead.display_name,
            )
            + "\n"
            + contact_of(ctx, lead),
            visibility=Visibility.DIRECT,
        ),
    )
    return Reply(
        text=ctx.t(
            N_("{name} joins as {role}. How to reach them:"),
            name=member.display_name,
            role=slot.role,
        )
        + "\n"
        + contact_of(ctx, member),
        visibility=Visibility.PRIVATE,
    )


@commands.command("project close", help=N_("Close your project"), examples=("project close 3",))
async def close(ctx: Context, project: ProjectArg) -> Reply:
    ensure_lead(ctx, project)
    ensure_open(project)
    project.status, project.closed_at = store.CLOSED, ctx.now()
    ctx.session.add(project)
    _reindex_all(ctx, project)
    return ctx.say(
        N_("Project #{number} closed. Thank you for bringing people together!"), number=project.id
    )
