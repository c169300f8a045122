"""The ``samen`` command line, run as a member or an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from tests.conftest import PostgresServer

MIGRATIONS = Path(__file__).parent.parent / "storage" / "migrations" / "versions"

ROOT = Path(__file__).resolve().parent.parent
SAMEN = Path(sys.executable).with_name("samen")


def run_process(
    command: list[str], cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command as an operator would, without the caller's SAMEN_CONFIG."""
    environment = {**os.environ, **(env or {})}
    environment.pop("SAMEN_CONFIG", None)
    environment.update(env or {})
    return subprocess.run(
        command,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


def samen(
    *args: str,
    cwd: Path,
    stdin: str = "",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return run_process([str(SAMEN), *args], cwd=cwd, stdin=stdin, env=env)


def console(workdir: Path, user: str, lines: list[str], *, returncode: int = 0) -> str:
    """What the console prints when ``user`` types ``lines``; it exits with ``returncode``
    (1: a command failed) and without a traceback."""
    result = samen("console", "--as", user, cwd=workdir, stdin="\n".join(lines) + "\n")
    assert result.returncode == returncode, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "bot.toml").write_text((ROOT / "bot.toml").read_text(encoding="utf-8"))
    return tmp_path


def test_version_and_help(workdir: Path) -> None:
    assert samen("--version", cwd=workdir).stdout.strip() == f"samen {__version__}"
    for command in (["run"], ["console"], ["init"], ["db", "upgrade"], ["config", "check"]):
        result = samen(*command, "--help", cwd=workdir)
        assert result.returncode == 0
        assert "usage: samen" in result.stdout


def test_console_with_piped_commands_on_a_fresh_sqlite_file(workdir: Path) -> None:
    out = console(
        workdir,
        "Alice",
        [
            "!help",
            '!profile set region=Gent sectors=audiovisual skills="sound engineering"',
            "!profile show",
            "!members find sector=audiovisual",
            "!nonsense",
        ],
        returncode=1,  # !nonsense failed
    )
    assert out.startswith("> !help\nWat Samen voor je kan doen")
    assert "> !nonsense\nIk ken het commando" in out
    assert "Profiel bewaard" in out
    assert "Alice (#1) · Audiovisueel · Gent · sound engineering" in out
    assert "1 lid gevonden" in out
    assert "Ik ken het commando “nonsense” niet" in out
    assert (workdir / "samen.db").exists()


def test_run_starts_the_console_when_no_platform_is_configured(workdir: Path) -> None:
    result = samen("run", "--as", "bob", cwd=workdir, stdin="!profile show\n")
    assert result.returncode == 0, result.stderr
    assert "bob (#1)" in result.stdout


def test_console_switches_member_with_as(workdir: Path) -> None:
    script = "!profile set region=namur\n:as Carla\n!members find region=namur\n"
    result = samen("console", "--as", "dirk", cwd=workdir, stdin=script)
    assert "1 lid gevonden" in result.stdout
    assert "dirk (#1)" in result.stdout


def test_a_console_scenario_with_three_members(workdir: Path) -> None:
    """A circle is created and joined; A posts a need; B posts a matching offer and A is
    notified; C responds, A accepts and both get the other's contact; A closes with C."""
    (workdir / "bot.toml").write_text(
        (ROOT / "bot.toml")
        .read_text(encoding="utf-8")
        .replace('admins = ["console:admin"]', 'admins = ["console:anna"]')
    )
    out = console(
        workdir,
        "anna",
        [
            "!profile set locale=en",
            '!circle create sound sector "Sound people"',
            "!circle join sound",
            "!need post Sound engineer for Friday sector=audiovisual region=gent tags=sound",
            ":as bert",
            "!profile set locale=en",
            "!circle join sound",
            "!offer post Sound engineer with mixing desk sector=audiovisual region=gent tags=sound",
            ":as carl",
            "!profile set locale=en",
            "!circle join sound",
            "!board respond 1 I can do it",
            ":as anna",
            "!board intro 1 accept",
            "!board close 1 outcome=found_in_community with=carl",
            "!board show 1",
        ],
    )
    assert "Circle Sound people created" in out
    assert "🔔 → anna\nA new offer may fit your need #1" in out
    assert "🔔 → anna\ncarl can help with your need #1" in out
    assert "Introduction: carl" in out
    assert "Console: carl" in out
    assert "🔔 → carl\nIntroduction: anna" in out
    assert "Post #1 closed: found in the community." in out
    assert "closed · found in the community" in out


def test_db_upgrade_and_config_check(workdir: Path) -> None:
    upgraded = samen("db", "upgrade", cwd=workdir)
    assert upgraded.returncode == 0, upgraded.stderr
    newest = sorted(p.name[:4] for p in MIGRATIONS.glob("[0-9]*.py"))[-1]
    assert f"database at {newest} (was empty)" in upgraded.stdout
    checked = samen("config", "check", cwd=workdir)
    assert checked.returncode == 0
    assert "OK" in checked.stdout
    assert "commands" in checked.stdout


def test_an_unreachable_database_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    # a port nothing listens on: PostgreSQL "down"
    (tmp_path / "bot.toml").write_text('[storage]\nurl = "postgresql://samen@127.0.0.1:9/samen"\n')
    for args in (("db", "upgrade"), ("console",), ("run",)):
        stopped = samen(*args, cwd=tmp_path, stdin="!help\n")
        assert stopped.returncode == 2, (args, stopped.stderr)
        assert "cannot reach the database" in stopped.stderr
        assert "Traceback" not in stopped.stderr


def test_a_bad_configuration_stops_start_up_with_file_and_key(workdir: Path) -> None:
    (workdir / "bad.toml").write_text('default_locale = "de"\n[storage]\nurll = "x"\n')
    result = samen("run", cwd=workdir, env={"SAMEN_CONFIG": str(workdir / "bad.toml")})
    assert result.returncode == 2
    assert "bad.toml" in result.stderr
    assert "`default_locale`" in result.stderr
    assert "`storage.urll`: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_run_refuses_a_postgres_database_that_is_not_upgraded(
    workdir: Path, postgres: PostgresServer
) -> None:
    database_url = postgres.new_database()
    (workdir / "pg.toml").write_text(f'[storage]\nurl = "{database_url}"\n')
    env = {"SAMEN_CONFIG": str(workdir / "pg.toml")}
    refused = samen("run", cwd=workdir, env=env, stdin="!help\n")
    assert refused.returncode == 2
    assert "samen db upgrade" in refused.stderr
    assert samen("db", "upgrade", cwd=workdir, env=env).returncode == 0
    ran = samen("run", "--as", "pg", cwd=workdir, env=env, stdin="!profile show\n")
    assert "pg (#1)" in ran.stdout


