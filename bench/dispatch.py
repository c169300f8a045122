"""Benchmark: `!profile show` and `!members find` through the whole core, on SQLite.

Seeds N members (default 50,000) into a fresh SQLite file in a temporary directory, then
drives ``adapters.memory.MemoryAdapter`` sequentially from one asyncio loop and reports
throughput and latency percentiles beside the targets of the issue:

    ≥ 2,000 `profile show`/s with p99 ≤ 10 ms; `members find` p99 ≤ 30 ms.

Run from the repository root:

    .venv/bin/python bench/dispatch.py [--members 50000] [--show 5000] [--find 1000]
                                       [--recent-seen] [--profile show|find|both]

``--recent-seen`` seeds every account as seen just now, so `resolve_actor` never writes
``last_seen_at`` (the read-only path); by default accounts were last seen at a random moment
in the past 30 days, so the first command of each member also commits an UPDATE.
``--profile`` runs the measured phase under cProfile and prints the hotspots.
This is a benchmark, not a test: it never fails a build, it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import logging
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, insert  # noqa: E402

from adapters.memory import MemoryAdapter  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_postgres,
    add_smoke,
    apply_smoke,
    database_row,
    percentile,
    scratch_database,
    short_path,
    verdict,
)
from bench.kit import machine_info as common_machine_info  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import Settings, StorageSettings, load_settings  # noqa: E402
from bot.text import fold  # noqa: E402
from storage.identity import Account, Member  # noqa: E402
from storage.profiles import MemberLanguage, MemberSector, MemberSkill  # noqa: E402

TARGET_SHOW_RATE = 2_000.0  # calls/s
TARGET_SHOW_P99_MS = 10.0
TARGET_FIND_P99_MS = 30.0

FIRST_NAMES = (
    "Anna",
    "Lotte",
    "Emma",
    "Marie",
    "Sofie",
    "Julie",
    "Lena",
    "Nora",
    "Fatima",
    "Amira",
    "Chloé",
    "Léa",
    "Camille",
    "Manon",
    "Inès",
    "Zoë",
    "Eline",
    "Hanne",
    "Yasmine",
    "Sarah",
    "Lucas",
    "Noah",
    "Louis",
    "Arthur",
    "Jules",
    "Victor",
    "Mohamed",
    "Adam",
    "Thomas",
    "Wout",
    "Pieter",
    "Jeroen",
    "Bram",
    "Théo",
    "Hugo",
    "Mathis",
    "Youssef",
    "Ilias",
    "Kobe",
    "Senne",
    "Anaïs",
    "Océane",
    "Bjorn",
    "Dries",
    "Jan",
    "Koen",
    "Els",
    "Griet",
    "Hélène",
    "François",
)
LAST_NAMES = (
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Lambert",
    "Dupont",
    "Martin",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Leroy",
    "Renard",
    "Vandenberghe",
    "Van Damme",
    "De Backer",
    "El Amrani",
    "Benali",
    "Yilmaz",
    "Kowalski",
    "Nowak",
    "Rossi",
    "García",
    "Müller",
    "Vermeulen",
    "Desmet",
    "Lemaire",
    "Michel",
    "Hermans",
    "Verstraeten",
    "Coppens",
    "Smets",
    "Bogaert",
)
SKILLS = (
    "sound engineering",
    "video editing",
    "colour grading",
    "camera operation",
    "lighting",
    "stage management",
    "set design",
    "costume design",
    "make-up",
    "choreography",
    "acting",
    "voice-over",
    "singing",
    "piano",
    "guitar",
    "music production",
    "mixing",
    "mastering",
    "composition",
    "illustration",
    "painting",
    "sculpture",
    "photography",
    "photo retouching",
    "graphic design",
    "typography",
    "branding",
    "UX design",
    "UI design",
    "web development",
    "Python",
    "JavaScript",
    "React",
    "data analysis",
    "WordPress",
    "SEO",
    "copywriting",
    "translation NL-FR",
    "translation FR-EN",
    "subtitling",
    "proofreading",
    "journalism",
    "scriptwriting",
    "event planning",
    "catering",
    "logistics",
    "interior styling",
    "3D modelling",
    "AutoCAD",
    "furniture design",
    "coaching",
    "workshop facilitation",
    "e-learning",
    "social media",
    "community management",
    "project management",
    "bookkeeping",
    "fundraising",
    "motion design",
    "animation",
)
LANGUAGES = ("nl", "fr", "en", "de", "es", "it", "ar", "tr", "pl", "pt")
BIOS = (
    "",
    "",
    "Freelancer since 2015, happy to collaborate.",
    "Zelfstandige in bijberoep, altijd op zoek naar nieuwe projecten.",
    "Indépendant·e, j'aime les projets collectifs.",
    "Ask me about tours, festivals and anything with cables.",
)


@dataclass(frozen=True)
class Stats:
    name: str
    count: int
    seconds: float
    latencies: tuple[float, ...]  # sorted, seconds

    @classmethod
    def of(cls, name: str, latencies: Sequence[float], seconds: float) -> Stats:
        return cls(name, len(latencies), seconds, tuple(sorted(latencies)))

    def pct(self, p: float) -> float:
        """The p-th percentile (nearest rank), in milliseconds."""
        return percentile(self.latencies, p) * 1000

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("nan")

    @property
    def max_ms(self) -> float:
        return self.latencies[-1] * 1000 if self.latencies else float("nan")


# -- setup -----------------------------------------------------------------------------------


def make_app(url: str) -> App:
    settings: Settings = load_settings(ROOT / "bot.toml")
    settings = settings.model_copy(update={"storage": StorageSettings(url=url, echo_sql=False)})
    app = App(settings)
    app.prepare_database()
    return app


def seed(app: App, members: int, rng: random.Random, *, recent_seen: bool) -> None:
    """Bulk-insert ``members`` members with accounts ``m1``…``mN`` and their profiles."""
    settings = app.settings
    sector_keys = settings.sector_levels.leaves()
    region_keys = settings.region_levels.leaves()
    # A skewed, but seeded, popularity of sectors and regions (Brussels and IT are common).
    sector_weights = [rng.uniform(0.5, 3.0) for _ in sector_keys]
    region_weights = [rng.uniform(0.5, 3.0) for _ in region_keys]
    now = datetime.now(UTC)
    batch = 10_000
    member_rows: list[dict[str, object]] = []
    account_rows: list[dict[str, object]] = []
    sector_rows: list[dict[str, object]] = []
    skill_rows: list[dict[str, object]] = []
    language_rows: list[dict[str, object]] = []

    def flush(connection: Connection) -> None:
        for model, rows in (
            (Member, member_rows),
            (Account, account_rows),
            (MemberSector, sector_rows),
            (MemberSkill, skill_rows),
            (MemberLanguage, language_rows),
        ):
            if rows:
                connection.execute(insert(model), rows)
                rows.clear()

    with app.database.engine.begin() as connection:
        for n in range(1, members + 1):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            created = now - timedelta(days=rng.uniform(0, 3 * 365))
            seen = now if recent_seen else now - timedelta(minutes=rng.uniform(10, 30 * 24 * 60))
            roll = rng.random()
            visibility = "all" if roll < 0.85 else ("circles" if roll < 0.95 else "hidden")
            region = rng.choices(region_keys, region_weights)[0] if rng.random() < 0.92 else None
            member_rows.append(
                {
                    "id": n,
                    "display_name": name,
                    "name_folded": fold(name),
                    "locale": rng.choice(("nl", "nl", "fr", "fr", "en", None)),
                    "region": region,
                    "bio": rng.choice(BIOS),
                    "visibility": visibility,
                    "created_at": created,
                }
            )
            account_rows.append(
                {
                    "member_id": n,
                    "platform": "console",
                    "platform_user_id": f"m{n}",
                    "handle": f"m{n}",
                    "last_seen_at": seen,
                }
            )
            sectors: set[str] = set()
            wanted = rng.randint(1, 3)
            while len(sectors) < wanted:
                sectors.add(rng.choices(sector_keys, sector_weights)[0])
            # member_sector carries copies of the member's region and folded name (its index
            # serves `members find sector=… region=…`); check_sector_copies verifies them.
            sector_rows.extend(
                {"member_id": n, "sector": s, "region": region, "name_folded": fold(name)}
                for s in sorted(sectors)
            )
            skill_rows.extend(
                {"member_id": n, "skill": s, "skill_folded": fold(s)}
                for s in rng.sample(SKILLS, rng.randint(1, 4))
            )
            spoken = rng.sample(LANGUAGES[3:], rng.randint(0, 1)) + rng.sample(
                LANGUAGES[:3], rng.randint(1, 3)
            )
            language_rows.extend({"member_id": n, "language": code} for code in spoken)
            if n % batch == 0:
                flush(connection)
        flush(connection)
    with app.database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    check_sector_copies(app)


def check_sector_copies(app: App) -> None:
    """Every member_sector row carries its member's region and folded name (what
    `members find sector=…` reads), and every member has a sector; else stop."""
    with app.database.engine.connect() as connection:
        wrong = connection.exec_driver_sql(
            "SELECT count(*) FROM member_sector s JOIN member m ON m.id = s.member_id "
            "WHERE s.name_folded <> m.name_folded OR (s.region IS NULL) <> (m.region IS NULL) "
            "OR s.region <> m.region"
        ).scalar_one()
        without = connection.exec_driver_sql(
            "SELECT count(*) FROM member m WHERE NOT EXISTS "
            "(SELECT 1 FROM member_sector s WHERE s.member_id = m.id)"
        ).scalar_one()
    if wrong or without:
        raise SystemExit(
            f"seeding: {wrong} member_sector rows out of step with their member, "
            f"{without} members without a sector"
        )


# -- measuring -------------------------------------------------------------------------------


async def measure(
    name: str,
    bot: MemoryAdapter,
    calls: Sequence[tuple[str, str]],
) -> Stats:
    clock = time.perf_counter
    latencies: list[float] = []
    say = bot.say
    started = clock()
    for user, line in calls:
        before = clock()
        reply = await say(user, line)
        latencies.append(clock() - before)
        if reply.is_error:
            raise SystemExit(f"{name}: {user} said {line!r} and got an error: {reply.plain()}")
    elapsed = clock() - started
    bot.replies.clear()
    return Stats.of(name, latencies, elapsed)


def show_calls(rng: random.Random, members: int, count: int) -> list[tuple[str, str]]:
    return [(f"m{rng.randint(1, members)}", "!profile show") for _ in range(count)]


def find_calls(
    rng: random.Random, members: int, count: int, sectors: list[str], regions: list[str]
) -> list[tuple[str, str]]:
    return [
        (
            f"m{rng.randint(1, members)}",
            f"!members find sector={rng.choice(sectors)} region={rng.choice(regions)}",
        )
        for _ in range(count)
    ]


def profiled(enabled: bool, action: Callable[[], Stats]) -> tuple[Stats, pstats.Stats | None]:
    if not enabled:
        return action(), None
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        result = action()
    finally:
        profiler.disable()
    return result, pstats.Stats(profiler)


def print_hotspots(title: str, stats: pstats.Stats, total_seconds: float, top: int = 30) -> None:
    """The functions with the largest cumulative time, with their share of the phase."""
    print(f"\n### cProfile: {title} (top {top} by cumulative time)\n")
    print("| cumulative share | cum s | own s | calls | function |")
    print("|---:|---:|---:|---:|---|")
    rows = []
    for (file, line, func), (_cc, calls, own, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((cum, own, calls, f"{func} ({short_path(file)}:{line})"))
    rows.sort(reverse=True)
    for cum, own, calls, where in rows[:top]:
        print(f"| {cum / total_seconds:6.1%} | {cum:.3f} | {own:.3f} | {calls} | `{where}` |")
    print(f"\n### cProfile: {title} (top 15 by own time)\n")
    print("| own share | own s | calls | function |")
    print("|---:|---:|---:|---|")
    rows.sort(key=lambda r: r[1], reverse=True)
    for _cum, own, calls, where in rows[:15]:
        print(f"| {own / total_seconds:6.1%} | {own:.3f} | {calls} | `{where}` |")


# -- reporting -------------------------------------------------------------------------------


def machine_info() -> list[tuple[str, str]]:
    import sqlalchemy

    return common_machine_info(("SQLAlchemy", sqlalchemy.__version__))


def report(
    args: argparse.Namespace, seeding: float, show: Stats, find: Stats, info: list[tuple[str, str]]
) -> None:
    print("\n## Samen dispatch benchmark\n")
    print("| machine | |")
    print("|---|---|")
    for key, value in info:
        print(f"| {key} | {value} |")
    print(
        f"| setup | {args.members:,} members, "
        f"{'a new PostgreSQL database' if args.postgres else 'SQLite (WAL) in a temp dir'}, "
        "MemoryAdapter, "
        f"sequential calls, last_seen_at {'recent' if args.recent_seen else 'random past 30 days'}"
        " |"
    )
    print(f"| seeding | {seeding:.2f} s (bulk insert + ANALYZE) |")
    print()
    print(
        "| command | calls | throughput (calls/s) | p50 ms | p95 ms | p99 ms | max ms "
        "| target | met |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|:-:|")
    show_ok = show.rate >= TARGET_SHOW_RATE and show.pct(99) <= TARGET_SHOW_P99_MS
    find_ok = find.pct(99) <= TARGET_FIND_P99_MS
    targets = Targets("dispatch")
    size = f"{args.members:,} members"
    targets.add(
        f"`!profile show` throughput / p99 ({size})",
        f"{show.rate:,.0f}/s / {show.pct(99):.2f} ms",
        f"≥ {TARGET_SHOW_RATE:,.0f}/s, p99 ≤ {TARGET_SHOW_P99_MS:g} ms",
        show_ok,
    )
    targets.add(
        f"`!members find` p99 ({size})",
        f"{find.pct(99):.2f} ms",
        f"≤ {TARGET_FIND_P99_MS:g} ms",
        find_ok,
    )
    targets.write(args.json)
    for stats, target, ok in (
        (show, f"≥ {TARGET_SHOW_RATE:,.0f}/s, p99 ≤ {TARGET_SHOW_P99_MS:g} ms", show_ok),
        (find, f"p99 ≤ {TARGET_FIND_P99_MS:g} ms", find_ok),
    ):
        print(
            f"| `{stats.name}` | {stats.count:,} | {stats.rate:,.0f} | {stats.pct(50):.2f} "
            f"| {stats.pct(95):.2f} | {stats.pct(99):.2f} | {stats.max_ms:.2f} | {target} "
            f"| {verdict(ok)} |"
        )


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000, help="members to seed")
    parser.add_argument("--show", type=int, default=5_000, help="`!profile show` calls")
    parser.add_argument("--find", type=int, default=1_000, help="`!members find` calls")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up calls of each command")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument(
        "--recent-seen",
        action="store_true",
        help="seed accounts as seen just now (no last_seen_at UPDATE during the run)",
    )
    parser.add_argument(
        "--profile",
        choices=("show", "find", "both"),
        help="run the measured phase(s) under cProfile and print the hotspots",
    )
    add_smoke(parser)
    add_postgres(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, members=300, show=50, find=30, warmup=10)
    if args.members < 1 or args.show < 1 or args.find < 1:
        parser.error("--members, --show and --find must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp,
        scratch_database(args.postgres, Path(tmp)) as url,
    ):
        app = make_app(url)
        try:
            started = time.perf_counter()
            seed(app, args.members, rng, recent_seen=args.recent_seen)
            seeding = time.perf_counter() - started
            print(f"seeded {args.members:,} members in {seeding:.2f} s", file=sys.stderr)

            sectors = app.settings.sector_levels.leaves()
            regions = app.settings.region_levels.leaves()
            bot = MemoryAdapter(app)
            loop = asyncio.new_event_loop()
            try:
                run = loop.run_until_complete
                # Warm up: imports, statement caches, translators, SQLite page cache.
                run(measure("warm-up show", bot, show_calls(rng, args.members, args.warmup)))
                run(
                    measure(
                        "warm-up find",
                        bot,
                        find_calls(rng, args.members, args.warmup, sectors, regions),
                    )
                )
                shows = show_calls(rng, args.members, args.show)
                finds = find_calls(rng, args.members, args.find, sectors, regions)
                gc.collect()
                profile_show = args.profile in ("show", "both")
                profile_find = args.profile in ("find", "both")
                show, show_prof = profiled(
                    profile_show, lambda: run(measure("!profile show", bot, shows))
                )
                gc.collect()
                find, find_prof = profiled(
                    profile_find, lambda: run(measure("!members find", bot, finds))
                )
                # One reply of each, so a reader can see the work is real.
                for user, line in (shows[0], finds[0]):
                    sample = run(bot.say(user, line)).plain()
                    print(f"\n--- {user}: {line}\n{sample[:600]}", file=sys.stderr)
            finally:
                loop.close()
            report(args, seeding, show, find, [*machine_info(), database_row(url)])
            if show_prof is not None:
                print_hotspots("`!profile show`", show_prof, show.seconds)
                _print_callers(show_prof)
            if find_prof is not None:
                print_hotspots("`!members find`", find_prof, find.seconds)
                _print_callers(find_prof)
            if args.profile:
                print(
                    "\n(cProfile adds overhead: the figures above were measured *with* the "
                    "profiler on; run without --profile for the real numbers.)"
                )
        finally:
            app.database.dispose()


def _print_callers(stats: pstats.Stats) -> None:
    """Where the SQL statements come from: the callers of Session.execute."""
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_callers(r"session.py.*\(execute\)")
    text = buffer.getvalue().strip()
    if text:
        print("\n<details><summary>callers of Session.execute</summary>\n\n```")
        print("\n".join(line for line in text.splitlines() if line.strip())[-4000:])
        print("```\n</details>")


if __name__ == "__main__":
    main()
