"""Samen is installed under one distinct name, ``samen``: it puts no ``bot``, ``commands``,
``adapters``, ``storage`` or ``scheduler`` on the environment's import path, and another
distribution's package of such a name cannot take the place of Samen's own."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_cli import run_process as run
from tests.test_cli import samen

ROOT = Path(__file__).resolve().parent.parent
GENERIC_NAMES = ("bot", "commands", "adapters", "storage", "scheduler")


def test_other_programs_do_not_see_samens_generic_packages(tmp_path: Path) -> None:
    probe = (
        "import importlib.util\n"
        f"for name in {GENERIC_NAMES!r}:\n"
        "    print(name, importlib.util.find_spec(name) is not None)\n"
        "print('samen.bot', importlib.util.find_spec('samen.bot').origin)\n"
    )
    done = run([sys.executable, "-c", probe], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[: len(GENERIC_NAMES)] == [f"{name} False" for name in GENERIC_NAMES]
    assert lines[-1].startswith("samen.bot ") and lines[-1].endswith("__init__.py")


def test_another_distributions_bot_package_does_not_replace_samens(tmp_path: Path) -> None:
    other = tmp_path / "other-site"
    for name in GENERIC_NAMES:
        (other / name).mkdir(parents=True)
        (other / name / "__init__.py").write_text(
            f"raise ImportError('the other {name} package was imported')\n", encoding="utf-8"
        )
    workdir = tmp_path / "work"
    workdir.mkdir()

    checked = samen("config", "check", cwd=workdir, env={"PYTHONPATH": str(other)})
    assert checked.returncode == 0, checked.stderr
    assert "the other" not in checked.stderr

    answered = samen("console", cwd=workdir, stdin="!help\n", env={"PYTHONPATH": str(other)})
    assert answered.returncode == 0, answered.stderr
    assert "> !help" in answered.stdout
    assert "profile" in answered.stdout

    theirs = run([sys.executable, "-c", "import bot"], cwd=workdir, env={"PYTHONPATH": str(other)})
    assert "the other bot package was imported" in theirs.stderr


@pytest.mark.slow
def test_the_wheel_holds_only_the_samen_package(tmp_path: Path) -> None:
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("samen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"samen"}
    assert "samen/bot/default.toml" in names
    assert any(name.startswith("samen/storage/migrations/versions/") for name in names)
    assert any(name.endswith("nl/LC_MESSAGES/samen.po") for name in names)
