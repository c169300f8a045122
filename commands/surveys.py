"""Surveys of the members' networking needs (issue 13): made, asked and read in chat.

    !survey create "Our breakfasts" circle=gent closes="in 2 weeks" anonymous=yes
    !survey add 1 single "Which day suits you?" choices="Monday | Wednesday | Friday"
    !survey add 1 scale "How useful were the breakfasts?"
    !survey open 1                 invitations go out by direct message; the room is told
    !survey take 1                 the next question, with numbered choices (buttons)
    !survey answer 1 2             answers it; question=3 answers (or changes) another one
    !survey results 1 csv=yes      counts and percentages, a chart, free texts, the CSV

Who may do what (checked here, whatever the way in):

- an animator makes surveys for a circle they animate; admins for a sector, a region (with its
  sub-regions) or everyone. The creator, the circle's animators and the admins manage it
  (questions, open, close, remind, delete) and see its results at any time; the audience sees
  them after the close when the creator allowed it (``results=public``).
- questions are added or removed only while nobody has begun to answer; a survey opens with
  one question at least and a closing day in the future.
- only members of the audience (invited when it opened) answer, once; a named survey's answers
  may be changed until the close, an anonymous survey's are final once all are given
  (storage/surveys.py says what is kept, and why it does not say who answered what).
- results count people: a count below the follow-up's privacy threshold shows as "<5" to the
  audience (the creator and the admins see every count).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Annotated

from babel.numbers import format_decimal, format_percent
from sqlalchemy import insert, literal
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from bot.charts import Series, chart, png
from bot.config import Term
from bot.context import Context
from bot.errors import NotFound, PermissionDenied, UserError
from bot.i18n import N_, LazyText, Translator
from bot.levels import Hierarchy
from bot.params import Day, Flag, Integer, OneOf, Text, Vocabulary
from bot.reply import Action, ActionStyle, Attachment, Field, Menu, MenuChoice, Reply, Visibility
from bot.spec import CommandSet, Opt
from commands.refs import CircleRef
from scheduler.surveys import audience_name, language_note
from storage import surveys as store
from storage.circles import Circle, CircleMembership, is_animator, places_of
from storage.identity import Member
from storage.profiles import MemberSector
from storage.surveys import Survey, SurveyParticipant, SurveyQuestion

commands = CommandSet()
commands.group("survey", help=N_("Surveys of the members' networking needs"))

KIND_NAMES: dict[str, LazyText] = {
    store.SINGLE: N_("one choice"),
    store.MULTIPLE: N_("several choices"),
    store.SCALE: N_("a scale of 1 to 5"),
    store.FREE_TEXT: N_("free text"),
    store.FORMAT: N_("which formats suit you"),
    store.DAY: N_("which days suit you"),
    store.HOUR: N_("which times of day suit you"),
}
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
DAYPARTS = (N_("Morning"), N_("Noon"), N_("Afternoon"), N_("Evening"))
SKIP_WORDS = frozenset({"-", "skip", "overslaan", "passer"})
MAX_QUESTIONS = 20
MAX_CHOICES = 12
SurveyArg = Annotated[int, Opt(Integer(1, 10**12), N_("The survey's number"), name="survey")]
REMIND_BEFORE = timedelta(days=2)
MAX_CHARTS = 6  # images in one answer; the CSV has every question


# -- finding and guarding ----------------------------------------------------------------------


def survey_by_number(ctx: Context, number: int) -> Survey:
    survey = ctx.session.get(Survey, number)
    if survey is None:
        raise NotFound(N_("There is no survey {number}."), number=number)
    return survey


def circle_of(ctx: Context, survey: Survey) -> Circle | None:
    if survey.audience != store.CIRCLE:
        return None
    return ctx.session.get(Circle, int(survey.audience_key))


def manages(ctx: Context, survey: Survey) -> bool:
    """The creator, the animators of the survey's circle, the admins."""
    if ctx.is_admin or survey.created_by == ctx.actor_id:
        return True
    circle = circle_of(ctx, survey)
    return circle is not None and is_animator(ctx.session, ctx.actor_id, circle.id)


def ensure_manages(ctx: Context, survey: Survey) -> None:
    if not manages(ctx, survey):
        raise PermissionDenied(
            N_("Only the survey's creator, its circle's animators and the admins may do that.")
        )
    if ctx.is_admin:
        ctx.acting_for(survey.created_by, f"survey {survey.id}")


def ensure_draft(ctx: Context, survey: Survey) -> None:
    assert survey.id is not None
    if survey.state != store.DRAFT and store.has_answers(ctx.session, survey.id):
        raise UserError(
            N_("Members have begun to answer survey {number}: its questions stay as they are."),
            number=survey.id,
        )
    if survey.state == store.CLOSED:
        raise UserError(N_("Survey {number} is closed."), number=survey.id)


def ensure_question(survey: Survey, questions: list[SurveyQuestion], number: int) -> None:
    if number > len(questions):
        raise NotFound(
            N_("Survey {survey} has no question {number}."), survey=survey.id, number=number
        )


def editable(ctx: Context, number: int) -> Survey:
    """The survey ``number``, which the actor manages and nobody has begun to answer."""
    survey = survey_by_number(ctx, number)
    ensure_manages(ctx, survey)
    ensure_draft(ctx, survey)
    return survey


def closing_moment(ctx: Context, day: date) -> datetime:
    """The end of that day in the community's time zone."""
    local = datetime.combine(day, time(23, 59), tzinfo=ctx.settings.zone)
    return local.astimezone(ctx.now().tzinfo)


