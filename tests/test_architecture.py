"""The core never imports a platform library: only adapters/ may import discord or nio."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ("bot", "commands", "storage", "scheduler")
PLATFORM_LIBRARIES = {"discord", "nio"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


@pytest.mark.parametrize("package", CORE)
def test_core_packages_do_not_import_platform_libraries(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & PLATFORM_LIBRARIES)
        for path in (ROOT / package).rglob("*.py")
        if _imported_roots(path) & PLATFORM_LIBRARIES
    }
    assert offenders == {}


def test_commands_do_not_import_adapters() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("commands", "storage", "scheduler")
        for path in (ROOT / package).rglob("*.py")
        if "adapters" in _imported_roots(path)
    ]
    assert offenders == []


def test_the_check_itself_sees_a_platform_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import discord.ext\nfrom nio import AsyncClient\n", encoding="utf-8")
    assert _imported_roots(sample) >= {"discord", "nio"}
