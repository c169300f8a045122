""" "Did it work out?": answer the question the follow-up asks, and see the open ones.

Some days after an introduction, a response to a post or a filled project slot, both people
get a direct message (scheduler/outcome_checks.py) with three answers: it led to work, still
talking, no. One tap (a button, a reaction) or ``followup answer <question> <answer>`` answers;
``followup pending`` lists the questions still open, with their buttons.

Rules (the core checks them, whatever the platform):

- Only the member asked may answer their question; another's number, an unknown one, or one not
  asked yet is "no such question" (nothing said about whose it is).
- An answer becomes the question's outcome_answered fact (storage/facts.py); a later answer
  replaces that fact, so the figures count each question once, as it ended.
- "Still talking" the first time: recorded, and the question comes back once more
  ``ask_after_days`` later (with its reminder); the answer then is final. Given again, or no
  answer to the second asking, "still talking" stands.
- An answer may be changed, and a late one given after the question closed as "unknown" (it
  replaces "unknown"), until ``CHANGE_DAYS`` after the last answer; after that the question is
  closed and nothing changes.
- An answer the same as the one recorded changes nothing and says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from bot.context import Context
from bot.errors import NotFound, UserError
from bot.i18n import N_
from bot.params import Integer, OneOf
from bot.reply import Action, Reply, Visibility
from bot.spec import CommandSet, Opt
from scheduler.outcome_checks import ANSWER_LABELS, answer_actions, describe, question_reply
from storage import outcome_checks as store
from storage.outcome_checks import OutcomeCheck

commands = CommandSet()
# the reports' module (issue 12) may describe the group too: the last description wins
commands.group("followup", help=N_("Follow-up of the network: what happened, did it work out"))

ANSWERS = {store.WORK: N_("work"), store.TALKING: N_("talking"), store.NO: N_("no")}
ANSWER_WORDS = {
    "yes": store.WORK,
    "ja": store.WORK,
    "oui": store.WORK,
    "werk": store.WORK,
    "travail": store.WORK,
    "talk": store.TALKING,
    "still": store.TALKING,
    "gesprek": store.TALKING,
    "praten": store.TALKING,
    "discussion": store.TALKING,
    "nee": store.NO,
    "neen": store.NO,
    "non": store.NO,
}
SHOWN = {**ANSWER_LABELS, store.UNKNOWN: N_("no answer")}
CheckArg = Annotated[int, Opt(Integer(1, 10**12), N_("The question's number"))]


def _own_check(ctx: Context, number: int, lock: bool = False) -> OutcomeCheck:
    """The actor's question ``number`` that was asked; anything else is "no such question".
    ``lock``: its row is held until the command ends (PostgreSQL), so the job closing it as
    "unknown" at the same moment cannot leave two facts for it."""
    check = ctx.session.get(OutcomeCheck, number, with_for_update=lock)
    if (
        check is None
        or check.member_id != ctx.actor_id
        or check.state == store.CANCELLED
        or check.asked_at is None
    ):
        raise NotFound(N_("There is no question {number} for you."), number=number)
    return check


@commands.command(
    "followup answer",
    help=N_("Answer “did it work out?”"),
    examples=("followup answer 12 work", "followup answer 12 talking"),
    visibility=Visibility.PRIVATE,
)
async def answer(
    ctx: Context,
    question: CheckArg,
    outcome: Annotated[
        str, Opt(OneOf(ANSWERS, ANSWER_WORDS), N_("work, talking or no"), name="answer")
    ],
) -> Reply:
    check = _own_check(ctx, question, lock=True)
    now = ctx.now()
    closed = check.state in (store.ANSWERED, store.UNKNOWN)
    if closed and check.answered_at and check.answered_at < now - timedelta(days=store.CHANGE_DAYS):
        raise UserError(N_("Question {number} is closed; thank you all the same."), number=question)
    if check.answer == outcome and not check.is_open:
        raise UserError(
            N_("You already answered question {number} so; nothing changed."), number=question
        )
    after = timedelta(days=ctx.settings.followup.ask_after_days)
    final = store.answer(ctx.session, check, outcome, now, after)
    text = ctx.t(N_("Thank you! Noted: {answer}."), answer=ctx.t(ANSWER_LABELS[outcome]))
    if not final:
        text += " " + ctx.t.plural(
            "I will ask again in {count} day.",
            "I will ask again in {count} days.",
            ctx.settings.followup.ask_after_days,
        )
    return Reply(text=text, visibility=Visibility.PRIVATE, refresh=f"followup question {question}")


@commands.command(
    "followup question",
    help=N_("Show one “did it work out?” question and your answer"),
    examples=("followup question 12",),
    visibility=Visibility.PRIVATE,
    hidden=True,
)
async def question(ctx: Context, question: CheckArg) -> Reply:
    """The question's message as it is now (a button's refresh shows it): in the member's own
    language, as it is their direct message."""
    check = _own_check(ctx, question)
    t = ctx.translator_for(ctx.actor)
    shown = question_reply(ctx.session, t, check)
    if check.answer is None:
        return shown
    return Reply(
        title=shown.title,
        text=describe(ctx.session, t, check)
        + "\n"
        + t(N_("Your answer: {answer}."), answer=t(SHOWN[check.answer])),
        actions=shown.actions,
        visibility=Visibility.PRIVATE,
    )


@commands.command(
    "followup pending",
    help=N_("Your open “did it work out?” questions"),
    examples=("followup pending",),
    visibility=Visibility.PRIVATE,
)
async def pending(ctx: Context) -> Reply:
    open_ones = store.open_checks(ctx.session, ctx.actor_id, limit=5)
    if not open_ones:
        return Reply(
            text=ctx.t(N_("No open questions. Thank you for answering!")),
            visibility=Visibility.PRIVATE,
        )
    if len(open_ones) == 1:
        only = question_reply(ctx.session, ctx.t, open_ones[0])
        return Reply(
            title=only.title, text=only.text, actions=only.actions, visibility=Visibility.PRIVATE
        )
    lines = []
    actions: list[Action] = []
    for check in open_ones:
        assert check.id is not None
        lines.append(f"- **#{check.id}** {describe(ctx.session, ctx.t, check)}")
        actions.extend(answer_actions(ctx.t, check.id, numbered=True))
    return Reply(
        title=ctx.t(N_("Did it work out?")),
        text="\n".join(lines)
        + "\n"
        + ctx.t(
            N_("Answer with {command}."), command="`!followup answer <number> work|talking|no`"
        ),
        actions=tuple(actions),
        visibility=Visibility.PRIVATE,
    )