def _descendants(levels: Hierarchy, key: str) -> list[str]:
    return list(dict.fromkeys(levels.descendants(key)))


def audience_members(ctx: Context, survey: Survey):  # type: ignore[no-untyped-def]
    """A SELECT of the ids of the members the survey is for (not forgotten)."""
    living = col(Member.forgotten_at).is_(None)
    if survey.audience == store.CIRCLE:
        return (
            sa_select(col(CircleMembership.member_id))
            .join(Member, col(Member.id) == col(CircleMembership.member_id))
            .where(col(CircleMembership.circle_id) == int(survey.audience_key), living)
        )
    if survey.audience == store.SECTOR:
        keys = _descendants(ctx.settings.sector_levels, survey.audience_key)
        return (
            sa_select(col(MemberSector.member_id))
            .join(Member, col(Member.id) == col(MemberSector.member_id))
            .where(col(MemberSector.sector).in_(keys), living)
            .distinct()
        )
    if survey.audience == store.REGION:
        keys = _descendants(ctx.settings.region_levels, survey.audience_key)
        return sa_select(col(Member.id)).where(col(Member.region).in_(keys), living)
    return sa_select(col(Member.id)).where(living)


# -- texts in the reader's language ------------------------------------------------------------


def question_texts(ctx: Context, question: SurveyQuestion, t: Translator) -> tuple[str, list[str]]:
    """The question and its choices as the reader sees them: translated when the creator gave
    that language, the preset choices (formats, days, times) always in the reader's."""
    if question.kind == store.DAY:
        choices = [t(day) for day in WEEKDAYS]
    elif question.kind == store.HOUR:
        choices = [t(part) for part in DAYPARTS]
    elif question.kind == store.FORMAT:
        choices = [meetup_format.label(t.locale) for meetup_format in ctx.settings.formats]
    else:
        choices = question.choice_list
    translated = question.texts_in(t.locale)
    if translated is None:
        return question.text, choices
    text, own = translated
    return text, own if question.kind in (store.SINGLE, store.MULTIPLE) else choices


def preset_choices(ctx: Context, kind: str) -> list[str]:
    """The choices stored for a preset kind (the creator's language; shown translated)."""
    if kind == store.DAY:
        return [str(day) for day in WEEKDAYS]
    if kind == store.HOUR:
        return [str(part) for part in DAYPARTS]
    if kind == store.FORMAT:
        return [meetup_format.key for meetup_format in ctx.settings.formats]
    return []


# -- creating ----------------------------------------------------------------------------------

AUDIENCE_HELP = N_("A circle you animate; admins: a sector, a region or everyone")


@commands.command(
    "survey create",
    help=N_("Make a survey for a circle (animators), a sector, a region or everyone (admins)"),
    examples=(
        'survey create "Our breakfasts" circle=gent closes="in 2 weeks"',
        'survey create "Networking needs" region=flanders closes=2027-03-31 anonymous=yes',
    ),
    visibility=Visibility.PRIVATE,
)
async def create(
    ctx: Context,
    title: Annotated[str, Opt(Text(120), N_("The survey's title"), rest=True)],
    *,
    closes: Annotated[date, Opt(Day(), N_("The last day to answer"))],
    circle: Annotated[Circle | None, Opt(CircleRef(), AUDIENCE_HELP)] = None,
    sector: Annotated[Term | None, Opt(Vocabulary("sectors"), N_("Everyone of a sector"))] = None,
    region: Annotated[
        Term | None, Opt(Vocabulary("regions"), N_("Everyone of a region and its sub-regions"))
    ] = None,
    everyone: Annotated[bool, Opt(Flag(), N_("Every member (admins)"))] = False,
    anonymous: Annotated[bool, Opt(Flag(), N_("Answers without names"))] = False,
    public: Annotated[
        bool, Opt(Flag(), N_("The audience sees the results after the close"), name="results")
    ] = False,
    intro: Annotated[str, Opt(Text(1000, long=True), N_("A few words for the members"))] = "",
) -> Reply:
    given = [x for x in (circle, sector, region, everyone or None) if x]
    if len(given) != 1:
        raise UserError(
            N_("Say who the survey is for: circle=…, sector=…, region=… or everyone=yes."),
            show_usage=True,
        )
    if circle is not None:
        assert circle.id is not None
        if circle.archived:
            raise UserError(N_("{circle} is archived."), circle=circle.name)
        if not ctx.is_admin and not is_animator(ctx.session, ctx.actor_id, circle.id):
            raise PermissionDenied(
                N_("Only the animators of {circle} and the admins make surveys for it."),
                circle=circle.name,
            )
        audience, key = store.CIRCLE, str(circle.id)
    elif not ctx.is_admin:
        raise PermissionDenied(
            N_(
                "Only admins make surveys for a sector, a region or everyone; "
                "animators, for their circle."
            )
        )
    elif sector is not None:
        audience, key = store.SECTOR, sector.key
    elif region is not None:
        audience, key = store.REGION, region.key
    else:
        audience, key = store.EVERYONE, ""
    closes_at = closing_moment(ctx, closes)
    survey = Survey(
        title=title,
        intro=intro,
        language=ctx.t.locale,
        created_by=ctx.actor_id,
        audience=audience,
        audience_key=key,
        anonymous=anonymous,
        results_public=public,
        closes_at=closes_at,
        created_at=ctx.now(),
    )
    ctx.session.add(survey)
    ctx.session.flush()
    return Reply(
        title=f"#{survey.id} {title}",
        text=ctx.t(
            N_(
                "Survey #{number} “{title}” is ready for its questions: "
                "{add}, then {open} when they are all there."
            ),
            number=survey.id,
            title=title,
            add=f'`!survey add {survey.id} single "…" choices="… | …"`',
            open=f"`!survey open {survey.id}`",
        ),
        visibility=Visibility.PRIVATE,
    )


