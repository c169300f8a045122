"""The ``samen`` command line: run, console, db upgrade, config check, --version."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import ConfigError, Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


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
    from adapters.console import ConsoleAdapter
    from bot.app import Adapter, App

    settings = _settings(args)
    app = App(settings)
    adapters: list[Adapter] = []
    platforms = settings.configured_platforms
    if "matrix" in platforms:
        from adapters.matrix import MatrixAdapter

        adapters.append(MatrixAdapter(app))
    if "discord" in platforms:
        from adapters.discord_bot import DiscordAdapter

        adapters.append(DiscordAdapter(app))
    if not platforms:
        adapters.append(ConsoleAdapter(app, _console_name(settings, getattr(args, "as_", None))))
    asyncio.run(app.run(adapters))
    return 0


def _console(args: argparse.Namespace) -> int:
    from adapters.console import ConsoleAdapter
    from bot.app import App

    settings = _settings(args)
    app = App(settings)
    asyncio.run(app.run([ConsoleAdapter(app, _console_name(settings, args.as_))]))
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
    print(
        f"{settings.source}: OK — community {settings.community_name!r}, "
        f"locale {settings.default_locale}, zone {settings.timezone}, "
        f"platforms: {', '.join(settings.configured_platforms) or 'console'}, "
        f"{len(registry)} commands"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="samen",
        description="Samen: members of the cooperative find work and each other.",
    )
    top.add_argument("--version", action="version", version=f"samen {__version__}")
    top.add_argument("--config", help="configuration file (default: $SAMEN_CONFIG or ./bot.toml)")
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
        raise


if __name__ == "__main__":
    sys.exit(main())
