"""Benchmark: one, two and three ``samen run`` instances on one PostgreSQL (issue 11).

For each number of instances, on a new database: N reminders due over a short window (spread
over M meetups, each meetup's reminders due at the same second), K worker processes (each the
real app and scheduler, with a file as the platform, this script with ``--child``), and, with
two or more, a SIGKILL of the leader (the instance running the periodic jobs) in the middle of
the window, while it holds reminders it has started to send. Then, on another new database, a
meetup of P places (made through commands, as an animator would) and MEMBERS members who all
answer "going" at the same moment, their commands split across K new worker processes (each
answers its share through the whole core, 16 at a time, as many connections would:
bench/command_file.py). Reported per K:

    reminder lag p50 and p99 (accepted by the platform minus due), doubled (a reminder tried
    twice by live instances), lost (never accepted), takeover (SIGKILL until the last of the
    killed instance's held reminders is accepted, and until another instance leads);
    RSVPs going and waiting (the rows), overbooked (members going beyond the capacity, plus
    members with two RSVP rows), RSVP answer p50 and p99 (the moment they all answered until
    each member's answer);

goals: 0 doubled, 0 lost, 0 overbooked, lag p99 ≤ 2 s, takeover ≤ 30 s. The lag p99 is over
the reminders the killed instance did not hold (those wait for its lease to run out: that is
the takeover). A reminder the killed instance had tried is tried again with the same
idempotency key (the platform drops the repeat): counted as "resent", not doubled.

The platform (a file sink shared by the processes under a lock) accepts each idempotency key
once, and each send takes ``--pause`` seconds, as a platform's round trip does.

    .venv/bin/python bench/instances.py --postgres postgresql://postgres@127.0.0.1:5432/test
        [--reminders 3000] [--window 30] [--meetups 60] [--lease 20] [--pause 0.005]
        [--members 200] [--places 50] [--instances 1 2 3]

``--members 0`` leaves the RSVPs out. Without --postgres, SAMEN_TEST_POSTGRES_URL names the
server; with neither, it says so and skips (exit 0). It exits non-zero on a consistency
failure (lost, doubled, a reminder not sent, an overbooked place, a member without an answer
or with a wrong one), never on a time. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.command_file import THREADS, read_replies, suffixed, write_commands  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_postgres,
    add_smoke,
    apply_smoke,
    database_row,
    machine_info,
    percentile,
    scratch_database,
    seed_console_members,
    verdict,
)

POSTGRES_ENV = "SAMEN_TEST_POSTGRES_URL"
TARGET_LAG_P99_S = 2.0
TARGET_TAKEOVER_S = 30.0
START_MARGIN_S = 3.0  # from launching the workers to the first due reminder, plus 1 s each


# -- the worker process --------------------------------------------------------------------------


class SharedSink:
    """A platform with idempotent sends, shared by the worker processes: under a file lock, a
    key not accepted yet is appended to ``accepted`` (``key pid time``); every attempt goes to
    ``attempts`` (``key pid time``)."""

    platform = "console"

    def __init__(self, folder: Path, pause: float):
        self.accepted_path = folder / "accepted"
        self.attempts_path = folder / "attempts"
        self.lock_path = folder / "sink.lock"
        self.pause = pause
        self.accepted: set[str] = set()
        self.read_up_to = 0
        self.pid = os.getpid()

    def _record(self, key: str) -> None:
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            now = time.time()
            with self.attempts_path.open("a") as attempts:
                attempts.write(f"{key} {self.pid} {now:.6f}\n")
            with self.accepted_path.open("a+") as accepted:
                accepted.seek(self.read_up_to)
                for line in accepted.read().splitlines():
                    self.accepted.add(line.split()[0])
                if key not in self.accepted:
                    self.accepted.add(key)
                    accepted.write(f"{key} {self.pid} {now:.6f}\n")
                accepted.flush()
                self.read_up_to = accepted.tell()

    async def send_direct(self, user: str, reply: Any, key: str | None = None) -> bool:
        assert key is not None
        if self.pause:
            await asyncio.sleep(self.pause)
        self._record(key)
        return True

    async def send_to_place(self, place: str, reply: Any, key: str | None = None) -> bool:
        return await self.send_direct(place, reply, key)

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        return False


async def child(
    url: str, folder: Path, lease: int, pause: float, commands: Path | None = None
) -> None:
    """One instance: the app and its scheduler, as ``samen run`` starts them; appends
    ``leads <pid> <time>`` to ``events`` when it starts leading the periodic jobs. With
    ``commands``, also a way in for members: it answers that file's lines once its go mark
    exists (bench/command_file.py)."""
    from adapters.memory import MemoryAdapter
    from bench.command_file import serve_commands
    from bot.app import App
    from bot.config import load_settings

    settings = load_settings(ROOT / "bot.toml")
    settings = settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"url": url}),
            "reminder_lease_seconds": lease,
        }
    )
    app = App(settings)
    serving = None
    if commands is not None:
        bot = MemoryAdapter(app)  # the way in; it registers as the console platform, so:
        serving = asyncio.create_task(asyncio.to_thread(serve_commands, bot, commands))
    app.notifier.register(SharedSink(folder, pause))  # the platform reminders go to
    app.scheduler.start()
    print("ready", flush=True)
    leading = False
    try:
        while True:
            if app.scheduler.leadership.leading and not leading:
                with (folder / "events").open("a") as events:
                    events.write(f"leads {os.getpid()} {time.time():.6f}\n")
            leading = app.scheduler.leadership.leading
            await asyncio.sleep(0.02)
    finally:
        if serving is not None:
            serving.cancel()
        app.scheduler.shutdown()


# -- seeding and running -------------------------------------------------------------------------


def seed(url: str, count: int, meetups: int, first_due: datetime, window: float) -> None:
    """``count`` members with one reminder each, for ``meetups`` meetups whose reminders fall
    due one meetup after the other over ``window`` seconds from ``first_due`` (the meetups are
    planned far ahead: the planning job leaves the rows alone)."""
    from sqlalchemy import insert

    from storage.db import Database
    from storage.meetups import PENDING, Meetup, Reminder, occurrence_key

    database = Database(url)
    now = datetime.now(UTC)
    with database.session() as session:
        members = seed_console_members(session, count, now)
        rows = []
        for group in range(meetups):
            due = first_due + timedelta(seconds=window * group / meetups)
            start = due + timedelta(minutes=10)
            meetup = Meetup(
                title=f"Instances {group}",
                format="meetup",
                local_start=start.replace(tzinfo=None),
                timezone="UTC",
                first_start=start,
                duration_minutes=60,
                planned_until=now + timedelta(days=30),
                created_at=now,
            )
            session.add(meetup)
            session.flush()
            rows += [
                {
                    "meetup_id": meetup.id,
                    "occurrence": occurrence_key(start),
                    "starts_at": start,
                    "member_id": member,
                    "offset_minutes": 10,
                    "due_at": due,
                    "state": PENDING,
                }
                for member in members[group::meetups]
            ]
        session.exec(insert(Reminder), params=rows)
    database.dispose()


def lines(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


@dataclass
class Run:
    instances: int
    expected: int = 0
    accepted: int = 0
    lost: int = 0
    doubled: int = 0
    resent: int = 0
    not_sent: int = 0
    lags: list[float] = field(default_factory=list)  # reminders the killed one did not hold
    held: int = 0
    held_lags: list[float] = field(default_factory=list)
    takeover_reminders: float | None = None
    takeover_leader: float | None = None
    seconds: float = 0.0


def start_workers(
    url: str,
    folder: Path,
    count: int,
    lease: int,
    pause: float,
    commands: Sequence[Path] = (),
) -> list[subprocess.Popen[str]]:
    """``count`` instances (``commands[n]``: the file worker n answers, if any)."""
    workers = []
    for n in range(count):
        log = (folder / f"worker-{n}.log").open("w")
        command = [sys.executable, str(Path(__file__).resolve()), "--child", url, str(folder)]
        command += [str(lease), str(pause), str(commands[n]) if commands else "-"]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        workers.append(process)
    for n, process in enumerate(workers):
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"worker {n} failed:\n{(folder / f'worker-{n}.log').read_text()}")
        process.stdout.close()
    return workers


def held_by(url_engine: Any, pid: int) -> list[int]:
    """The reminders instance ``pid`` holds (claimed, being sent)."""
    from sqlalchemy import text

    with url_engine.connect() as connection:
        found = connection.execute(
            text("SELECT id FROM reminder WHERE state = 'sending' AND claimed_by LIKE :mark"),
            {"mark": f"%:{pid}:%"},
        )
        return [row[0] for row in found]


def run_instances(url: str, args: argparse.Namespace, count: int, folder: Path) -> Run:
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    run = Run(count)
    folder.mkdir()
    first_due = datetime.now(UTC) + timedelta(seconds=START_MARGIN_S + count)
    seed(url, args.reminders, args.meetups, first_due, args.window)
    began = time.monotonic()
    workers = start_workers(url, folder, count, args.lease, args.pause)
    engine = create_engine(normalise_url(url))
    killed: int | None = None
    kill_time = 0.0
    held: list[int] = []
    try:
        if count >= 2:
            # in the middle of the window, kill the leader while it holds reminders it has tried
            middle = first_due.timestamp() + args.window / 2
            time.sleep(max(0.0, middle - time.time()))
            give_up = time.time() + args.window / 2
            while True:
                leaders = lines(folder / "events")
                leader = int(leaders[-1][1]) if leaders else workers[0].pid
                tried = {k for k, pid, _ in lines(folder / "attempts") if int(pid) == leader}
                holding = [i for i in held_by(engine, leader) if f"reminder:{i}" in tried]
                if holding or time.time() > give_up:
                    victim = next(w for w in workers if w.pid == leader)
                    victim.send_signal(signal.SIGKILL)
                    kill_time = time.time()
                    victim.wait(10)
                    killed = leader
                    held = held_by(engine, leader)  # all it held when it died
                    break
                time.sleep(0.005)
        deadline = time.time() + args.window + args.lease + 60
        while time.time() < deadline:
            with engine.connect() as connection:
                left = connection.execute(
                    text("SELECT count(*) FROM reminder WHERE state IN ('pending', 'sending')")
                ).scalar_one()
            if left == 0 and time.time() > first_due.timestamp() + args.window:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a late duplicate would show up now
        if killed is not None:  # and another instance leads within the goal (and a margin)
            give_up = kill_time + TARGET_TAKEOVER_S + 10
            while time.time() < give_up and not any(
                int(pid) != killed and float(t) >= kill_time
                for _, pid, t in lines(folder / "events")
            ):
                time.sleep(0.1)
            leads = [float(t) for _, pid, t in lines(folder / "events") if int(pid) != killed]
            after = [t for t in leads if t >= kill_time]
            if after:
                run.takeover_leader = after[0] - kill_time
            elif leads:  # another already led (the killed one was not the leader)
                run.takeover_leader = 0.0
        with engine.connect() as connection:
            due = {
                f"reminder:{i}": d.timestamp()
                for i, d in connection.execute(text("SELECT id, due_at FROM reminder"))
            }
            run.not_sent = connection.execute(
                text("SELECT count(*) FROM reminder WHERE state <> 'sent'")
            ).scalar_one()
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
        engine.dispose()
    run.seconds = time.monotonic() - began
    accepted = {key: float(t) for key, _pid, t in lines(folder / "accepted")}
    held_keys = {f"reminder:{i}" for i in held}
    run.expected = len(due)
    run.accepted = len(accepted)
    run.lost = len(set(due) - set(accepted))
    run.held = len(held)
    for key, at in accepted.items():
        (run.held_lags if key in held_keys else run.lags).append(at - due[key])
    if held_keys and held_keys <= set(accepted):
        run.takeover_reminders = max(accepted[k] for k in held_keys) - kill_time
    tries: dict[str, list[int]] = {}
    for key, pid, _t in lines(folder / "attempts"):
        tries.setdefault(key, []).append(int(pid))
    for key, pids in tries.items():
        if len(pids) < 2:
            continue
        by_live = [p for p in pids if p != killed]
        # one try by the killed instance of a reminder it held, then one by the taker: a resend
        if len(by_live) == 1 and key in held_keys and len(pids) == 2:
            run.resent += 1
        else:
            run.doubled += 1
    return run


# -- RSVPs at capacity ---------------------------------------------------------------------------


RSVP_TIMEOUT_S = 120.0  # from the go until every worker has answered its members
GOING_TEXT = "Noted: going for Assembly"


async def full_meetup(url: str, places: int, users: Sequence[str]) -> int:
    """Through commands, as members would: ``users`` (and the animator and admin) read
    English, and a meetup of ``places`` places in ten days; its number."""
    from adapters.memory import MemoryAdapter
    from bot.app import App
    from bot.config import load_settings

    settings = load_settings(ROOT / "bot.toml")
    app = App(
        settings.model_copy(update={"storage": settings.storage.model_copy(update={"url": url})})
    )
    app.prepare_database()
    bot = MemoryAdapter(app)
    start = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%d 18:00")
    said = [(user, "!profile set locale=en") for user in ("anim", "admin", *users)]
    said += [
        ("admin", "!circle animator add brussels anim"),
        ("anim", f'!meetup create Assembly circle=brussels start="{start}" capacity={places}'),
    ]
    try:
        for user, line in said:
            reply = await bot.say(user, line)
            if reply.is_error:
                raise SystemExit(f"setting up the meetup: {user}: {line}: {reply.text}")
    finally:
        app.database.dispose()
    found = re.search(r"#(\d+)", reply.title)
    if not found:
        raise SystemExit(f"no meetup number in {reply.title!r}")
    return int(found.group(1))


@dataclass
class Rsvps:
    instances: int
    members: int
    places: int
    going: int = 0  # RSVP rows
    waiting: int = 0
    beyond: int = 0  # going beyond capacity
    twice: int = 0  # members with two RSVP rows or more
    answered: int = 0  # members who got an answer
    wrong: int = 0  # answers that neither give a place nor a place on the waitlist
    disagree: int = 0  # members told going (or waiting) whose row says otherwise
    queue_ok: bool = True  # each place on the waitlist told to one member
    latencies: list[float] = field(default_factory=list)  # the go until the answer
    command_times: list[float] = field(default_factory=list)  # the command began until answered
    seconds: float = 0.0

    @property
    def overbooked(self) -> int:
        return self.beyond + self.twice


def run_rsvps(url: str, args: argparse.Namespace, count: int, folder: Path) -> Rsvps:
    """A meetup of ``--places`` places; ``--members`` members all answer "going" at the same
    moment, their commands split across ``count`` worker processes."""
    from sqlmodel import select

    from storage.db import Database
    from storage.identity import Account
    from storage.meetups import GOING, WAITING, Rsvp

    result = Rsvps(count, args.members, args.places)
    folder.mkdir()
    began = time.monotonic()
    users = [f"r{i:04}" for i in range(args.members)]
    number = asyncio.run(full_meetup(url, args.places, users))
    files = [folder / f"worker-{n}.commands" for n in range(count)]
    for n, file in enumerate(files):
        write_commands(
            file, [(user, f"!meetup rsvp {number} going", None) for user in users[n::count]]
        )
    workers = start_workers(url, folder, count, args.lease, args.pause, files)
    try:
        go = time.time()
        for file in files:  # all at once
            suffixed(file, ".go").touch()
        deadline = time.monotonic() + RSVP_TIMEOUT_S
        while time.monotonic() < deadline and not all(
            suffixed(file, ".done").exists() for file in files
        ):
            time.sleep(0.02)
    finally:
        for process in workers:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    result.seconds = time.monotonic() - began
    answers: dict[str, str] = {}
    for file in files:
        for reply in read_replies(file):
            user, text = str(reply["user"]), str(reply["text"])
            answers.setdefault(user, text)
            result.latencies.append(float(str(reply["answered"])) - go)
            result.command_times.append(float(str(reply["answered"])) - float(str(reply["asked"])))
    result.answered = len(set(answers) & set(users))
    told_going = {u for u, text in answers.items() if text.startswith(GOING_TEXT)}
    told_waiting = {u for u, text in answers.items() if "is full" in text and "waitlist" in text}
    result.wrong = len(set(answers) - told_going - told_waiting)
    positions = sorted(int(answers[u].split("number ")[1].split(" ")[0]) for u in told_waiting)
    result.queue_ok = positions == list(range(1, len(told_waiting) + 1))
    database = Database(url)
    with database.session() as session:
        rows = list(
            session.exec(
                select(Account.platform_user_id, Rsvp.member_id, Rsvp.status)
                .join(Account, Account.member_id == Rsvp.member_id)  # type: ignore[arg-type]
                .where(Rsvp.meetup_id == number, Account.platform == "console")
            )
        )
    database.dispose()
    going = {user for user, _member, status in rows if status == GOING}
    waiting = {user for user, _member, status in rows if status == WAITING}
    result.going = sum(status == GOING for _user, _member, status in rows)
    result.waiting = sum(status == WAITING for _user, _member, status in rows)
    result.beyond = max(0, result.going - args.places)
    rows_of = Counter(member for _user, member, _status in rows)
    result.twice = sum(n > 1 for n in rows_of.values())
    result.disagree = len(told_going ^ going) + len(told_waiting ^ waiting)
    return result


# -- the report ----------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def within(value: float | None, goal: float) -> bool:
    return value is not None and value <= goal


def report(args: argparse.Namespace, url: str, runs: list[Run], rsvps: list[Rsvps]) -> list[str]:
    print("\n## Samen instances benchmark (issue 11)\n")
    print("| machine | |\n|---|---|")
    for key, value in machine_info(database_row(url)):
        print(f"| {key} | {value} |")
    print(
        f"\n{args.reminders:,} reminders due over {args.window:g} s ({args.meetups} meetups, "
        f"each meetup's due at one second), sends of {args.pause * 1000:g} ms, a lease of "
        f"{args.lease} s; with two or more instances the leader is SIGKILLed mid-window while "
        "it holds reminders it has tried.\n"
    )
    print(
        "| instances | lag p50 | lag p99 | doubled | lost | resent (same key) | held by "
        "the killed one | their lag max | takeover (reminders) | takeover (leader) | run |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    targets = Targets("instances")
    problems: list[str] = []
    for run in runs:
        p50, p99 = percentile(run.lags, 50), percentile(run.lags, 99)
        held_max = max(run.held_lags) if run.held_lags else None
        print(
            f"| {run.instances} | {p50:.3f} s | {p99:.3f} s | {run.doubled} | {run.lost} | "
            f"{run.resent} | {run.held} | {seconds(held_max)} | "
            f"{seconds(run.takeover_reminders)} | {seconds(run.takeover_leader)} | "
            f"{run.seconds:.0f} s |"
        )
        name = f"{run.instances} instance{'s' if run.instances > 1 else ''}"
        unheld = " (reminders the killed one did not hold)" if run.instances > 1 else ""
        targets.add(f"{name}: reminder lag p50", f"{p50:.3f} s")
        targets.add(
            f"{name}: reminder lag p99{unheld}",
            f"{p99:.3f} s",
            f"≤ {TARGET_LAG_P99_S:g} s",
            p99 <= TARGET_LAG_P99_S,
        )
        targets.add(f"{name}: doubled", str(run.doubled), "0", run.doubled == 0)
        targets.add(f"{name}: lost", str(run.lost), "0", run.lost == 0)
        if run.instances > 1:
            if run.held:
                targets.add(
                    f"{name}: takeover after SIGKILL (the killed one's reminders)",
                    seconds(run.takeover_reminders),
                    f"≤ {TARGET_TAKEOVER_S:g} s",
                    within(run.takeover_reminders, TARGET_TAKEOVER_S),
                )
            else:
                targets.add(f"{name}: takeover after SIGKILL (reminders)", "nothing held")
            targets.add(
                f"{name}: takeover after SIGKILL (leadership)",
                seconds(run.takeover_leader),
                f"≤ {TARGET_TAKEOVER_S:g} s",
                within(run.takeover_leader, TARGET_TAKEOVER_S),
            )
            if run.held and run.takeover_reminders is None:
                problems.append(f"{name}: the killed instance's reminders were not taken over")
            if run.takeover_leader is None:
                problems.append(f"{name}: no instance leads after the leader was killed")
        if run.lost:
            problems.append(f"{name}: {run.lost} of {run.expected} reminders lost")
        if run.doubled:
            problems.append(f"{name}: {run.doubled} reminders tried twice by live instances")
        if run.not_sent:
            problems.append(f"{name}: {run.not_sent} reminders not marked sent")
    print(
        "\nlag: accepted by the platform minus due. resent: a reminder the killed instance had "
        "tried and not marked, sent again by the taker with the same idempotency key (dropped "
        "by the platform). takeover (reminders): SIGKILL until the last reminder it held is "
        "accepted; (leader): until another instance leads the periodic jobs."
    )
    if rsvps:
        problems += report_rsvps(args, rsvps, targets)
    targets.write(args.json)
    return problems


def report_rsvps(args: argparse.Namespace, runs: list[Rsvps], targets: Targets) -> list[str]:
    print(
        f"\nA meetup of {args.places} places, {args.members} members answering "
        f'"!meetup rsvp N going" at the same moment, their commands split across the '
        f"instances ({THREADS} at a time in each, as many connections would).\n"
    )
    print(
        "| instances | going | waiting | overbooked | beyond capacity | members with two "
        "RSVPs | answered | answer p50 | answer p99 | command p99 | run |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    problems: list[str] = []
    for run in runs:
        p50, p99 = percentile(run.latencies, 50), percentile(run.latencies, 99)
        command_p99 = percentile(run.command_times, 99)
        print(
            f"| {run.instances} | {run.going} | {run.waiting} | {run.overbooked} | {run.beyond} "
            f"| {run.twice} | {run.answered}/{run.members} | {p50:.3f} s | {p99:.3f} s | "
            f"{command_p99:.3f} s | {run.seconds:.0f} s |"
        )
        name = f"{run.instances} instance{'s' if run.instances > 1 else ''}"
        targets.add(
            f"{name}: overbooked places ({run.members} members, {run.places} places)",
            str(run.overbooked),
            "0",
            run.overbooked == 0,
        )
        targets.add(f"{name}: RSVPs going / waiting", f"{run.going} / {run.waiting}")
        targets.add(f"{name}: RSVP answer p50", f"{p50:.3f} s")
        targets.add(f"{name}: RSVP answer p99", f"{p99:.3f} s")
        if run.beyond:
            problems.append(f"{name}: {run.going} going for {run.places} places")
        if run.twice:
            problems.append(f"{name}: {run.twice} members with two RSVPs")
        if run.answered < run.members:
            problems.append(f"{name}: {run.members - run.answered} members got no answer")
        if run.wrong:
            problems.append(f"{name}: {run.wrong} answers neither a place nor the waitlist")
        if run.disagree:
            problems.append(f"{name}: {run.disagree} answers differ from the RSVP rows")
        if not run.queue_ok:
            problems.append(f"{name}: a place on the waitlist was told to two members")
        if run.going + run.waiting != run.members:
            problems.append(f"{name}: {run.going + run.waiting} RSVPs for {run.members} members")
    print(
        "\noverbooked: members going beyond the capacity plus members with two RSVP rows. "
        "answer: the moment every member answered until their answer; command: the command "
        "began until answered (without the wait for a thread)."
    )
    return problems


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=3000, help="reminders due")
    parser.add_argument("--window", type=float, default=30.0, help="seconds they fall due over")
    parser.add_argument("--meetups", type=int, default=60, help="meetups (due moments)")
    parser.add_argument("--pause", type=float, default=0.005, help="seconds each send takes")
    parser.add_argument(
        "--lease", type=int, default=None, help="reminder lease, seconds (default: bot.toml's)"
    )
    parser.add_argument(
        "--instances", type=int, nargs="+", default=[1, 2, 3], help="instance counts to run"
    )
    parser.add_argument(
        "--members", type=int, default=200, help='members answering "going" (0: no RSVPs)'
    )
    parser.add_argument("--places", type=int, default=50, help="places of their meetup")
    parser.add_argument("--child", nargs=5, metavar="ARG", help=argparse.SUPPRESS)
    add_smoke(parser)
    add_postgres(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, reminders=100, window=3.0, meetups=6, lease=2, members=20, places=5)
    if args.smoke:
        args.instances = [1, 2]
    if args.child is None and (min(args.reminders, args.meetups, *args.instances) < 1):
        parser.error("--reminders, --meetups and --instances must be at least 1")
    if args.child is None and (args.members < 0 or args.places < 1):
        parser.error("--members must be at least 0, --places at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        url, folder, lease, pause, commands = args.child
        file = None if commands == "-" else Path(commands)
        asyncio.run(child(url, Path(folder), int(lease), float(pause), file))
        return
    logging.basicConfig(level=logging.WARNING)
    server = args.postgres or os.environ.get(POSTGRES_ENV)
    if not server:
        print(
            f"bench/instances.py needs PostgreSQL (--postgres URL or {POSTGRES_ENV}): skipped",
            file=sys.stderr,
        )
        targets = Targets("instances")
        targets.add("skipped: needs PostgreSQL (--postgres URL)", "—")
        targets.write(args.json)
        return
    if args.lease is None:
        from bot.config import load_settings

        args.lease = load_settings(ROOT / "bot.toml").reminder_lease_seconds
    runs: list[Run] = []
    rsvps: list[Rsvps] = []
    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        for count in args.instances:
            with scratch_database(server, Path(tmp)) as url:
                print(f"{count} instance(s) …", file=sys.stderr)
                runs.append(run_instances(url, args, count, Path(tmp) / f"run-{count}"))
            if args.members:
                with scratch_database(server, Path(tmp)) as url:
                    print(f"{count} instance(s): RSVPs …", file=sys.stderr)
                    rsvps.append(run_rsvps(url, args, count, Path(tmp) / f"rsvps-{count}"))
    problems = report(args, server, runs, rsvps)
    print(f"\nconsistency: {verdict(not problems)} {'; '.join(problems) or 'every check held'}")
    if problems:
        raise SystemExit("failed: " + "; ".join(problems))


if __name__ == "__main__":
    main()