def _choices(raw: str) -> list[str]:
    return [" ".join(part.split()) for part in raw.replace(";", "|").split("|") if part.strip()]


def checked_choices(raw: str) -> list[str]:
    """The choices of a single or multiple choice question, or why they will not do."""
    listed = _choices(raw)
    if len(listed) < 2:
        raise UserError(
            N_('Give two choices at least, separated by |, like choices="yes | no".'),
            show_usage=True,
        )
    if len(listed) > MAX_CHOICES:
        raise UserError(N_("Give at most {limit} choices."), limit=MAX_CHOICES)
    if any(len(choice) > 80 for choice in listed):
        raise UserError(N_("A choice has 80 characters at most."))
    return listed


@commands.command(
    "survey add",
    help=N_("Add a question to a survey (before anyone answers)"),
    examples=(
        'survey add 1 single "Which day suits you?" choices="Monday | Wednesday | Friday"',
        'survey add 1 scale "How useful were the breakfasts?"',
        'survey add 1 text "What would you like to learn from others?"',
        'survey add 1 format "Which formats suit you?"',
    ),
    visibility=Visibility.PRIVATE,
)
async def add(
    ctx: Context,
    survey_number: SurveyArg,
    kind: Annotated[
        str, Opt(OneOf(KIND_NAMES), N_("single, multiple, scale, text, format, day or hour"))
    ],
    text: Annotated[str, Opt(Text(300), N_("The question"), rest=True)],
    *,
    choices: Annotated[str, Opt(Text(1000), N_("The choices, separated by |"))] = "",
) -> Reply:
    survey = editable(ctx, survey_number)
    assert survey.id is not None
    listed = _choices(choices)
    if kind in (store.SINGLE, store.MULTIPLE):
        listed = checked_choices(choices)
    elif listed:
        raise UserError(
            N_("A question of the kind “{kind}” has its own answers: leave out choices=."),
            kind=ctx.t(KIND_NAMES[kind]),
        )
    else:
        listed = preset_choices(ctx, kind)
    questions = store.questions_of(ctx.session, survey.id)
    if len(questions) >= MAX_QUESTIONS:
        raise UserError(N_("A survey has {limit} questions at most."), limit=MAX_QUESTIONS)
    question = SurveyQuestion(
        survey_id=survey.id,
        position=len(questions) + 1,
        kind=kind,
        text=text,
        choices="\n".join(listed),
    )
    ctx.session.add(question)
    ctx.session.flush()
    return await show(ctx, survey.id)


@commands.command(
    "survey remove",
    help=N_("Remove a question from a survey (before anyone answers)"),
    examples=("survey remove 1 2",),
    visibility=Visibility.PRIVATE,
)
async def remove(
    ctx: Context,
    survey_number: SurveyArg,
    question: Annotated[int, Opt(Integer(1, MAX_QUESTIONS), N_("The question's number"))],
) -> Reply:
    survey = editable(ctx, survey_number)
    assert survey.id is not None
    questions = store.questions_of(ctx.session, survey.id)
    ensure_question(survey, questions, question)
    ctx.session.delete(questions[question - 1])
    ctx.session.flush()
    for later in questions[question:]:  # close the gap, lowest first (unique positions)
        later.position -= 1
        ctx.session.add(later)
        ctx.session.flush()
    return await show(ctx, survey.id)


@commands.command(
    "survey edit",
    help=N_("Change a question's text or choices (before anyone answers)"),
    examples=('survey edit 1 2 Which evening suits you? choices="Tuesday | Thursday"',),
    visibility=Visibility.PRIVATE,
)
async def edit(
    ctx: Context,
    survey_number: SurveyArg,
    question: Annotated[int, Opt(Integer(1, MAX_QUESTIONS), N_("The question's number"))],
    text: Annotated[str | None, Opt(Text(300), N_("The question"), rest=True)] = None,
    *,
    choices: Annotated[str | None, Opt(Text(1000), N_("The choices, separated by |"))] = None,
) -> Reply:
    survey = editable(ctx, survey_number)
    assert survey.id is not None
    questions = store.questions_of(ctx.session, survey.id)
    ensure_question(survey, questions, question)
    if text is None and choices is None:
        raise UserError(N_("Tell me what to change: the text, or choices=…"), show_usage=True)
    target = questions[question - 1]
    if choices is not None:
        if target.kind not in (store.SINGLE, store.MULTIPLE):
            raise UserError(
                N_("A question of the kind “{kind}” has its own answers: leave out choices=."),
                kind=ctx.t(KIND_NAMES[target.kind]),
            )
        target.choices = "\n".join(checked_choices(choices))
        target.translations = "{}"  # the translated choices no longer match
    if text is not None:
        target.text = text
    ctx.session.add(target)
    return await show(ctx, survey.id)


