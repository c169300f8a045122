"""Benchmark: the scheduler with 10,000 recurring meetups and 100,000 pending reminders.

Seeds a fresh SQLite file in a temporary directory with N members (console accounts),
M weekly meetups in Europe/Brussels with their RSVPs, and R pending reminders that are
exactly what ``scheduler.reminders.plan()`` would plan for those RSVPs (so the planning job
would change nothing), every meetup planned 8 days ahead. Then it adds a burst: B reminders
due at the same second, a few seconds after a fresh process is launched, for B distinct
members. That fresh process (this script with ``--child``) builds the app, prepares the
database and starts the scheduler with an in-memory notifier, as ``App.run`` does, and
reports, beside the targets of the issue:

    start-up ≤ 3 s, resident memory ≤ 200 MB, burst fire lag p99 ≤ 2 s;

and how long ``plan_due_meetups`` takes when every meetup needs planning (the hourly job,
which runs on the same event loop).

Run from the repository root:

    .venv/bin/python bench/scheduler.py [--meetups 10000] [--reminders 100000]
                                        [--burst 1000] [--members 20000]
                                        [--burst-delay 6] [--contend]
                                        [--profile startup|burst|plan]

``--contend`` marks every meetup as needing planning and runs the hourly planning job 50 ms
before the burst, so the burst waits for one batch of plan_due_meetups (the worst case).

This is a benchmark, not a test: it never fails a build, it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib
import io
import json
import logging
import math
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
# This file is named like the ``scheduler`` package: the repository root must come before
# bench/ (the script's directory, put first by Python), even when PYTHONPATH names the root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]
sys.path.insert(0, str(ROOT))

from bench.kit import (  # noqa: E402
    Targets,
    add_smoke,
    apply_smoke,
    machine_info,
    percentile,
    short_path,
    verdict,
)

# Project modules are imported inside the functions: the child process times its imports.
if TYPE_CHECKING:
    from bot.app import App

TARGET_STARTUP_S = 3.0
TARGET_RSS_MB = 200.0
TARGET_LAG_P99_S = 2.0

ZONE = "Europe/Brussels"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# a meetup's own reminder offsets ("" = bot.toml's default_reminders)
MEETUP_REMINDERS = ("", "", "", "", "", "2h", "1d,2h", "3d,1h")
BURST_OFFSET_MINUTES = 60
BURST_PER_MEETUP = 10


# -- helpers shared by both processes ----------------------------------------------------------


def memory_mb() -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of this process, in MB."""
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def hotspots(profiler: cProfile.Profile, title: str, total: float, top: int = 25) -> str:
    """The functions with the largest cumulative and own time, as Markdown tables."""
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, func), (_cc, calls, own, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((cum, own, calls, f"{func} ({short_path(file)}:{line})"))
    out = io.StringIO()
    out.write(f"\n### cProfile: {title} (top {top} by cumulative time)\n\n")
    out.write(
        "| cumulative share | cum s | own s | calls | function |\n|---:|---:|---:|---:|---|\n"
    )
    rows.sort(reverse=True)
    for cum, own, calls, where in rows[:top]:
        out.write(f"| {cum / total:6.1%} | {cum:.3f} | {own:.3f} | {calls} | `{where}` |\n")
    out.write(f"\n### cProfile: {title} (top 15 by own time)\n\n")
    out.write("| own share | own s | calls | function |\n|---:|---:|---:|---|\n")
    rows.sort(key=lambda r: r[1], reverse=True)
    for _cum, own, calls, where in rows[:15]:
        out.write(f"| {own / total:6.1%} | {own:.3f} | {calls} | `{where}` |\n")
    return out.getvalue()


def make_app(db_path: Path) -> App:
    """The app of bot.toml on ``db_path``, with its default (system) clock."""
    from bot.app import App
    from bot.config import StorageSettings, load_settings

    settings = load_settings(ROOT / "bot.toml")
    settings = settings.model_copy(
        update={"storage": StorageSettings(url=f"sqlite:///{db_path}", echo_sql=False)}
    )
    return App(settings)


# -- seeding (parent process) ------------------------------------------------------------------


@dataclass
class Seeded:
    members: int = 0
    meetups: int = 0
    rsvps: int = 0
    going: int = 0
    reminders: int = 0
    biweekly: int = 0
    occurrences: int = 0
    seconds: float = 0.0
    burst_ids: list[int] = field(default_factory=list)
    burst_meetups: int = 0


@dataclass
class MeetupPlan:
    """A seeded meetup and the (occurrence, offset) slots plan() gives each member going."""

    row: dict[str, Any]
    slots: list[tuple[str, datetime, int, datetime]]  # key, start, offset, due
    going: set[int] = field(default_factory=set)


def _insert(app: App, model: Any, rows: list[dict[str, Any]], batch: int = 10_000) -> None:
    from sqlalchemy import insert

    with app.database.engine.begin() as connection:
        for start in range(0, len(rows), batch):
            connection.execute(insert(model), rows[start : start + batch])


def seed(app: App, args: argparse.Namespace, rng: random.Random, seeded: Seeded) -> None:
    """Members, weekly meetups, RSVPs and the pending reminders plan() would make of them."""
    from zoneinfo import ZoneInfo

    from bot.text import fold
    from scheduler.occurrences import occurrences
    from scheduler.reminders import PLAN_HORIZON, parse_offsets
    from storage.circles import Circle
    from storage.identity import Account, Member
    from storage.meetups import GOING, MAYBE, NO, SERIES, Meetup, Reminder, Rsvp, Venue

    settings = app.settings
    zone = ZoneInfo(ZONE)
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    planned_until = now + PLAN_HORIZON
    default_offsets = parse_offsets(settings.default_reminders)

    members = []
    accounts = []
    for n in range(1, args.members + 1):
        name = f"Member {n}"
        members.append(
            {
                "id": n,
                "display_name": name,
                "name_folded": fold(name),
                "locale": rng.choice(("nl", "nl", "fr", "fr", "en", None)),
                "created_at": now - timedelta(days=rng.uniform(0, 3 * 365)),
            }
        )
        accounts.append(
            {
                "member_id": n,
                "platform": "console",
                "platform_user_id": f"m{n}",
                "handle": f"m{n}",
                "last_seen_at": now - timedelta(minutes=rng.uniform(10, 30 * 24 * 60)),
            }
        )
    _insert(app, Member, members)
    _insert(app, Account, accounts)
    seeded.members = args.members

    with app.database.session() as session:
        from sqlmodel import select

        circle_ids = [i for i in session.exec(select(Circle.id)) if i is not None]
        venue_ids = [i for i in session.exec(select(Venue.id)) if i is not None]
    formats = [f.key for f in settings.formats] or ["meetup"]

    plans: list[MeetupPlan] = []
    for n in range(1, args.meetups + 1):
        weekday = rng.randrange(7)
        every = 2 if rng.random() < 0.15 else 1
        seeded.biweekly += every == 2
        # a series that began 1 to 52 weeks ago, on its weekday, at a wall-clock time
        first_day = today - timedelta(weeks=rng.randint(1, 52))
        first_day += timedelta(days=(weekday - first_day.weekday()) % 7)
        local_start = datetime.combine(
            first_day, wall_time(rng.randint(7, 21), rng.choice((0, 15, 30, 45)))
        )
        first_start = local_start.replace(tzinfo=zone).astimezone(UTC)
        rrule = f"FREQ=WEEKLY;BYDAY={WEEKDAYS[weekday]}" + (";INTERVAL=2" if every == 2 else "")
        format_key = rng.choice(formats)
        row: dict[str, Any] = {
            "id": n,
            "circle_id": rng.choice(circle_ids) if circle_ids and rng.random() < 0.7 else None,
            "title": f"{format_key} #{n}",
            "format": format_key,
            "venue_id": rng.choice(venue_ids) if venue_ids and rng.random() < 0.8 else None,
            "local_start": local_start,
            "timezone": ZONE,
            "first_start": first_start,
            "duration_minutes": rng.choice((60, 90, 120, 180)),
            "rrule": rrule,
            "planned_until": planned_until,
            "reminders": rng.choice(MEETUP_REMINDERS),
            "status": "active",
            "created_by": rng.randint(1, args.members),
            "created_at": first_start - timedelta(days=rng.randint(1, 30)),
        }
        meetup = Meetup(**row)
        offsets = parse_offsets(row["reminders"]) if row["reminders"] else default_offsets
        slots = []
        for occurrence in occurrences(meetup, [], now, now + PLAN_HORIZON):
            seeded.occurrences += 1
            for offset in offsets:
                due = occurrence.start - timedelta(minutes=offset)
                if due > now:
                    slots.append((occurrence.key, occurrence.start, offset, due))
        plans.append(MeetupPlan(row, slots))
    seeded.meetups = len(plans)

    # Members going, until their reminders add up to exactly --reminders (some meetups are
    # much more popular than others); each member going gets one row per slot of the meetup.
    eligible = [p for p in plans if p.slots]
    weights = [rng.paretovariate(1.2) for _ in eligible]
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    remaining = args.reminders
    misses = 0
    while remaining > 0 and eligible and misses < 100_000:
        chosen = rng.choices(eligible, cum_weights=cumulative)[0]
        if len(chosen.slots) > remaining:
            fitting = [p for p in eligible if len(p.slots) <= remaining]
            if not fitting:
                break
            chosen = rng.choice(fitting)
        member_id = rng.randint(1, args.members)
        if member_id in chosen.going:
            misses += 1
            continue
        chosen.going.add(member_id)
        remaining -= len(chosen.slots)

    meetup_rows = [p.row for p in plans]
    rsvp_rows: list[dict[str, Any]] = []
    reminder_rows: list[dict[str, Any]] = []
    for p in plans:
        meetup_id = p.row["id"]
        for member_id in sorted(p.going):
            rsvp_rows.append(
                {
                    "meetup_id": meetup_id,
                    "member_id": member_id,
                    "occurrence": SERIES,
                    "status": GOING,
                    "checked_in": False,
                    "updated_at": now - timedelta(days=rng.uniform(0, 30)),
                }
            )
            for key, start, offset, due in p.slots:
                reminder_rows.append(
                    {
                        "meetup_id": meetup_id,
                        "occurrence": key,
                        "starts_at": start,
                        "member_id": member_id,
                        "offset_minutes": offset,
                        "due_at": due,
                        "state": "pending",
                    }
                )
        # some answers that plan() ignores: "no", and "maybe" (members are not reminded of
        # maybes unless they asked to be)
        for _ in range(rng.randint(0, 2)):
            member_id = rng.randint(1, args.members)
            if member_id not in p.going:
                p.going.add(member_id)
                rsvp_rows.append(
                    {
                        "meetup_id": meetup_id,
                        "member_id": member_id,
                        "occurrence": SERIES,
                        "status": rng.choice((MAYBE, NO)),
                        "checked_in": False,
                        "updated_at": now - timedelta(days=rng.uniform(0, 30)),
                    }
                )
    _insert(app, Meetup, meetup_rows)
    _insert(app, Rsvp, rsvp_rows)
    _insert(app, Reminder, reminder_rows)
    seeded.rsvps = len(rsvp_rows)
    seeded.going = sum(1 for r in rsvp_rows if r["status"] == GOING)
    seeded.reminders = len(reminder_rows)
    with app.database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def seed_burst(
    app: App, args: argparse.Namespace, rng: random.Random, due: datetime, seeded: Seeded
) -> None:
    """One-off meetups (no circle, so no grouping) starting an hour after ``due``, each with
    members going and a 1-hour reminder: ``--burst`` reminders due at the same second, for
    distinct members, planned by plan() itself."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from scheduler.reminders import plan
    from storage.meetups import GOING, Meetup, Reminder, Rsvp

    zone = app.settings.zone
    now = datetime.now(UTC)
    start = due + timedelta(minutes=BURST_OFFSET_MINUTES)
    people = rng.sample(range(1, args.members + 1), args.burst)
    count = math.ceil(args.burst / BURST_PER_MEETUP)
    with app.database.session() as session:
        first_id = (session.exec(select(func.max(Meetup.id))).one() or 0) + 1
        meetups = []
        for n in range(count):
            meetup = Meetup(
                id=first_id + n,
                title=f"Burst {n + 1}",
                format="afterwork",
                local_start=start.astimezone(zone).replace(tzinfo=None),
                timezone=zone.key,
                first_start=start,
                duration_minutes=90,
                reminders=f"{BURST_OFFSET_MINUTES}m",
                created_at=now,
            )
            session.add(meetup)
            meetups.append(meetup)
        session.flush()
        for n, member_id in enumerate(people):
            meetup_id = meetups[n % count].id
            assert meetup_id is not None
            session.add(
                Rsvp(meetup_id=meetup_id, member_id=member_id, status=GOING, updated_at=now)
            )
        session.flush()
        for meetup in meetups:
            plan(session, meetup, now, app.settings.default_reminders)
        session.flush()
        ids = [m.id for m in meetups]
        seeded.burst_ids = [
            i
            for i in session.exec(
                select(Reminder.id).where(col(Reminder.meetup_id).in_(ids), Reminder.due_at == due)
            )
            if i is not None
        ]
    seeded.burst_meetups = count
    if len(seeded.burst_ids) != args.burst:
        raise SystemExit(f"burst: planned {len(seeded.burst_ids)} reminders, not {args.burst}")


# -- the measured process (child) --------------------------------------------------------------


def child_main(config_path: str) -> None:
    script_at = time.time()
    config = json.loads(Path(config_path).read_text())
    logging.basicConfig(level=logging.WARNING)
    profiler = cProfile.Profile() if config["profile"] == "startup" else None
    if profiler:
        profiler.enable()
    marks: dict[str, float] = {"launch": config["launch"], "script": script_at}
    rss: dict[str, dict[str, float]] = {"script": memory_mb()}
    # the imports App.run's process needs (the CLI adds a little of its own)
    for module in ("bot.app", "bot.config", "adapters.memory"):
        importlib.import_module(module)

    marks["imports"] = time.time()
    result = asyncio.run(serve(config, marks, rss, profiler))
    result["rss"] = rss
    result["marks"] = marks
    Path(config["result"]).write_text(json.dumps(result))


async def serve(
    config: dict[str, Any],
    marks: dict[str, float],
    rss: dict[str, dict[str, float]],
    profiler: cProfile.Profile | None,
) -> dict[str, Any]:
    from adapters.memory import MemoryAdapter
    from bot.clock import SystemClock
    from bot.reply import Reply
    from scheduler.reminders import WAKE_JOB
    from scheduler.service import Periodic

    received: dict[str, float] = {}
    keys = {f"reminder:{i}" for i in config["burst_ids"]}
    burst_left = set(keys)
    burst_done = asyncio.Event()

    class RecordingAdapter(MemoryAdapter):
        """The in-memory notifier, noting when each notification arrives."""

        async def send_direct(
            self, platform_user_id: str, reply: Reply, key: str | None = None
        ) -> bool:
            if key is not None:
                received.setdefault(key, time.time())
                burst_left.discard(key)
                if not burst_left:
                    burst_done.set()
            return await super().send_direct(platform_user_id, reply, key)

    app = make_app(Path(config["db"]))
    marks["app"] = time.time()
    app.prepare_database()
    marks["prepare"] = time.time()
    bot = RecordingAdapter(app)
    assert isinstance(app.clock, SystemClock)

    # note when each periodic job's first run ends (they all run once right after start)
    job_runs: dict[str, tuple[float, float]] = {}
    later_runs: list[tuple[str, float, float]] = []
    jobs_done = asyncio.Event()
    run_job = app.scheduler._run

    async def timed(periodic: Periodic) -> None:
        began = time.time()
        await run_job(periodic)
        if periodic.name in job_runs:
            later_runs.append((periodic.name, began, time.time()))
        job_runs.setdefault(periodic.name, (began, time.time()))
        if len(job_runs) == len(app.scheduler.jobs):
            jobs_done.set()

    app.scheduler._run = timed  # type: ignore[method-assign]
    app.scheduler.start()
    scheduler = app.scheduler.scheduler
    assert scheduler is not None
    assert scheduler.running
    wake = scheduler.get_job(WAKE_JOB)
    marks["started"] = time.time()
    if profiler:
        profiler.disable()
    rss["started"] = memory_mb()
    if wake is None:
        raise SystemExit("no reminder wake-up was scheduled at start-up")
    wake_at = wake.next_run_time.timestamp()

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(jobs_done.wait(), 60)
    marks["jobs_done"] = max((end for _b, end in job_runs.values()), default=float("nan"))
    rss["jobs_done"] = memory_mb()

    # the burst
    due = float(config["burst_due"])
    if config["contend"]:
        # worst case: the hourly planning job, with every meetup to plan, starts just before
        contend(app, due - 0.05)
    burst_profiler = cProfile.Profile() if config["profile"] == "burst" else None
    if burst_profiler:  # from just before the due second, to leave out the idle wait
        asyncio.get_running_loop().call_later(
            max(0.0, due - 0.02 - time.time()), burst_profiler.enable
        )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(burst_done.wait(), due + config["timeout"] - time.time())
    finished = time.time()
    if burst_profiler:
        burst_profiler.disable()
    rss["burst"] = memory_mb()
    lags = [received[k] - due for k in keys if k in received]
    others = [k for k in received if k not in keys]
    from sqlmodel import col, func, select

    from storage.meetups import Reminder

    def count_marked() -> int:
        with app.database.session() as session:
            return int(
                session.exec(
                    select(func.count())
                    .select_from(Reminder)
                    .where(col(Reminder.id).in_(config["burst_ids"]), Reminder.state == "sent")
                ).one()
            )

    # the rows are marked sent in a worker thread once the batch's last one was delivered
    for _ in range(100):
        marked_sent = await asyncio.to_thread(count_marked)
        if marked_sent >= len(config["burst_ids"]):
            break
        await asyncio.sleep(0.05)
    burst_profile = (
        hotspots(burst_profiler, "burst of reminders", max(lags) if lags else 1.0)
        if burst_profiler
        else ""
    )

    # the hourly planning job when every meetup needs planning, rows there (steady) or not
    plan_profiler = cProfile.Profile() if config["profile"] == "plan" else None
    steady = plan_everything(app, clear=False, profiler=plan_profiler)
    rss["plan_steady"] = memory_mb()
    cold = plan_everything(app, clear=True, profiler=plan_profiler)
    rss["plan_cold"] = memory_mb()
    plan_profile = (
        hotspots(plan_profiler, "plan_due_meetups", steady["total"] + cold["total"])
        if plan_profiler
        else ""
    )

    app.scheduler.shutdown()
    app.database.dispose()
    startup_profile = (
        hotspots(profiler, "start-up", marks["started"] - marks["script"]) if profiler else ""
    )
    return {
        "wake_at": wake_at,
        "job_runs": job_runs,
        "later_runs": later_runs,
        "lags": lags,
        "expected": len(keys),
        "delivered": len(lags),
        "marked_sent": marked_sent,
        "others": len(others),
        "first": min((received[k] for k in keys if k in received), default=float("nan")),
        "last": max((received[k] for k in keys if k in received), default=float("nan")),
        "waited_until": finished,
        "inbox": sum(len(v) for v in bot.inbox.values()),
        "steady": steady,
        "cold": cold,
        "profile": startup_profile + burst_profile + plan_profile,
    }


def contend(app: App, at: float) -> None:
    """Every meetup needs planning, and the planning job runs at ``at`` (epoch seconds)."""
    from sqlalchemy import update

    from storage.meetups import Meetup

    with app.database.session() as session:
        session.exec(update(Meetup).values(planned_until=None))
    scheduler = app.scheduler.scheduler
    assert scheduler is not None
    scheduler.modify_job("reminder-planning", next_run_time=datetime.fromtimestamp(at, UTC))


def plan_everything(app: App, *, clear: bool, profiler: cProfile.Profile | None) -> dict[str, Any]:
    """Mark every meetup as needing planning (and, if ``clear``, drop the pending reminders
    first) and plan them in batches of 200, as the hourly job (plan_due_meetups) does, until
    none is left; each batch is timed (the event loop is blocked for that long)."""
    from sqlalchemy import delete, func, update
    from sqlmodel import col, select

    from scheduler.reminders import plan_batch
    from storage.meetups import Meetup, Reminder

    with app.database.session() as session:
        if clear:
            session.exec(delete(Reminder).where(col(Reminder.state) == "pending"))
        session.exec(update(Meetup).values(planned_until=None))
    unplanned = select(func.count()).select_from(Meetup).where(col(Meetup.planned_until).is_(None))
    with app.database.session() as session:
        needing = session.exec(unplanned).one()
    calls: list[float] = []
    added = 0
    while True:
        with app.database.session() as session:
            if not session.exec(unplanned).one():
                break
        if profiler:
            profiler.enable()
        began = time.perf_counter()
        added += plan_batch(app.services)[1]
        calls.append(time.perf_counter() - began)
        if profiler:
            profiler.disable()
    with app.database.session() as session:
        pending = session.exec(
            select(func.count()).select_from(Reminder).where(Reminder.state == "pending")
        ).one()
    return {
        "meetups": needing,
        "calls": calls,
        "total": sum(calls),
        "added": added,
        "pending": pending,
    }


# -- reporting (parent process) ----------------------------------------------------------------


def report(args: argparse.Namespace, seeded: Seeded, result: dict[str, Any]) -> list[str]:
    """Print the figures; return what went wrong (nothing when every reminder arrived)."""
    marks = result["marks"]
    rss = result["rss"]
    launch = marks["launch"]
    startup = marks["started"] - launch
    lags = result["lags"]
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    worst_rss = max(v["VmHWM"] for v in (rss["started"], rss["jobs_done"], rss["burst"]))
    complete = result["delivered"] == result["expected"]
    due = args.burst_due

    print("\n## Samen scheduler benchmark\n")
    print("| machine | |")
    print("|---|---|")
    import apscheduler
    import sqlalchemy

    extra = (
        ("SQLAlchemy", sqlalchemy.__version__),
        ("APScheduler", getattr(apscheduler, "__version__", "?")),
    )
    for key, value in machine_info(*extra):
        print(f"| {key} | {value} |")
    print(
        f"| setup | {seeded.members:,} members (console accounts); {seeded.meetups:,} recurring "
        f"meetups in {ZONE} ({seeded.meetups - seeded.biweekly:,} weekly, "
        f"{seeded.biweekly:,} every 2 weeks, on every weekday 07:00-21:45, started 1-52 weeks "
        f"ago), {seeded.occurrences:,} occurrences in the next 8 days; {seeded.rsvps:,} series "
        f"RSVPs ({seeded.going:,} going); {seeded.reminders:,} pending reminders exactly as "
        f"plan() makes them, all meetups planned 8 days ahead; burst: {len(seeded.burst_ids):,} "
        f"reminders due at the same second for distinct members, in {seeded.burst_meetups} "
        f"one-off meetups; SQLite (WAL) in a temp dir, ANALYZE; MemoryAdapter as notifier"
        + (
            "; **--contend**: every meetup marked as needing planning and the planning job "
            "run 50 ms before the burst"
            if args.contend
            else ""
        )
        + " |"
    )
    print(f"| seeding | {seeded.seconds:.1f} s (bulk Core inserts, in the parent process) |")
    print(
        f"| burst due | {due - launch:.2f} s after the process was launched, "
        f"{due - marks['started']:.2f} s after the scheduler was running "
        f"(wake job set for {result['wake_at'] - due:+.3f} s from due) |"
    )
    print()
    print("| measure | figure | target | met |")
    print("|---|---:|---|:-:|")
    print(
        f"| **start-up**: process launch → scheduler running, reminder wake scheduled "
        f"| **{startup:.2f} s** | ≤ {TARGET_STARTUP_S:g} s "
        f"| {verdict(startup <= TARGET_STARTUP_S)} |"
    )
    for label, start, end in (
        ("interpreter start (launch → first line of the script)", "launch", "script"),
        ("imports (bot.app, adapters.memory, bot.config)", "script", "imports"),
        ("`App(settings)` (settings, engine, catalogues, registry)", "imports", "app"),
        ("`prepare_database()` (schema check, seed circles/venues)", "app", "prepare"),
        ("`scheduler.start()` (+ adapter; recover, next due, wake job)", "prepare", "started"),
    ):
        print(f"| ↳ {label} | {marks[end] - marks[start]:.3f} s | | |")
    jobs = result["job_runs"]
    print(
        f"| first runs of the {len(jobs)} periodic jobs, ended after start "
        f"| {marks['jobs_done'] - marks['started']:.3f} s | | |"
    )
    for name, (began, ended) in sorted(jobs.items(), key=lambda kv: kv[1][0]):
        print(f"| ↳ `{name}` | {ended - began:.3f} s | | |")
    print(
        f"| **RSS** after start-up (VmRSS) | **{rss['started']['VmRSS']:.0f} MB** "
        f"| ≤ {TARGET_RSS_MB:g} MB | {verdict(rss['started']['VmRSS'] <= TARGET_RSS_MB)} |"
    )
    print(
        f"| ↳ RSS at the script's first line (interpreter only) "
        f"| {rss['script']['VmRSS']:.0f} MB | | |"
    )
    print(f"| ↳ RSS after the first periodic runs | {rss['jobs_done']['VmRSS']:.0f} MB | | |")
    print(
        f"| **RSS** after the burst (VmRSS / peak VmHWM) "
        f"| **{rss['burst']['VmRSS']:.0f} / {worst_rss:.0f} MB** | ≤ {TARGET_RSS_MB:g} MB "
        f"| {verdict(worst_rss <= TARGET_RSS_MB)} |"
    )
    print(f"| **fire lag p50** (received by the notifier − due_at) | **{p50:.3f} s** | | |")
    print(
        f"| **fire lag p99** | **{p99:.3f} s** | ≤ {TARGET_LAG_P99_S:g} s "
        f"| {verdict(complete and p99 <= TARGET_LAG_P99_S)} |"
    )
    print(f"| fire lag max | {max(lags, default=float('nan')):.3f} s | | |")
    print(f"| first of the burst received after due | {result['first'] - due:.3f} s | | |")
    print(
        f"| all {result['expected']:,} delivered after due (last − due) "
        f"| {result['last'] - due:.3f} s | | |"
    )
    print(
        f"| delivered / marked sent / expected | {result['delivered']:,} / "
        f"{result['marked_sent']:,} / {result['expected']:,} | all | {verdict(complete)} |"
    )
    print(f"| other reminders delivered meanwhile | {result['others']:,} | | |")
    for name, began, ended in result["later_runs"]:
        print(
            f"| a later run of `{name}`, started {began - due:+.3f} s from due, lasted "
            f"| {ended - began:.3f} s | | |"
        )
    for label, phase in (
        ("rows already planned (steady)", result["steady"]),
        ("no pending rows (cold, inserts them all)", result["cold"]),
    ):
        calls = phase["calls"]
        print(
            f"| `plan_due_meetups` for all {phase['meetups']:,} meetups, {label} "
            f"| {phase['total']:.2f} s in {len(calls)} calls of ≤ 200 "
            f"(per call p50 {percentile(calls, 50):.3f} s, max {max(calls, default=0):.3f} s); "
            f"{phase['added']:,} rows added, {phase['pending']:,} pending after | | |"
        )
    print(
        f"| RSS after planning (steady / cold; peak VmHWM) | {rss['plan_steady']['VmRSS']:.0f}"
        f" / {rss['plan_cold']['VmRSS']:.0f} MB; {rss['plan_cold']['VmHWM']:.0f} MB | | |"
    )
    if result["profile"]:
        print(result["profile"])
        print(
            "\n(cProfile adds overhead: the figures above were measured *with* the profiler on "
            "for that phase; run without --profile for the real numbers.)"
        )
    size = f"{seeded.meetups:,} meetups, {seeded.reminders:,} reminders"
    targets = Targets("scheduler")
    targets.add(
        f"scheduler start-up ({size})",
        f"{startup:.2f} s",
        f"≤ {TARGET_STARTUP_S:g} s",
        startup <= TARGET_STARTUP_S,
    )
    targets.add(
        f"scheduler peak memory ({size})",
        f"{worst_rss:.0f} MB",
        f"≤ {TARGET_RSS_MB:g} MB",
        worst_rss <= TARGET_RSS_MB,
    )
    targets.add(
        f"reminder fire lag p99 (burst of {len(seeded.burst_ids):,})",
        f"{p99:.3f} s",
        f"≤ {TARGET_LAG_P99_S:g} s",
        complete and p99 <= TARGET_LAG_P99_S,
    )
    targets.write(args.json)
    problems = []
    if not complete:
        problems.append(f"{result['delivered']} of {result['expected']} burst reminders delivered")
    if result["marked_sent"] != result["expected"]:
        problems.append(f"{result['marked_sent']} of {result['expected']} marked sent")
    if not result["cold"]["added"]:
        problems.append("cold planning added no occurrence rows")
    return problems


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--meetups", type=int, default=10_000, help="recurring meetups")
    parser.add_argument("--reminders", type=int, default=100_000, help="pending reminders")
    parser.add_argument("--burst", type=int, default=1_000, help="reminders due at one second")
    parser.add_argument("--members", type=int, default=20_000, help="members to seed")
    parser.add_argument(
        "--burst-delay",
        type=float,
        default=6.0,
        help="seconds from launching the process to the burst (default 6)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for it")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument(
        "--profile",
        choices=("startup", "burst", "plan"),
        help="run that phase of the measured process under cProfile and print the hotspots",
    )
    parser.add_argument(
        "--contend",
        action="store_true",
        help="mark every meetup as needing planning and run the hourly planning job 50 ms "
        "before the burst (the worst case for the burst's lag)",
    )
    parser.add_argument("--child", metavar="CONFIG", help=argparse.SUPPRESS)
    add_smoke(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, meetups=40, reminders=400, burst=20, members=100, burst_delay=5.0)
    if args.child is None and (
        min(args.meetups, args.reminders, args.burst, args.members) < 1 or args.burst > args.members
    ):
        parser.error("every count must be at least 1, and --burst at most --members")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    seeded = Seeded()
    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        db_path = Path(tmp) / "bench.db"
        app = make_app(db_path)
        try:
            app.prepare_database()
            began = time.perf_counter()
            seed(app, args, rng, seeded)
            seeded.seconds = time.perf_counter() - began
            print(
                f"seeded {seeded.meetups:,} meetups, {seeded.reminders:,} reminders in "
                f"{seeded.seconds:.1f} s",
                file=sys.stderr,
            )
            args.burst_due = float(math.ceil(time.time() + args.burst_delay))
            seed_burst(app, args, rng, datetime.fromtimestamp(args.burst_due, UTC), seeded)
        finally:
            app.database.dispose()  # checkpoints the WAL: the child opens a quiet file
        config = {
            "db": str(db_path),
            "result": str(Path(tmp) / "result.json"),
            "burst_due": args.burst_due,
            "burst_ids": seeded.burst_ids,
            "timeout": args.timeout,
            "profile": args.profile,
            "contend": args.contend,
        }
        config_path = Path(tmp) / "config.json"
        config["launch"] = time.time()
        config_path.write_text(json.dumps(config))
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(config_path)],
            cwd=ROOT,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"the measured process failed ({completed.returncode})")
        result = json.loads(Path(config["result"]).read_text())
    problems = report(args, seeded, result)
    if problems:
        raise SystemExit("failed: " + "; ".join(problems))


if __name__ == "__main__":
    main()
