"""Benchmark: a survey to 50,000 members — invitations, answering, results.

Seeds 50,000 members with a console account. An admin makes a survey for everyone through the
commands (a choice, a 1–5 scale, a free text) and opens it (one INSERT … SELECT makes every
invitation). Then it measures:

- the invitation job (scheduler/surveys.py) sending all 50,000 invitations to the in-memory
  platform (claims, rendering in each member's language, delivery, marking sent), and what the
  same would take at the platforms' own pace: Discord lets a bot open about 50 requests a
  second (a direct message is one or two), a Matrix homeserver's default rate limit for a bot
  account is of the same order, so the platforms, not Samen, set that time;
- answering: ``--answering`` members answer the three questions through the commands, each
  answer timed (goal p99 ≤ 50 ms);
- results: the other members' answers are written in bulk (50,000 in all), then
  ``survey results`` with its charts is timed (goal p99 ≤ 1 s).

    python bench/surveys.py [--postgres URL] [--smoke]

`--smoke` runs a few hundred members and fails when an invitation is missing or sent twice,
an answer is refused, or the results do not count every answer; never on a time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, update  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from adapters.memory import MemoryAdapter  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_postgres,
    add_smoke,
    apply_smoke,
    database_row,
    percentile,
    scratch_database,
    seed_console_members,
    verdict,
)
from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import StorageSettings, load_settings  # noqa: E402
from scheduler.surveys import run_surveys  # noqa: E402
from storage.surveys import SurveyAnswer, SurveyParticipant, SurveyQuestion, SurveyResponse  # noqa: E402

TARGET_ANSWER_P99_S = 0.050
TARGET_RESULTS_P99_S = 1.0
PLATFORM_MESSAGES_PER_SECOND = 50  # Discord's global limit for a bot; Matrix's is similar
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def seed_answers(app: App, survey_id: int, members: list[int], rng: random.Random) -> int:
    """The answers of ``members`` written in bulk, as the commands would have left them."""
    with app.database.session() as session:
        questions = list(
            session.exec(
                select(SurveyQuestion)
                .where(col(SurveyQuestion.survey_id) == survey_id)
                .order_by(col(SurveyQuestion.position))
            )
        )
        first = session.exec(
            select(SurveyResponse.id).order_by(col(SurveyResponse.id).desc())
        ).first()
        next_id = (first or 0) + 1
        responses, answers = [], []
        for offset, member_id in enumerate(members):
            response_id = next_id + offset
            responses.append({"id": response_id, "survey_id": survey_id, "member_id": member_id})
            for question in questions:
                if question.kind == "single":
                    value = str(rng.randint(1, 3))
                elif question.kind == "scale":
                    value = str(rng.randint(1, 5))
                else:
                    value = rng.choice(
                        ("", "", "", "More walks", "Grant files", "Meet sound people")
                    )
                answers.append(
                    {"response_id": response_id, "question_id": question.id, "value": value}
                )
        for start in range(0, len(responses), 5000):
            session.exec(insert(SurveyResponse), params=responses[start : start + 5000])
        for start in range(0, len(answers), 15000):
            session.exec(insert(SurveyAnswer), params=answers[start : start + 15000])
        session.exec(
            update(SurveyParticipant)
            .where(col(SurveyParticipant.survey_id) == survey_id)
            .values(answered=True)
        )
    return len(responses)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--answering", type=int, default=300, help="members who answer, timed")
    parser.add_argument("--calls", type=int, default=20, help="results asked")
    parser.add_argument("--seed", type=int, default=42)
    add_smoke(parser)
    add_postgres(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, members=300, answering=20, calls=3)
    return args


async def answer_all(bot: MemoryAdapter, survey: int, members: list[str]) -> list[float]:
    seconds: list[float] = []
    for index, user in enumerate(members):
        for value in (str(index % 3 + 1), str(index % 5 + 1), f"Answer of {user}"):
            before = time.perf_counter()
            reply = await bot.say(user, f"!survey answer {survey} {value}")
            seconds.append(time.perf_counter() - before)
            if reply.is_error:
                raise SystemExit(f"{user}'s answer {value!r} was refused: {reply.plain()}")
    bot.replies.clear()
    return seconds


async def results(
    bot: MemoryAdapter, survey: int, calls: int, expected: int, invited: int
) -> list[float]:
    seconds: list[float] = []
    for _ in range(calls):
        before = time.perf_counter()
        reply = await bot.say("admin", f"!survey results {survey}")
        seconds.append(time.perf_counter() - before)
        if reply.is_error or not any(a.mimetype == "image/png" for a in reply.attachments):
            raise SystemExit(f"survey results answered without a chart: {reply.plain()}")
        if f"{expected:,} answered of {invited:,} invited" not in reply.text:
            raise SystemExit(f"survey results do not count {expected} answers: {reply.text[:200]}")
    bot.replies.clear()
    return seconds


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp,
        scratch_database(args.postgres, Path(tmp)) as url,
    ):
        _, value = database_row(url)
        settings = load_settings(ROOT / "bot.toml")
        settings = settings.model_copy(update={"storage": StorageSettings(url=url)})
        clock = FakeClock()
        clock.set(NOW)
        app = App(settings, clock=clock)
        app.prepare_database()
        loop = asyncio.new_event_loop()
        try:
            run = loop.run_until_complete
            with app.database.session() as session:
                ids = seed_console_members(session, args.members, NOW)
            bot = MemoryAdapter(app)
            run(bot.say("admin", "!profile set locale=en"))
            made = run(
                bot.say("admin", '!survey create Networking needs everyone=yes closes="2027-01-31"')
            )
            survey = int(made.title.split()[0].lstrip("#"))
            for line in (
                f"!survey add {survey} single Which day suits you? "
                'choices="Monday | Wednesday | Friday"',
                f"!survey add {survey} scale How useful is the network to you?",
                f"!survey add {survey} text What would you like to learn from others?",
            ):
                if run(bot.say("admin", line)).is_error:
                    raise SystemExit(f"{line!r} was refused")
            before = time.perf_counter()
            opened = run(bot.say("admin", f"!survey open {survey}"))
            open_seconds = time.perf_counter() - before
            if opened.is_error:
                raise SystemExit(f"survey open was refused: {opened.plain()}")
            before = time.perf_counter()
            sent = run(run_surveys(app.services))
            invite_seconds = time.perf_counter() - before
            again = run(run_surveys(app.services))
            invited = sum(1 for user in bot.inbox if bot.inbox[user])
            everyone = len(ids) + 1  # and the admin
            if sent != everyone or again or invited != everyone:
                raise SystemExit(
                    f"{sent} invitations sent to {invited} members of {everyone}, then {again}"
                )
            bot.inbox.clear()
            answering = [f"m{i}" for i in ids[: args.answering]]  # their console accounts
            answer_seconds = run(answer_all(bot, survey, answering))
            seed_answers(app, survey, ids[args.answering :], rng)
            run(results(bot, survey, 1, len(ids), everyone))  # warm-up: fonts, caches
            result_seconds = run(results(bot, survey, args.calls, len(ids), everyone))
        finally:
            loop.close()
            app.database.dispose()
    size = f"{len(ids):,} members, 3 questions"
    print(f"# bench/surveys.py ({size}; {value})\n")
    print("| measure | count | p50 | p99 | target | met |")
    print("|---|---:|---:|---:|---|:-:|")
    paced = len(ids) / PLATFORM_MESSAGES_PER_SECOND
    print(f"| `survey open` (every invitation row) | 1 | {open_seconds:.2f} s | | | |")
    print(
        f"| invitation job, all sent in memory | {sent:,} | {invite_seconds:.1f} s | | "
        f"at the platforms' {PLATFORM_MESSAGES_PER_SECOND}/s: ≥ {paced:,.0f} s | |"
    )
    answer_p99 = percentile(answer_seconds, 99)
    results_p99 = percentile(result_seconds, 99)
    print(
        f"| an answer (`survey answer`) | {len(answer_seconds)} "
        f"| {percentile(answer_seconds, 50) * 1000:.1f} ms | {answer_p99 * 1000:.1f} ms "
        f"| p99 ≤ {TARGET_ANSWER_P99_S * 1000:g} ms "
        f"| {verdict(answer_p99 <= TARGET_ANSWER_P99_S)} |"
    )
    print(
        f"| `survey results` of {len(ids):,} answers, with charts | {len(result_seconds)} "
        f"| {percentile(result_seconds, 50):.3f} s | {results_p99:.3f} s "
        f"| p99 ≤ {TARGET_RESULTS_P99_S:g} s | {verdict(results_p99 <= TARGET_RESULTS_P99_S)} |"
    )
    targets = Targets("surveys")
    targets.add(f"invitations to {size}, in memory", f"{invite_seconds:.1f} s", "reported", None)
    targets.add(
        f"`survey answer` ({size})",
        f"{answer_p99 * 1000:.1f} ms",
        f"≤ {TARGET_ANSWER_P99_S * 1000:g} ms",
        answer_p99 <= TARGET_ANSWER_P99_S,
    )
    targets.add(
        f"`survey results` with charts ({size})",
        f"{results_p99:.3f} s",
        f"≤ {TARGET_RESULTS_P99_S:g} s",
        results_p99 <= TARGET_RESULTS_P99_S,
    )
    targets.write(args.json)


if __name__ == "__main__":
    main()