@commands.command(
    "survey translate",
    help=N_("Give a question in another language"),
    examples=('survey translate 1 2 fr "Quel jour vous convient ?" choices="Lundi | Mercredi"',),
    visibility=Visibility.PRIVATE,
)
async def translate(
    ctx: Context,
    survey_number: SurveyArg,
    question: Annotated[int, Opt(Integer(1, MAX_QUESTIONS), N_("The question's number"))],
    language: Annotated[str, Opt(OneOf({"nl": "nl", "fr": "fr", "en": "en"}), N_("nl, fr or en"))],
    text: Annotated[str, Opt(Text(300), N_("The question in that language"), rest=True)],
    *,
    choices: Annotated[
        str, Opt(Text(1000), N_("The choices in that language, separated by |"))
    ] = "",
) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    ensure_manages(ctx, survey)
    if survey.state == store.CLOSED:
        raise UserError(N_("Survey {number} is closed."), number=survey.id)
    assert survey.id is not None
    questions = store.questions_of(ctx.session, survey.id)
    ensure_question(survey, questions, question)
    target = questions[question - 1]
    listed = _choices(choices)
    if target.kind in (store.SINGLE, store.MULTIPLE) and len(listed) != len(target.choice_list):
        raise UserError(
            N_("Give the {count} choices in the same order, separated by |."),
            count=len(target.choice_list),
        )
    target.translate(language, text, listed)
    ctx.session.add(target)
    return ctx.say(
        N_("Question {number} now reads in {language} too."),
        number=question,
        language=ctx.t.language_name(language),
    )


# -- showing -----------------------------------------------------------------------------------

STATE_NAMES: dict[str, LazyText] = {
    store.DRAFT: N_("being prepared"),
    store.OPEN: N_("open"),
    store.CLOSED: N_("closed"),
}


def _question_line(ctx: Context, question: SurveyQuestion, t: Translator) -> str:
    text, choices = question_texts(ctx, question, t)
    line = f"{question.position}. {text} ({t(KIND_NAMES[question.kind])})"
    if question.kind in (store.SINGLE, store.MULTIPLE):
        line += "\n   " + " · ".join(choices)
    return line


@commands.command(
    "survey show",
    help=N_("A survey's questions and where it stands"),
    examples=("survey show 1",),
    visibility=Visibility.PRIVATE,
    read_only=True,
)
async def show(ctx: Context, survey_number: SurveyArg) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    assert survey.id is not None
    invited = store.participation(ctx.session, survey.id, ctx.actor_id) is not None
    if not manages(ctx, survey) and not invited:
        raise NotFound(N_("There is no survey {number}."), number=survey_number)
    t = ctx.t
    questions = store.questions_of(ctx.session, survey.id)
    fields = [
        Field(t(N_("For")), audience_name(ctx.settings, ctx.session, survey, ctx.t), inline=True),
        Field(t(N_("State")), t(STATE_NAMES[survey.state]), inline=True),
        Field(t(N_("Closes")), t.datetime(survey.closes_at), inline=True),
        Field(
            t(N_("Answers")),
            t(N_("anonymous")) if survey.anonymous else t(N_("with names")),
            inline=True,
        ),
    ]
    if survey.state != store.DRAFT and manages(ctx, survey):
        fields.append(
            Field(
                t(N_("Answered")),
                f"{t.number(store.count_of(ctx.session, survey.id, answered=True))}"
                f"/{t.number(store.count_of(ctx.session, survey.id))}",
                inline=True,
            )
        )
    lines = [_question_line(ctx, q, t) for q in questions] or [t(N_("No question yet."))]
    text = "\n".join(filter(None, [survey.intro, language_note(t, survey), *lines]))
    return Reply(
        title=f"#{survey.id} {survey.title}",
        text=text,
        fields=tuple(fields),
        visibility=Visibility.PRIVATE,
    )


@commands.command(
    "survey list",
    help=N_("The open surveys for you, and those you manage"),
    examples=("survey list",),
    visibility=Visibility.PRIVATE,
    read_only=True,
)
async def survey_list(ctx: Context) -> Reply:
    t = ctx.t
    mine = ctx.session.exec(
        select(Survey, SurveyParticipant)
        .join(SurveyParticipant, col(SurveyParticipant.survey_id) == col(Survey.id))
        .where(col(SurveyParticipant.member_id) == ctx.actor_id, col(Survey.state) == store.OPEN)
        .order_by(col(Survey.closes_at))
    ).all()
    made = ctx.session.exec(
        select(Survey)
        .where(col(Survey.created_by) == ctx.actor_id, col(Survey.state) != store.CLOSED)
        .order_by(col(Survey.id))
    ).all()
    lines = []
    for survey, participant in mine:
        done = t(N_("answered")) if participant.answered else t(N_("to answer"))
        lines.append(
            f"- **#{survey.id}** {survey.title} · {done} · "
            + t(
                N_("until {day}"), day=t.date(survey.closes_at.astimezone(ctx.settings.zone).date())
            )
        )
    for survey in made:
        lines.append(
            f"- **#{survey.id}** {survey.title} · {t(STATE_NAMES[survey.state])} · "
            + t(N_("yours"))
        )
    if not lines:
        return Reply(text=t(N_("No open survey for you just now.")), visibility=Visibility.PRIVATE)
    return Reply(title=t(N_("Surveys")), text="\n".join(lines), visibility=Visibility.PRIVATE)


# -- opening and closing -----------------------------------------------------------------------


