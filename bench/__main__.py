"""Run every benchmark and print one Markdown table of the targets the issues name.

    .venv/bin/python -m bench            # every benchmark at full size (many minutes)
    .venv/bin/python -m bench --smoke    # every benchmark at its tiny size (what CI runs)
    .venv/bin/python -m bench --save     # also write bench/results/<date>-<commit>.md
    .venv/bin/python -m bench --only board dispatch
    .venv/bin/python -m bench --postgres postgresql://postgres@127.0.0.1:5432/test

Each benchmark runs in its own process (``bench/NAME.py --json FILE``) and writes the targets
it measured; this collects them beside the machine and the commit. A benchmark that fails
(a wrong answer, a broken consistency check) makes the run exit non-zero; a missed target
does not: it is a figure, reported as missed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.kit import ROOT, machine_info, verdict

BENCHES = (
    "dispatch",
    "board",
    "scheduler",
    "discord_interactions",
    "matrix_roundtrip",
    "instances",
    "followup",
    "digest",
    "surveys",
)
ON_POSTGRES = (
    "dispatch",
    "board",
    "followup",
    "digest",
    "surveys",
)  # the benchmarks that take --postgres URL
# the benchmarks that run on PostgreSQL only: once, on --postgres URL, else on the server
# SAMEN_TEST_POSTGRES_URL names; with neither they report themselves skipped
ONLY_POSTGRES = ("instances",)


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    return revision + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_one(
    name: str, smoke: bool, directory: Path, postgres: str | None = None
) -> tuple[dict[str, object], str, float]:
    """Run bench/NAME.py; its targets (empty when it failed), its output and its seconds."""
    result = directory / f"{name}{'-postgres' if postgres else ''}.json"
    command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--json", str(result)]
    if smoke:
        command.append("--smoke")
    if postgres:
        command += ["--postgres", postgres]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    output = done.stdout + (f"\n{done.stderr}" if done.returncode else "")
    if done.returncode != 0 or not result.exists():
        return {}, output, seconds
    targets: dict[str, object] = json.loads(result.read_text())
    return targets, output, seconds


def table(runs: list[tuple[str, dict[str, object], float]], smoke: bool) -> str:
    lines = [
        f"# Samen benchmarks{' (smoke sizes: no figure here means anything)' if smoke else ''}",
        "",
        "| machine | |",
        "|---|---|",
    ]
    rows = [("commit", commit()), ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))]
    lines += [f"| {key} | {value} |" for key, value in [*rows, *machine_info()]]
    lines += ["", "| bench | measure | figure | target | met |", "|---|---|---:|---|:-:|"]
    for name, targets, seconds in runs:
        found = targets.get("targets") if targets else None
        if not isinstance(found, list):
            lines.append(f"| {name} | **failed** after {seconds:.0f} s (see below) | | | ❌ |")
            continue
        for row in found:
            met = "" if row["met"] is None else verdict(bool(row["met"]))
            lines.append(f"| {name} | {row['measure']} | {row['value']} | {row['goal']} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="every benchmark at its tiny size")
    parser.add_argument(
        "--save", action="store_true", help="also write bench/results/<date>-<commit>.md"
    )
    parser.add_argument("--only", nargs="+", choices=BENCHES, help="these benchmarks only")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"also run {', '.join(ON_POSTGRES)} on a new database on this PostgreSQL server "
        f"(and {', '.join(ONLY_POSTGRES)}, which needs one)",
    )
    args = parser.parse_args(argv)
    runs: list[tuple[str, dict[str, object], float]] = []
    details: list[str] = []
    with tempfile.TemporaryDirectory(prefix="samen-bench-report-") as tmp:
        chosen = args.only or BENCHES
        plan = [(name, None) for name in chosen if name not in ONLY_POSTGRES]
        if args.postgres:
            plan += [(name, args.postgres) for name in chosen if name in ON_POSTGRES]
        plan += [(name, args.postgres) for name in chosen if name in ONLY_POSTGRES]
        for name, postgres in plan:
            label = f"{name} on PostgreSQL" if postgres or name in ONLY_POSTGRES else name
            print(f"bench/{name}.py{' --smoke' if args.smoke else ''} ({label}) …", file=sys.stderr)
            targets, output, seconds = run_one(name, args.smoke, Path(tmp), postgres)
            runs.append((label, targets, seconds))
            details.append(f"\n## {label} ({seconds:.0f} s)\n\n{output.strip()}\n")
            if not targets:
                print(output, file=sys.stderr)
    report = table(runs, args.smoke)
    print(report)
    if args.save:
        folder = ROOT / "bench" / "results"
        folder.mkdir(exist_ok=True)
        path = folder / f"{datetime.now(UTC):%Y-%m-%d}-{commit()}.md"
        path.write_text(report + "\n# Each benchmark's own report\n" + "".join(details))
        print(f"saved {path.relative_to(ROOT)}", file=sys.stderr)
    failed = [name for name, targets, _ in runs if not targets]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