def test_outside_a_checkout_the_built_in_defaults_are_used(tmp_path: Path) -> None:
    script = "!profile set sectors=audiovisual region=gent\n!circle list\n"
    result = samen("console", "--as", "Alice", cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Alice (#1) · Audiovisueel · Gent" in result.stdout
    assert "Kies uit" not in result.stdout
    assert "Podiumkunsten · Arts de la scène" in result.stdout  # a seeded circle
    assert "no bot.toml found, using the built-in defaults" in result.stderr
    checked = samen("config", "check", cwd=tmp_path)
    assert checked.returncode == 0
    assert "no bot.toml found, using the built-in defaults" in checked.stdout
    assert "13 sectors, 22 regions, 10 circles" in checked.stdout


def test_start_up_and_config_check_say_which_file_was_read(workdir: Path) -> None:
    started = samen("console", "--as", "ann", cwd=workdir, stdin="!profile show\n")
    assert f"configuration read from {workdir.resolve() / 'bot.toml'}" in started.stderr
    assert started.stderr.count("\n") == 1  # one line
    (workdir / "other.toml").write_text('community_name = "Coop"\n')
    checked = samen("--config", "other.toml", "config", "check", cwd=workdir)
    assert f"configuration read from {workdir.resolve() / 'other.toml'}" in checked.stdout
    assert "community 'Coop'" in checked.stdout


def test_init_writes_the_commented_default_and_never_overwrites(tmp_path: Path) -> None:
    written = samen("init", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    config = tmp_path / "bot.toml"
    assert config.read_text(encoding="utf-8") == (ROOT / "bot.toml").read_text(encoding="utf-8")
    assert "# The language for members who have not chosen one" in config.read_text()
    checked = samen("config", "check", cwd=tmp_path)
    assert f"configuration read from {config.resolve()}" in checked.stdout
    config.write_text('community_name = "Mine"\n')
    again = samen("init", cwd=tmp_path)
    assert again.returncode == 1
    assert "bot.toml already exists" in again.stderr
    assert config.read_text() == 'community_name = "Mine"\n'
    elsewhere = samen("init", "conf/samen.toml", cwd=tmp_path)
    assert elsewhere.returncode == 1
    assert "cannot write conf/samen.toml" in elsewhere.stderr
    (tmp_path / "conf").mkdir()
    assert samen("init", "conf", cwd=tmp_path).returncode == 0
    assert (tmp_path / "conf" / "bot.toml").exists()
    assert "Traceback" not in written.stderr + again.stderr + elsewhere.stderr


def test_a_piped_console_echoes_each_line_and_fails_when_a_command_failed(
    workdir: Path,
) -> None:
    good = samen("console", "--as", "eva", cwd=workdir, stdin="!help\n!profile show\n")
    assert good.returncode == 0, good.stderr
    assert "> !help\n" in good.stdout
    assert good.stdout.index("> !profile show\n") < good.stdout.index("eva (#1)")
    unknown = samen("console", "--as", "eva", cwd=workdir, stdin="!help\n!bogus\n")
    assert unknown.returncode == 1
    assert "> !bogus\nIk ken het commando “bogus” niet" in unknown.stdout
    bad_input = samen("console", "--as", "eva", cwd=workdir, stdin="!profile set sectors=cooking\n")
    assert bad_input.returncode == 1
    assert "Kies uit" in bad_input.stdout
    run = samen("run", "--as", "eva", cwd=workdir, stdin="!bogus\n")
    assert run.returncode == 1


def test_a_console_whose_output_is_closed_stops_quietly(workdir: Path) -> None:
    (workdir / "script.txt").write_text("!help\n" * 40)
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"'{SAMEN}' console --as eva < script.txt | head -1"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout == "> !help\n"
    assert "Traceback" not in result.stderr
    assert "BrokenPipe" not in result.stderr
    assert result.returncode == 141  # the shell's status for a closed pipe, not a crash


def test_the_readme_tells_a_newcomer_the_language_the_admins_and_the_database() -> None:
    import tomllib

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    defaults = tomllib.loads((ROOT / "bot.toml").read_text(encoding="utf-8"))
    assert f'default_locale = "{defaults["default_locale"]}"' in readme
    assert "!profile set locale=fr" in readme
    assert f'admins = ["{defaults["admins"][0]}"]' in readme
    assert f'url = "{defaults["storage"]["url"]}"' in readme
    assert "samen init" in readme and "built-in defaults" in readme


# This checkout's code, whatever checkout the installed `samen` points to (an editable install)
HERE = [sys.executable, "-c", "import sys; from bot.launch import main; sys.exit(main())"]


def test_a_second_samen_on_the_same_sqlite_file_is_refused(workdir: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("SAMEN_CONFIG", None)
    first = subprocess.Popen(
        [*HERE, "console", "--as", "ann"],
        cwd=workdir,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert first.stdin is not None and first.stdout is not None
    try:
        first.stdin.write("!profile show\n")
        first.stdin.flush()
        assert first.stdout.readline() == "> !profile show\n"  # it runs, its input kept open
        for command in (["console", "--as", "bob"], ["run", "--as", "bob"]):
            second = run_process(
                [*HERE, *command], cwd=workdir, stdin="!help\n", env={"PYTHONPATH": str(ROOT)}
            )
            assert second.returncode == 2, second.stdout + second.stderr
            database = (workdir / "samen.db").absolute()
            assert (
                f"samen: Another Samen is already running on {database}. SQLite supports one "
                "running instance; use PostgreSQL (database url in bot.toml) to run several."
            ) in second.stderr
            assert second.stdout == ""
            assert "Traceback" not in second.stderr
        # one-shot commands do not take the lock
        checked = run_process(
            [*HERE, "config", "check"], cwd=workdir, env={"PYTHONPATH": str(ROOT)}
        )
        assert checked.returncode == 0, checked.stderr
    finally:
        first.stdin.close()
        assert first.wait(timeout=60) == 0
        first.stdout.close()
        assert first.stderr is not None
        first.stderr.close()
    # once the first has stopped, the file is free again
    again = run_process(
        [*HERE, "console", "--as", "bob"],
        cwd=workdir,
        stdin="!profile show\n",
        env={"PYTHONPATH": str(ROOT)},
    )
    assert again.returncode == 0, again.stderr
    assert "bob (#2)" in again.stdout