@commands.command(
    "survey open",
    help=N_("Open a survey: its members are invited by direct message"),
    examples=("survey open 1",),
    visibility=Visibility.PRIVATE,
)
async def open_survey(ctx: Context, survey_number: SurveyArg) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    ensure_manages(ctx, survey)
    assert survey.id is not None
    if survey.state != store.DRAFT:
        raise UserError(
            N_("Survey {number} is {state} already."),
            number=survey.id,
            state=ctx.t(STATE_NAMES[survey.state]),
        )
    if not store.questions_of(ctx.session, survey.id):
        raise UserError(
            N_("Survey {number} has no question yet: add one with {command}."),
            number=survey.id,
            command=f"`!survey add {survey.id} …`",
        )
    now = ctx.now()
    if survey.closes_at <= now:
        raise UserError(
            N_(
                "Survey {number} would close before it opens: make a new one with a later "
                "closing day."
            ),
            number=survey.id,
        )
    survey.state, survey.opened_at = store.OPEN, now
    survey.remind_at = max(now + (survey.closes_at - now) / 2, survey.closes_at - REMIND_BEFORE)
    ctx.session.add(survey)
    members = audience_members(ctx, survey).subquery()
    ctx.session.execute(
        insert(SurveyParticipant).from_select(
            ["survey_id", "member_id", "state", "reminded", "answered", "draft"],
            sa_select(
                literal(survey.id),
                members.c[0],
                literal(store.PENDING),
                literal(False),
                literal(False),
                literal("{}"),
            ).order_by(members.c[0]),
        )
    )
    invited = store.count_of(ctx.session, survey.id)
    circle = circle_of(ctx, survey)
    if circle is not None and circle.id is not None:
        t = ctx.catalogues.translator(None, ctx.settings.default_locale)
        notice = Reply(
            title=t(N_("New survey")) + f" #{survey.id}",
            text=t(
                N_("{circle} asks its members: “{title}”, until {day}. Answer with {command}."),
                circle=circle.name,
                title=survey.title,
                day=t.date(survey.closes_at.astimezone(ctx.settings.zone).date()),
                command=f"`!survey take {survey.id}`",
            ),
        )
        for place in places_of(ctx.session, circle.id):
            ctx.notify_place(place.platform, place.place_id, notice)
    return ctx.say(
        N_("Survey #{number} is open: {count} members are being invited."),
        number=survey.id,
        count=invited,
    )


def close(ctx_session_survey: Survey, now: datetime) -> None:
    ctx_session_survey.state, ctx_session_survey.closed_at = store.CLOSED, now


@commands.command(
    "survey close",
    help=N_("Close a survey now"),
    examples=("survey close 1",),
    visibility=Visibility.PRIVATE,
)
async def close_survey(ctx: Context, survey_number: SurveyArg) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    ensure_manages(ctx, survey)
    if survey.state != store.OPEN:
        raise UserError(N_("Survey {number} is not open."), number=survey.id)
    close(survey, ctx.now())
    ctx.session.add(survey)
    return ctx.say(
        N_("Survey #{number} is closed; see {command}."),
        number=survey.id,
        command=f"`!survey results {survey.id}`",
    )


@commands.command(
    "survey remind",
    help=N_("Remind the members who have not answered (once)"),
    examples=("survey remind 1",),
    visibility=Visibility.PRIVATE,
)
async def remind(ctx: Context, survey_number: SurveyArg) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    ensure_manages(ctx, survey)
    if survey.state != store.OPEN:
        raise UserError(N_("Survey {number} is not open."), number=survey.id)
    if survey.reminded:
        raise UserError(
            N_("The members of survey {number} were reminded already."), number=survey.id
        )
    survey.remind_at = ctx.now()
    ctx.session.add(survey)
    return ctx.say(
        N_("The members who have not answered survey #{number} are being reminded."),
        number=survey.id,
    )


@commands.command(
    "survey delete",
    help=N_("Delete a survey and its answers"),
    examples=("survey delete 1",),
    visibility=Visibility.PRIVATE,
)
async def delete(ctx: Context, survey_number: SurveyArg) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    if not (ctx.is_admin or survey.created_by == ctx.actor_id):
        raise PermissionDenied(N_("Only the survey's creator and the admins may delete it."))
    ctx.acting_for(survey.created_by, f"survey {survey.id}")
    title = survey.title
    ctx.session.delete(survey)
    return ctx.say(
        N_("Survey #{number} “{title}” and its answers are deleted."),
        number=survey_number,
        title=title,
    )


# -- answering ---------------------------------------------------------------------------------


def _answerable(ctx: Context, survey_number: int) -> tuple[Survey, SurveyParticipant]:
    survey = survey_by_number(ctx, survey_number)
    assert survey.id is not None
    participant = store.participation(ctx.session, survey.id, ctx.actor_id, lock=True)
    if participant is None:
        if survey.state == store.DRAFT:
            raise NotFound(N_("There is no survey {number}."), number=survey_number)
        raise UserError(N_("Survey {number} is not for you."), number=survey_number)
    if survey.state == store.CLOSED or survey.closes_at <= ctx.now():
        raise UserError(
            N_("Survey {number} is closed: answers are no longer taken."), number=survey_number
        )
    return survey, participant


def current_answers(ctx: Context, survey: Survey, participant: SurveyParticipant) -> dict[int, str]:
    if participant.answered and not survey.anonymous:
        assert survey.id is not None
        response = store.named_response(ctx.session, survey.id, participant.member_id)
        if response is not None and response.id is not None:
            return store.answers_of(ctx.session, response.id)
    return participant.draft_answers


