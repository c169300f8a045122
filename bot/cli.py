"""The ``samen`` command line: run, console, init, db upgrade, config check, --version."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError

from bot import __version__
from bot.config import (
    DEFAULT_CONFIG_NAME,
    ConfigError,
    Settings,
    builtin_config_text,
    describe_source,
    load_settings,
)

if TYPE_CHECKING:
    from adapters.console import ConsoleAdapter

# the exit status of a console whose output was closed early (128 + SIGPIPE, as a shell has it)
CLOSED_OUTPUT = 141


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _starting(args: argparse.Namespace) -> Settings:
    """The settings of a starting bot, and one line on stderr saying which file was read."""
    settings = _settings(args)
    print(f"samen: {describe_source(settings)}", file=sys.stderr, flush=True)
    return settings


def _console_status(console: ConsoleAdapter) -> int:
    """0 when every command went through; 1 when one was refused (unknown, bad input)."""
    if console.output_closed:
        return CLOSED_OUTPUT
    return 1 if console.failures else 0


def _console_name(settings: Settings, given: str | None) -> str:
    if given:
        return given
    if settings.console.member:
        return settings.console.member
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


def _run(args: argparse.Namespace) -> int:
    from bot.instance import single_instance

    settings = _starting(args)
    with single_instance(settings.storage.url):
        return _run_platforms(settings, args)


def _run_platforms(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.console import ConsoleAdapter
    from bot.app import Adapter, App

    app = App(settings)
    adapters: list[Adapter] = []
    platforms = settings.configured_platforms
    if "matrix" in platforms:
        from adapters.matrix import MatrixAdapter

        adapters.append(MatrixAdapter(app))
    if "discord" in platforms:
        from adapters.discord_bot import DiscordAdapter

        adapters.append(DiscordAdapter(app))
    console: ConsoleAdapter | None = None
    if not platforms:
        console = ConsoleAdapter(app, _console_name(settings, getattr(args, "as_", None)))
        adapters.append(console)
    asyncio.run(app.run(adapters))
    return _console_status(console) if console is not None else 0


def _console(args: argparse.Namespace) -> int:
    from adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.instance import single_instance

    settings = _starting(args)
    with single_instance(settings.storage.url):
        app = App(settings)
        console = ConsoleAdapter(app, _console_name(settings, args.as_))
        asyncio.run(app.run([console]))
        return _console_status(console)


def _init(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.is_dir():
        target = target / DEFAULT_CONFIG_NAME
    if target.exists():
        print(
            f"samen: {target} already exists; it is left as it is "
            "(remove it first, or give another path)",
            file=sys.stderr,
        )
        return 1
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(builtin_config_text())
    except OSError as error:
        print(f"samen: cannot write {target}: {error.strerror}", file=sys.stderr)
        return 1
    print(
        f"wrote {target}: the default configuration, every key explained; "
        f"edit it, then check it with `samen config check`"
    )
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import Database

    settings = _settings(args)
    database = Database(settings.storage.url)
    before = database.current_revision()
    database.upgrade()
    after = database.current_revision()
    print(f"database at {after} (was {before or 'empty'})")
    database.dispose()
    return 0


def _config_check(args: argparse.Namespace) -> int:
    from bot.app import build_registry
    from bot.i18n import Catalogues

    settings = _settings(args)
    registry = build_registry(Catalogues(settings.zone))
    print(describe_source(settings))
    print(
        f"{settings.source}: OK — community {settings.community_name!r}, "
        f"locale {settings.default_locale}, zone {settings.timezone}, "
        f"platforms: {', '.join(settings.configured_platforms) or 'console'}, "
        f"{len(settings.sectors)} sectors, {len(settings.regions)} regions, "
        f"{len(settings.circles)} circles, {len(registry)} commands"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="samen",
        description="Samen: members of the cooperative find work and each other.",
    )
    top.add_argument("--version", action="version", version=f"samen {__version__}")
    top.add_argument(
        "--config",
        help="configuration file (default: $SAMEN_CONFIG, else ./bot.toml, "
        "else the built-in defaults)",
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run", help="start every configured platform (the console when none is configured)"
    )
    run.add_argument("--as", dest="as_", metavar="NAME", help="console member name")
    run.set_defaults(handler=_run)

    console = sub.add_parser("console", help="chat with Samen in this terminal")
    console.add_argument("--as", dest="as_", metavar="NAME", help="speak as member NAME")
    console.set_defaults(handler=_console)

    init = sub.add_parser(
        "init", help="write the default configuration, commented, to a new bot.toml"
    )
    init.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_CONFIG_NAME,
        metavar="PATH",
        help="the file to write, or a folder to write bot.toml in (default: ./bot.toml)",
    )
    init.set_defaults(handler=_init)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="bring the database to the latest schema")
    upgrade.set_defaults(handler=_db_upgrade)

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate the configuration and the commands")
    check.set_defaults(handler=_config_check)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "handler", None):
        parser().print_help()
        return 2
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"samen: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from bot.app import StartupError

        if isinstance(error, StartupError):
            print(f"samen: {error}", file=sys.stderr)
            return 2
        if isinstance(error, OperationalError):
            print(f"samen: {unreachable_database(error)}", file=sys.stderr)
            return 2
        raise


def unreachable_database(error: OperationalError) -> str:
    """The database could not be reached at start-up: what the driver said, in one line."""
    said = str(error.orig or error).strip().splitlines()
    reason = said[0] if said else "no answer"
    return (
        f"cannot reach the database ({reason}). Is it running, and is [storage] url in "
        "bot.toml right? Nothing was changed."
    )


if __name__ == "__main__":
    sys.exit(main())
