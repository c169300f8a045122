"""Benchmark: `!followup report` over two years of the network's facts, with its chart.

Seeds the fact table (what the reports read, and all they read) as two years of a network of
50,000 members would have written it: weekly meetups in 300 circles with their "going" answers
(to a date, and regulars' to the whole series) and check-ins, 200,000 posts (published,
answered, closed with an outcome), 100,000 introductions and their "did it work out?" answers,
new members and circle joins. Members
appear by their alias (as forgotten ones do), so no member rows are needed. Then it measures,
through the whole core (dispatch, the queries, the matplotlib chart, the reply):

- a report over a year for the whole cooperative, by month, with its chart (goal p99 ≤ 1 s);
- a circle's report over a year (goal p99 ≤ 200 ms).

    python bench/followup.py [--postgres URL] [--smoke]

`--smoke` seeds a tiny network and fails when a report is an error, has no chart or shows no
meetup where meetups were seeded; never on a time. The weekly digest of all circles (issue
12's third goal) is bench/digest.py.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from adapters.memory import MemoryAdapter  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_postgres,
    add_smoke,
    apply_smoke,
    database_row,
    percentile,
    scratch_database,
    verdict,
)
from bot.app import App  # noqa: E402
from bot.config import StorageSettings, load_settings  # noqa: E402
from storage import facts  # noqa: E402

TARGET_YEAR_P99_S = 1.0
TARGET_CIRCLE_P99_S = 0.2
START = datetime(2025, 1, 6, 7, 30, tzinfo=UTC)  # a Monday; two years of weeks from here
OUTCOMES = ("found_in_community", "found_elsewhere", "withdrawn", "expired")
ANSWERS = ("work", "talking", "no", "unknown")


def make_app(url: str) -> App:
    settings = load_settings(ROOT / "bot.toml")
    settings = settings.model_copy(
        update={"storage": StorageSettings(url=url), "admins": ("console:admin",)}
    )
    app = App(settings)
    app.prepare_database()
    return app


def seed(app: App, args: argparse.Namespace, rng: random.Random) -> int:
    """Bulk-insert the facts; returns how many."""
    sectors = app.settings.sector_levels.leaves()
    regions = app.settings.region_levels.leaves()
    span = timedelta(weeks=args.weeks)
    rows: list[dict[str, object]] = []
    total = 0

    def at() -> datetime:
        return START + timedelta(seconds=rng.uniform(0, span.total_seconds()))

    def member() -> int:
        return rng.randint(1, args.members)

    def flush(force: bool = False) -> None:
        nonlocal rows, total
        if rows and (force or len(rows) >= 20_000):
            with app.database.session() as session:
                session.connection().execute(insert(facts.FACT), rows)
                session.commit()
            total += len(rows)
            rows = []

    def add(kind: str, when: datetime, **values: object) -> None:
        base: dict[str, object] = dict.fromkeys(facts.COLUMNS)
        base.update(kind=kind, occurred_at=when, **values)
        rows.append(base)
        flush()

    for number in range(1, args.members + 1):
        add(facts.MEMBER_CREATED, at(), member_alias=number)
    circle_scope = [
        (rng.choice(sectors), None) if c % 2 else (None, rng.choice(regions))
        for c in range(args.circles)
    ]
    for circle in range(1, args.circles + 1):
        sector, region = circle_scope[circle - 1]
        scope = {"circle_id": circle, "sector": sector, "region": region}
        for _ in range(rng.randint(5, 30)):
            add(facts.CIRCLE_JOINED, at(), member_alias=member(), **scope)
        for _ in range(rng.randint(0, 8)):  # regulars: "going" to every date, from some day on
            add(
                facts.RSVP_GOING,
                at(),
                meetup_id=circle,
                occurrence="",
                member_alias=member(),
                **scope,
            )
        for week in range(args.weeks):
            when = START + timedelta(weeks=week, days=circle % 5)
            key = when.strftime("%Y-%m-%dT%H:%MZ")
            add(facts.MEETUP_HELD, when, meetup_id=circle, occurrence=key, **scope)
            going = [member() for _ in range(rng.randint(2, 12))]
            for who in going:
                add(
                    facts.RSVP_GOING,
                    when - timedelta(days=2),
                    meetup_id=circle,
                    occurrence=key,
                    member_alias=who,
                    **scope,
                )
            for who in going[: max(1, len(going) * 2 // 3)]:
                add(
                    facts.CHECKED_IN,
                    when,
                    meetup_id=circle,
                    occurrence=key,
                    member_alias=who,
                    **scope,
                )
    for post in range(1, args.posts + 1):
        kind = "need" if post % 3 else "offer"
        scope = {"sector": rng.choice(sectors), "region": rng.choice(regions), "post_kind": kind}
        published = at()
        add(facts.POST_PUBLISHED, published, post_id=post, member_alias=member(), **scope)
        if rng.random() < 0.6:
            add(
                facts.POST_CLOSED,
                published + timedelta(days=rng.randint(1, 30)),
                post_id=post,
                outcome=rng.choice(OUTCOMES),
                member_alias=member(),
                **scope,
            )
    for intro in range(args.introductions):
        post = rng.randint(1, args.posts)
        scope = {"sector": rng.choice(sectors), "region": rng.choice(regions), "post_kind": "need"}
        when = at()
        add(facts.POST_RESPONDED, when, post_id=post, member_alias=member(), **scope)
        add(facts.INTRODUCTION_MADE, when, post_id=post, member_alias=member(), **scope)
        if intro % 2 == 0:
            add(
                facts.OUTCOME_ANSWERED,
                when + timedelta(days=7),
                post_id=post,
                outcome=rng.choice(ANSWERS),
                member_alias=member(),
                **scope,
            )
    flush(force=True)
    with app.database.session() as session:  # what the held job records with each occurrence
        facts.fill_registered(session.connection())
        session.commit()
    return total


async def measure(bot: MemoryAdapter, line: str, calls: int) -> list[float]:
    seconds: list[float] = []
    for _ in range(calls):
        before = time.perf_counter()
        reply = await bot.say("admin", line)
        seconds.append(time.perf_counter() - before)
        if reply.is_error:
            raise SystemExit(f"{line!r} answered an error: {reply.plain()}")
        if not any(a.mimetype == "image/png" for a in reply.attachments):
            raise SystemExit(f"{line!r} answered without a chart: {reply.plain()}")
        held = {f.name: f.value for f in reply.fields}.get("Meetups held", "0")
        if held.split()[0] in ("0", "<5"):
            raise SystemExit(f"{line!r} shows no meetup held: {reply.plain()}")
    bot.replies.clear()
    return seconds


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--circles", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--introductions", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=30, help="reports of each kind")
    parser.add_argument("--seed", type=int, default=42)
    add_smoke(parser)
    add_postgres(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, members=200, circles=4, weeks=60, posts=300, introductions=100, calls=3)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp,
        scratch_database(args.postgres, Path(tmp)) as url,
    ):
        _, value = database_row(url)
        app = make_app(url)
        try:
            started = time.perf_counter()
            count = seed(app, args, rng)
            print(
                f"seeded {count:,} facts in {time.perf_counter() - started:.1f} s", file=sys.stderr
            )
            bot = MemoryAdapter(app)
            loop = asyncio.new_event_loop()
            try:
                run = loop.run_until_complete
                run(bot.say("admin", "!profile set locale=en"))
                year = "!followup report 2026-01-01..2026-12-31 by=month"
                circle = "!followup report 2026-01-01..2026-12-31 circle=1"
                run(measure(bot, year, 1))  # warm-up: imports, fonts, caches
                whole = run(measure(bot, year, args.calls))
                one = run(measure(bot, circle, args.calls))
            finally:
                loop.close()
        finally:
            app.database.dispose()
    size = f"{args.members:,} members, {args.circles} circles, {args.weeks} weeks, {count:,} facts"
    print(f"# bench/followup.py ({size}; {value})\n")
    print("| report | calls | p50 s | p99 s | max s | target | met |")
    print("|---|---:|---:|---:|---:|---|:-:|")
    targets = Targets("followup")
    for label, seconds, goal in (
        ("a year of the whole cooperative by month, with its chart", whole, TARGET_YEAR_P99_S),
        ("a year of one circle, with its chart", one, TARGET_CIRCLE_P99_S),
    ):
        p99 = percentile(seconds, 99)
        ok = p99 <= goal
        targets.add(f"`!followup report` {label} ({size})", f"{p99:.3f} s", f"≤ {goal:g} s", ok)
        print(
            f"| {label} | {len(seconds)} | {percentile(seconds, 50):.3f} | {p99:.3f} "
            f"| {max(seconds):.3f} | p99 ≤ {goal:g} s | {verdict(ok)} |"
        )
    targets.write(args.json)


if __name__ == "__main__":
    main()