def shown_value(ctx: Context, question: SurveyQuestion, value: str, t: Translator) -> str:
    if question.kind in store.CHOOSING:
        _, choices = question_texts(ctx, question, t)
        picked = [choices[int(n) - 1] for n in value.split(",") if n and int(n) <= len(choices)]
        return ", ".join(picked)
    if value == "":
        return "—"
    return value


def ask(
    ctx: Context, survey: Survey, question: SurveyQuestion, count: int, answers: dict[int, str]
) -> Reply:
    """One question, with its choices numbered (and as buttons: one tap answers)."""
    assert survey.id is not None
    assert question.id is not None
    t = ctx.t
    text, choices = question_texts(ctx, question, t)
    lines = [f"**{text}**"]
    actions: list[Action] = []
    menus: list[Menu] = []
    command = f"survey answer {survey.id}"
    at = f"question={question.position}"
    if question.kind in store.CHOOSING:
        lines += [f"{n}. {choice}" for n, choice in enumerate(choices, 1)]
        if question.kind in store.MANY:
            lines.append(
                t(N_("Give one or more numbers, like {example}."), example=f"`!{command} 1,3`")
            )
            menus = [
                Menu(
                    t(N_("Choose one or more")),
                    f"{command} {{}} {at}",
                    tuple(MenuChoice(c, str(n)) for n, c in enumerate(choices, 1)),
                    most=len(choices),
                )
            ]
        else:
            lines.append(
                t(N_("Answer with the number, like {example}."), example=f"`!{command} 1`")
            )
            actions = [
                Action(choice[:80], f"{command} {n} {at}") for n, choice in enumerate(choices, 1)
            ]
    elif question.kind == store.SCALE:
        lines.append(
            t(N_("From 1 (not at all) to 5 (very much): {example}."), example=f"`!{command} 4`")
        )
        actions = [Action(str(n), f"{command} {n} {at}") for n in store.SCALE_RANGE]
    else:
        lines.append(
            t(N_("Type your answer: {example} (or - to skip)."), example=f"`!{command} …`")
        )
        actions = [
            Action(
                t(N_("Type my answer")),
                f"{command} {{}} {at}",
                ActionStyle.PRIMARY,
                "✏️",
                asks=text[:45],
            ),
            Action(t(N_("Skip")), f"{command} - {at}"),
        ]
    if question.id in answers:
        lines.append(
            t(
                N_("Your answer now: {answer}."),
                answer=shown_value(ctx, question, answers[question.id], t),
            )
        )
    if survey.anonymous and len(answers) == count - 1 and question.id not in answers:
        lines.append(
            t(
                N_(
                    "This is the last question: once answered, your anonymous answers are "
                    "sent and cannot be changed."
                )
            )
        )
    return Reply(
        title=t(N_("Question {number} of {count}"), number=question.position, count=count)
        + f" · {survey.title}",
        text="\n".join(lines),
        actions=tuple(actions),
        menus=tuple(menus),
        visibility=Visibility.PRIVATE,
    )


@commands.command(
    "survey take",
    help=N_("Answer a survey: its next question"),
    examples=("survey take 1", "survey take 1 question=2"),
    visibility=Visibility.PRIVATE,
)
async def take(
    ctx: Context,
    survey_number: SurveyArg,
    *,
    question: Annotated[int | None, Opt(Integer(1, MAX_QUESTIONS), N_("This question"))] = None,
) -> Reply:
    survey, participant = _answerable(ctx, survey_number)
    assert survey.id is not None
    questions = store.questions_of(ctx.session, survey.id)
    answers = current_answers(ctx, survey, participant)
    if participant.answered and survey.anonymous:
        raise UserError(N_("You answered survey {number} already; thank you!"), number=survey.id)
    if question is not None:
        ensure_question(survey, questions, question)
        return ask(ctx, survey, questions[question - 1], len(questions), answers)
    for one in questions:
        if one.id not in answers:
            return ask(ctx, survey, one, len(questions), answers)
    return ctx.say(
        N_("You answered every question of survey {number}. Change one with {command}."),
        number=survey.id,
        command=f"`!survey take {survey.id} question=…`",
    )


def parse_answer(ctx: Context, question: SurveyQuestion, raw: str) -> str:
    """The stored form of a typed answer, or a UserError that says what is expected."""
    raw = raw.strip()
    if question.kind in store.CHOOSING:
        _, choices = question_texts(ctx, question, ctx.t)
        picked: list[int] = []
        for part in raw.replace(" ", ",").split(","):
            if not part:
                continue
            number = int(part) if part.isdigit() else None
            if number is None:
                folded = part.casefold()
                number = next((n for n, c in enumerate(choices, 1) if c.casefold() == folded), None)
            if number is None or not 1 <= number <= len(choices):
                raise UserError(N_("Choose a number from 1 to {count}."), count=len(choices))
            if number not in picked:
                picked.append(number)
        if not picked:
            raise UserError(N_("Choose a number from 1 to {count}."), count=len(choices))
        if len(picked) > 1 and question.kind not in store.MANY:
            raise UserError(N_("Choose one answer only."))
        return ",".join(str(n) for n in sorted(picked))
    if question.kind == store.SCALE:
        if raw not in {str(n) for n in store.SCALE_RANGE}:
            raise UserError(N_("Answer with a number from 1 to 5."))
        return raw
    if raw.casefold() in SKIP_WORDS:
        return ""
    if len(raw) > 1000:
        raise UserError(N_("An answer has 1000 characters at most."))
    return raw


