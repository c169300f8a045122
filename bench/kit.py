"""What every benchmark in bench/ shares: the smoke size, percentiles, the machine table.

A benchmark is a script (``python bench/board.py``); ``--smoke`` runs it at tiny sizes in a
few seconds, so CI (.ci/run) notices the day a benchmark breaks: a smoke run exits non-zero
when a reply is an error, a consistency check fails or a scenario finds nothing, never
because of a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def add_smoke(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark has: ``--smoke`` and ``--json FILE``."""
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, a few seconds: fails on a wrong answer or a broken check, never on time",
    )
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write each target's figure to FILE (what `python -m bench` collects)",
    )


def add_postgres(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on a new database on this PostgreSQL server (dropped after), not SQLite",
    )


@contextlib.contextmanager
def scratch_database(postgres: str | None, directory: Path) -> Iterator[str]:
    """The URL of an empty database at the latest schema: a SQLite file in ``directory``, or
    a new database on the ``postgres`` server, dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import Database, normalise_url

    postgres = normalise_url(postgres)
    server = create_engine(postgres, isolation_level="AUTOCOMMIT")
    name = f"samen_bench_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def database_row(url: str) -> tuple[str, str]:
    """The machine table's row for the database a run used."""
    if url.startswith("sqlite"):
        return ("database", f"SQLite {sqlite3.sqlite_version} (WAL, a temp file)")
    from sqlalchemy import create_engine, text

    from storage.db import normalise_url

    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
    engine.dispose()
    return ("database", f"PostgreSQL {version} (127.0.0.1)")


@dataclass(frozen=True)
class Target:
    """One goal an issue names, with what this run measured."""

    measure: str  # what is measured, e.g. "`!board list` p99 at 100,000 posts"
    value: str  # the figure, with its unit
    goal: str  # the target, e.g. "≤ 10 ms"; "" for a figure without one
    met: bool | None  # None: nothing to meet


class Targets:
    """The targets a benchmark run reports, written as JSON for the report."""

    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.rows: list[Target] = []

    def add(self, measure: str, value: str, goal: str = "", met: bool | None = None) -> None:
        self.rows.append(Target(measure, value, goal, met))

    def write(self, path: str | None) -> None:
        if path:
            rows = [asdict(row) for row in self.rows]
            Path(path).write_text(json.dumps({"bench": self.bench, "targets": rows}))


def apply_smoke(args: argparse.Namespace, **sizes: int | float) -> None:
    """With ``--smoke``, replace the sizes the run would use by these."""
    if args.smoke:
        for name, value in sizes.items():
            setattr(args, name, value)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``; NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def short_path(file: str) -> str:
    """A source file's path from site-packages or the repository, for profile tables."""
    for marker in ("site-packages/", str(ROOT) + "/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def machine_info(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    """The rows that say which machine measured: cores, CPU, Python, SQLite, OS, load."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return [
        ("nproc", str(usable)),
        ("CPU", cpu),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        *extra,
        ("OS", platform.platform()),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]


def seed_console_members(session: Any, count: int, now: datetime) -> list[int]:
    """``count`` members m0, m1, … each with a console account of the same name, inserted in
    bulk (for the benches and tests that need many members with a reminder); their ids."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from storage.identity import Account, Member

    session.exec(
        insert(Member),
        params=[
            {"display_name": f"m{i}", "name_folded": f"m{i}", "created_at": now}
            for i in range(count)
        ],
    )
    ids = [i for i in session.exec(select(Member.id).order_by(col(Member.id))) if i]
    session.exec(
        insert(Account),
        params=[
            {
                "member_id": i,
                "platform": "console",
                "platform_user_id": f"m{i}",
                "handle": f"m{i}",
                "last_seen_at": now,
            }
            for i in ids
        ],
    )
    return ids
