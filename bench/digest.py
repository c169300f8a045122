"""Benchmark: the weekly digest of every circle, sent in one run of the scheduler's job.

Seeds 300 circles (besides bot.toml's), each with 30 members, one animator and a weekly
breakfast that ten members go to (the whole series) and seven checked in at this morning's; half
the circles are linked to a room (one message each), the other half send their digest to each
member by direct message. A week of needs and offers (600, posted through the commands) falls
in bot.toml's sector and region circles. Then, at the digest's moment, it times one run of
`scheduler.digest.send_weekly_digests` (claims, the week's figures of every circle, rendering,
delivery to the in-memory platform, marking sent), and a second run, which must send nothing
(exactly once per week and circle).

    python bench/digest.py [--postgres URL] [--smoke]

Goal (issue 12): the digest of all 300 circles ≤ 30 s. `--smoke` seeds a few circles and fails
when a circle with something to say got no digest or the second run sends again; never on a
time.
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
from sqlmodel import col, func, select  # noqa: E402

from adapters.memory import MemoryAdapter  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_postgres,
    add_smoke,
    apply_smoke,
    database_row,
    scratch_database,
    seed_console_members,
    verdict,
)
from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import StorageSettings, load_settings  # noqa: E402
from scheduler.digest import send_weekly_digests  # noqa: E402
from storage import digests  # noqa: E402
from storage.circles import Circle, CircleMembership, CirclePlace  # noqa: E402
from storage.meetups import GOING, SERIES, Meetup, Rsvp  # noqa: E402

TARGET_S = 30.0
FIRST_BREAKFAST = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)  # a Monday, 08:30 in Brussels
DIGEST_MOMENT = datetime(2027, 1, 11, 8, 30, tzinfo=UTC)  # Monday 09:30 in Brussels
# this morning's breakfast (08:30-10:00 in Brussels): the one of the past week the digest
# tells (last Monday's began an hour before the week it looks back on)
HELD = datetime(2027, 1, 11, 7, 30, tzinfo=UTC)


def seed(app: App, args: argparse.Namespace) -> tuple[int, int]:
    """The circles, members, breakfasts and answers, in bulk; (circles, members)."""
    now = FIRST_BREAKFAST - timedelta(days=30)
    per = args.members_per_circle
    with app.database.session() as session:
        ids = seed_console_members(session, args.circles * per, now)
        session.exec(
            insert(Circle),
            params=[
                {
                    "key": f"bench-{c}",
                    "name": f"Bench circle {c}",
                    "kind": "theme",
                    "description": "",
                    "archived": False,
                    "members_schedule": False,
                    "created_at": now,
                }
                for c in range(args.circles)
            ],
        )
        circles = list(
            session.exec(
                select(Circle.id)
                .where(col(Circle.key).startswith("bench-"))
                .order_by(col(Circle.id))
            )
        )
        memberships, places, meetups = [], [], []
        for index, circle_id in enumerate(circles):
            members = ids[index * per : (index + 1) * per]
            for position, member_id in enumerate(members):
                memberships.append(
                    {
                        "circle_id": circle_id,
                        "member_id": member_id,
                        "role": "animator" if position == 0 else "member",
                        "announcements_by_dm": False,
                        "joined_at": now if position else DIGEST_MOMENT - timedelta(days=2),
                    }
                )
            if index % 2 == 0:
                places.append(
                    {
                        "circle_id": circle_id,
                        "platform": "console",
                        "place_id": f"room-{circle_id}",
                        "role_id": "",
                        "linked_at": now,
                    }
                )
            meetups.append(
                {
                    "circle_id": circle_id,
                    "title": f"Breakfast {circle_id}",
                    "format": "breakfast",
                    "description": "",
                    "online_link": "",
                    "local_start": FIRST_BREAKFAST.replace(hour=8, tzinfo=None),
                    "timezone": "Europe/Brussels",
                    "first_start": FIRST_BREAKFAST,
                    "duration_minutes": 90,
                    "rrule": "FREQ=WEEKLY",
                    "status": "active",
                    "created_at": now,
                }
            )
        session.exec(insert(CircleMembership), params=memberships)
        if places:
            session.exec(insert(CirclePlace), params=places)
        session.exec(insert(Meetup), params=meetups)
        meetup_of = {
            circle_id: meetup_id
            for circle_id, meetup_id in session.exec(
                select(Meetup.circle_id, Meetup.id).where(col(Meetup.circle_id).in_(circles))
            )
        }
        held = HELD.strftime("%Y-%m-%dT%H:%MZ")
        answers = []
        for index, circle_id in enumerate(circles):
            members = ids[index * per : (index + 1) * per]
            for position, member_id in enumerate(members[:10]):
                answers.append((meetup_of[circle_id], member_id, SERIES, False))
                if position < 7:
                    answers.append((meetup_of[circle_id], member_id, held, True))
        session.exec(
            insert(Rsvp),
            params=[
                {
                    "meetup_id": meetup_id,
                    "member_id": member_id,
                    "occurrence": occurrence,
                    "status": GOING,
                    "checked_in": checked_in,
                    "updated_at": now,
                }
                for meetup_id, member_id, occurrence, checked_in in answers
            ],
        )
    return len(circles), len(ids)


async def post_the_week(bot: MemoryAdapter, clock: FakeClock, args: argparse.Namespace) -> None:
    """Needs and offers of the past week, through the commands, in bot.toml's sectors."""
    rng = random.Random(args.seed)
    sectors = bot.app.settings.sector_levels.leaves()
    regions = bot.app.settings.region_levels.leaves()
    for number in range(args.posts):
        clock.set(DIGEST_MOMENT - timedelta(days=6, hours=-number * 120 / max(args.posts, 1)))
        kind = "need" if number % 3 else "offer"
        line = (
            f"!{kind} post Bench {kind} {number} sector={rng.choice(sectors)} "
            f"region={rng.choice(regions)}"
        )
        reply = await bot.say(f"m{number % 50}", line)
        if reply.is_error:
            raise SystemExit(f"{line!r} answered an error: {reply.plain()}")
    bot.replies.clear()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--circles", type=int, default=300)
    parser.add_argument("--members-per-circle", type=int, default=30)
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--seed", type=int, default=42)
    add_smoke(parser)
    add_postgres(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, circles=4, members_per_circle=12, posts=20)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with (
        tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp,
        scratch_database(args.postgres, Path(tmp)) as url,
    ):
        _, value = database_row(url)
        settings = load_settings(ROOT / "bot.toml")
        settings = settings.model_copy(update={"storage": StorageSettings(url=url)})
        clock = FakeClock()
        app = App(settings, clock=clock)
        app.prepare_database()
        loop = asyncio.new_event_loop()
        try:
            started = time.perf_counter()
            circles, members = seed(app, args)
            bot = MemoryAdapter(app)  # the console platform: the digests land in its memory
            loop.run_until_complete(post_the_week(bot, clock, args))
            print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            clock.set(DIGEST_MOMENT)
            before = time.perf_counter()
            sent = loop.run_until_complete(send_weekly_digests(app.services))
            seconds = time.perf_counter() - before
            again = loop.run_until_complete(send_weekly_digests(app.services))
            room_texts = [
                reply.plain() for place, replies in bot.places.items() for reply in replies
            ]
            with app.database.session() as session:
                all_circles = session.exec(
                    select(func.count()).select_from(Circle).where(col(Circle.archived).is_(False))
                ).one()
                settled = session.exec(select(func.count()).select_from(digests.DigestSent)).one()
        finally:
            loop.close()
            app.database.dispose()
    # each bench circle has a breakfast held and one coming: a room message, or one per member
    expected = (circles + 1) // 2 + (circles // 2) * args.members_per_circle
    # a bench circle's room (in bot.toml's language): this morning's breakfast, 10 registered
    # (the series), 7 present
    said = sum(1 for text in room_texts if "10 ingeschreven, 7 aanwezig" in text)
    if said < (circles + 1) // 2:
        raise SystemExit(f"{said} room digests tell last week's attendance, expected {circles}")
    if sent < expected or again or settled != all_circles:
        raise SystemExit(
            f"digest run sent {sent} (expected ≥ {expected}), then {again} (expected 0); "
            f"{settled} of {all_circles} circles settled"
        )
    size = (
        f"{circles} circles of {args.members_per_circle}, {members:,} members, {args.posts} posts"
    )
    print(f"# bench/digest.py ({size}; {value})\n")
    print("| run | messages | seconds | target | met |")
    print("|---|---:|---:|---|:-:|")
    ok = seconds <= TARGET_S
    print(
        f"| the week's digests of every circle | {sent} | {seconds:.2f} | ≤ {TARGET_S:g} s "
        f"| {verdict(ok)} |"
    )
    print(f"| the same week again | {again} | | 0 messages | {verdict(again == 0)} |")
    targets = Targets("digest")
    targets.add(
        f"weekly digest of all circles ({size})", f"{seconds:.2f} s", f"≤ {TARGET_S:g} s", ok
    )
    targets.write(args.json)


if __name__ == "__main__":
    main()