@commands.command(
    "survey answer",
    help=N_("Answer a survey's question"),
    examples=(
        "survey answer 1 2",
        "survey answer 1 1,3 question=2",
        "survey answer 1 More walks, please",
    ),
    visibility=Visibility.PRIVATE,
)
async def answer(
    ctx: Context,
    survey_number: SurveyArg,
    value: Annotated[
        str, Opt(Text(1000), N_("Your answer: a number, numbers, or words"), rest=True)
    ],
    *,
    question: Annotated[
        int | None, Opt(Integer(1, MAX_QUESTIONS), N_("The question's number"))
    ] = None,
) -> Reply:
    survey, participant = _answerable(ctx, survey_number)
    assert survey.id is not None
    if participant.answered and survey.anonymous:
        raise UserError(N_("You answered survey {number} already; thank you!"), number=survey.id)
    questions = store.questions_of(ctx.session, survey.id)
    answers = current_answers(ctx, survey, participant)
    if question is not None:
        ensure_question(survey, questions, question)
        target = questions[question - 1]
    else:
        target = next((q for q in questions if q.id not in answers), questions[-1])
    assert target.id is not None
    answers[target.id] = parse_answer(ctx, target, value)
    complete = all(q.id in answers for q in questions)
    if participant.answered or complete:
        member = ctx.actor
        sector = ctx.session.exec(
            select(MemberSector.sector)
            .where(col(MemberSector.member_id) == member.id)
            .order_by(col(MemberSector.sector))
        ).first()
        store.save_response(ctx.session, survey, participant, answers, member.region, sector)
    else:
        participant.set_draft(answers)
        ctx.session.add(participant)
    following = next((q for q in questions if q.id not in answers), None)
    if following is not None:
        return ask(ctx, survey, following, len(questions), answers)
    if survey.anonymous:
        done = N_("Thank you! Your anonymous answers to survey {number} are in.")
    else:
        done = N_(
            "Thank you! Your answers to survey {number} are in; you may change them until "
            "{day} with {command}."
        )
    return Reply(
        text=ctx.t(
            done,
            number=survey.id,
            day=ctx.t.date(survey.closes_at.astimezone(ctx.settings.zone).date()),
            command=f"`!survey take {survey.id} question=…`",
        ),
        visibility=Visibility.PRIVATE,
        refresh="",
    )


# -- results -----------------------------------------------------------------------------------


def may_see_results(ctx: Context, survey: Survey) -> bool:
    if manages(ctx, survey):
        return True
    assert survey.id is not None
    invited = store.participation(ctx.session, survey.id, ctx.actor_id) is not None
    return invited and survey.state == store.CLOSED and survey.results_public


def _shown_count(ctx: Context, count: int, full: bool) -> str:
    threshold = ctx.settings.followup.privacy_threshold
    if not full and 0 < count < threshold:
        return f"<{threshold}"
    return ctx.t.number(count)


BREAKDOWNS: dict[str, LazyText] = {"region": N_("by region"), "sector": N_("by sector")}
SHOWN_TEXTS = 20  # free-text answers listed in chat; the CSV has them all


def _counts(values: list[str]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for value in values:
        for number in value.split(","):
            if number:
                counts[int(number)] += 1
    return counts


def _weighted_counts(grouped: list[tuple[str, int]]) -> tuple[Counter[int], int]:
    """Each choice's count from (answer, how many gave it), and how many answered."""
    counts: Counter[int] = Counter()
    for value, n in grouped:
        for number in value.split(","):
            if number:
                counts[int(number)] += n
    return counts, sum(n for _, n in grouped)


def _bucket_label(ctx: Context, by: str, key: str | None) -> str:
    if key is None:
        return ctx.t(N_("not given"))
    terms = ctx.settings.regions if by == "region" else ctx.settings.sectors
    return next((term.label(ctx.t.locale) for term in terms if term.key == key), key)


@commands.command(
    "survey results",
    help=N_("A survey's results: counts, percentages, a chart, free texts"),
    examples=("survey results 1", "survey results 1 csv=yes", "survey results 1 by=region"),
    visibility=Visibility.PRIVATE,
    read_only=True,
)
async def results(
    ctx: Context,
    survey_number: SurveyArg,
    *,
    by: Annotated[
        str | None, Opt(OneOf(BREAKDOWNS), N_("Split by region or sector (named surveys)"))
    ] = None,
    csv_file: Annotated[
        bool, Opt(Flag(), N_("Also send the results as a CSV file"), name="csv")
    ] = False,
) -> Reply:
    survey = survey_by_number(ctx, survey_number)
    assert survey.id is not None
    if not may_see_results(ctx, survey):
        if manages(ctx, survey) or store.participation(ctx.session, survey.id, ctx.actor_id):
            raise PermissionDenied(
                N_("The results of survey {number} are for its makers."), number=survey.id
            )
        raise NotFound(N_("There is no survey {number}."), number=survey_number)
    if by is not None and survey.anonymous:
        raise UserError(
            N_("An anonymous survey is not split by region or sector: it keeps neither.")
        )
    full = manages(ctx, survey)
    t = ctx.t
    threshold = ctx.settings.followup.privacy_threshold
    questions = store.questions_of(ctx.session, survey.id)
    invited = store.count_of(ctx.session, survey.id)
    answered_count = store.response_count(ctx.session, survey.id)
    if not answered_count:
        return Reply(
            title=f"#{survey.id} {survey.title}",
            text=t(N_("No answer yet ({invited} invited)."), invited=t.number(invited)),
            visibility=Visibility.PRIVATE,
        )
    grouped = store.value_counts(ctx.session, survey.id)  # counted in the database
    # a breakdown needs each answer with its response's region or sector
    by_question: dict[int, list[tuple[int, str]]] = {}
    responses: dict[int, tuple[str | None, str | None, str | None]] = {}
    if by is not None:
        responses = store.response_details(ctx.session, survey.id)
        for response_id, question_id, value in store.all_answers(ctx.session, survey.id):
            by_question.setdefault(question_id, []).append((response_id, value))
    lines: list[str] = [
        t(
            N_("{responses} answered of {invited} invited."),
            responses=_shown_count(ctx, answered_count, full),
            invited=t.number(invited),
        )
    ]
    rows: list[list[str]] = [
        [t(N_("Question")), t(N_("Answer")), t(N_("Count")), t(N_("Share")), t(N_("Group"))]
    ]
    charted: list[tuple[str, list[str], list[int]]] = []
    for question in questions:
        assert question.id is not None
        text, choices = question_texts(ctx, question, t)
        lines.append(f"\n**{question.position}. {text}**")
        if question.kind not in store.CHOOSING and question.kind != store.SCALE:
            given = sum(n for value, n in grouped.get(question.id, []) if value)
            shown = None if csv_file else SHOWN_TEXTS
            named = full and not survey.anonymous
            texts = store.text_answers(ctx.session, question.id, shown)
            if not texts:
                lines.append(t(N_("No text given.")))
            for value, name in texts[:SHOWN_TEXTS]:
                lines.append(f"- “{value}”" + (f" — {name}" if named and name else ""))
            if given > SHOWN_TEXTS:
                lines.append(t(N_("… and {count} more in the CSV."), count=given - SHOWN_TEXTS))
            rows += [[text, value, "", "", ""] for value, _ in texts]
            continue
        labels = choices if question.kind in store.CHOOSING else [str(n) for n in store.SCALE_RANGE]
        counts, given = _weighted_counts(grouped.get(question.id, []))
        numbers = [counts.get(n, 0) for n in range(1, len(labels) + 1)]
        for label, count in zip(labels, numbers, strict=True):
            share = (
                format_percent(count / given, locale=t.babel_locale)
                if given and (full or count == 0 or count >= threshold)
                else "—"
            )
            lines.append(f"- {label}: {_shown_count(ctx, count, full)} ({share})")
            rows.append([text, label, _shown_count(ctx, count, full), share, ""])
        if question.kind == store.SCALE and given:
            average = sum(int(v) * n for v, n in grouped.get(question.id, [])) / given
            lines.append(
                t(
                    N_("Average: {average}"),
                    average=format_decimal(round(average, 1), locale=t.babel_locale),
                )
            )
        if by is not None:
            answered = by_question.get(question.id, [])
            lines += _split(ctx, by, labels, answered, responses, full, text, rows)
        charted.append(
            (
                f"{question.position}. {text}",
                labels,
                [c if full or c >= threshold else 0 for c in numbers],
            )
        )
    attachments = [
        Attachment(f"survey-{survey.id}-{number}.png", survey_chart(t, survey, *one), "image/png")
        for number, one in enumerate(charted[:MAX_CHARTS], 1)
    ]
    if csv_file:
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        attachments.append(
            Attachment(f"survey-{survey.id}.csv", out.getvalue().encode("utf-8"), "text/csv")
        )
    return Reply(
        title=f"#{survey.id} {survey.title}",
        text="\n".join(lines),
        attachments=tuple(attachments),
        visibility=Visibility.PRIVATE,
    )


def _split(
    ctx: Context,
    by: str,
    labels: list[str],
    answered: list[tuple[int, str]],
    responses: dict[int, tuple[str | None, str | None, str | None]],
    full: bool,
    text: str,
    rows: list[list[str]],
) -> list[str]:
    """A question's counts per region or sector; a group smaller than the privacy threshold
    joins "others" for whoever does not manage the survey."""
    threshold = ctx.settings.followup.privacy_threshold
    groups: dict[str | None, list[str]] = {}
    for response_id, value in answered:
        region, sector, _ = responses[response_id]
        groups.setdefault(region if by == "region" else sector, []).append(value)
    shown: dict[str, list[str]] = {}
    others = ctx.t(N_("others"))
    for key, values in sorted(groups.items(), key=lambda item: -len(item[1])):
        name = _bucket_label(ctx, by, key) if full or len(values) >= threshold else others
        shown.setdefault(name, []).extend(values)
    lines = []
    for name, values in shown.items():
        counts = _counts(values)
        parts = [
            f"{label} {_shown_count(ctx, counts.get(n, 0), full)}"
            for n, label in enumerate(labels, 1)
        ]
        lines.append(f"  · {name} ({_shown_count(ctx, len(values), full)}): " + ", ".join(parts))
        rows += [
            [text, label, _shown_count(ctx, counts.get(n, 0), full), "", name]
            for n, label in enumerate(labels, 1)
        ]
    return lines


def survey_chart(
    t: Translator, survey: Survey, title: str, labels: list[str], counts: list[int]
) -> bytes:
    """A question's answers as bars, one per choice (the follow-up's chart, its size)."""
    figure = chart(
        title[:90],
        labels,
        [Series(t(N_("Answers")), counts)],
        ylabel=t(N_("Number")),
        note=t(N_("Survey “{title}”"), title=survey.title)[:120],
    )
    return png(figure)
