"""Settings: bot.toml loaded once into frozen, typed settings.

Secrets never live in the file: the file names the environment variables that hold them.
A wrong key or value stops start-up with a ``ConfigError`` that names the file, the key and
what is expected.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from bot.levels import Hierarchy, hierarchy_problem
from bot.text import fold

LocaleCode = Literal["nl", "fr", "en"]
SUPPORTED_LOCALES: tuple[str, ...] = ("nl", "fr", "en")
CONFIG_ENV = "SAMEN_CONFIG"
DEFAULT_CONFIG_NAME = "bot.toml"
# The default configuration shipped inside the package (the repository's bot.toml, kept
# identical by a test): used when no bot.toml is found, and written by `samen init`.
BUILTIN_CONFIG = "default.toml"
BUILTIN_SOURCE = "<built-in defaults>"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(_Section):
    """One entry of a controlled vocabulary (a sector, a region), named in each language."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    nl: Annotated[str, Field(min_length=1, max_length=60)]
    fr: Annotated[str, Field(min_length=1, max_length=60)]
    en: Annotated[str, Field(min_length=1, max_length=60)]

    def label(self, locale: str) -> str:
        return str(getattr(self, locale, self.en))

    def matches(self, text: str) -> bool:
        wanted = fold(text)
        return wanted in {fold(self.key), fold(self.nl), fold(self.fr), fold(self.en)}


class LevelTerm(Term):
    """A sector or a region, which may roll up into a broader one of the same list (its
    ``parent``): a city into its province, a province into its region, then the country and
    Europe; a sector into a family of sectors. See bot/levels.py."""

    parent: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None = None


class MeetupFormat(Term):
    """A meetup format; ``time`` is its usual start ("08:30"), used when a date has no time."""

    time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = None


class CircleSeed(_Section):
    """A circle created at start-up when it does not exist yet."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    kind: Literal["sector", "theme", "region"]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(max_length=1000)] = ""


class VenueSeed(_Section):
    """A venue created at start-up when it does not exist yet."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    address: Annotated[str, Field(max_length=200)] = ""
    city: Annotated[str, Field(max_length=80)] = ""
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    accessibility: Annotated[str, Field(max_length=1000)] = ""
    online_link: Annotated[str, Field(max_length=300)] = ""


class StorageSettings(_Section):
    url: Annotated[str, Field(min_length=1)] = "sqlite:///samen.db"
    echo_sql: bool = False
    # commands run in this many worker threads, off the event loop (SQLite has one writer)
    workers: Annotated[int, Field(ge=1, le=64)] = 4
    # a command not done by then (waiting for the database) is answered "busy, try again"
    command_timeout_seconds: Annotated[float, Field(ge=0.1, le=300)] = 10.0


class ConsoleSettings(_Section):
    enabled: bool = True
    member: str = ""
    files_dir: str = "samen-files"


class MatrixSettings(_Section):
    enabled: bool = False
    homeserver: str = ""
    user_id: str = ""
    password_env: str = "SAMEN_MATRIX_PASSWORD"
    access_token_env: str = "SAMEN_MATRIX_TOKEN"
    allowed_servers: tuple[str, ...] = ()
    allowed_rooms: tuple[str, ...] = ()
    admin_room: str = ""
    prefix: str = ""


class DiscordSettings(_Section):
    enabled: bool = False
    token_env: str = "SAMEN_DISCORD_TOKEN"
    guild_ids: tuple[int, ...] = ()
    admin_channel_id: int = 0
    mirror_events: bool = False


class LimitSettings(_Section):
    commands_burst: Annotated[int, Field(ge=1, le=10_000)] = 30
    commands_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 60
    publish_burst: Annotated[int, Field(ge=1, le=1_000)] = 5
    publish_per_hour: Annotated[int, Field(ge=1, le=100_000)] = 30


class FollowupSettings(_Section):
    """The follow-up of the network (issue 12): reports, "did it work out?", the weekly digest."""

    # a count below this shows as "<N" outside an animator's own circle (and to members)
    privacy_threshold: Annotated[int, Field(ge=1, le=1000)] = 5
    # "did it work out?": asked this many days after an introduction, a response or a filled
    # slot; asked once more after reminder_days; "unknown" after give_up_days more
    ask_after_days: Annotated[int, Field(ge=1, le=90)] = 7
    ask_reminder_days: Annotated[int, Field(ge=1, le=30)] = 3
    ask_give_up_days: Annotated[int, Field(ge=1, le=30)] = 4
    # the weekly digest of every circle: day and local hour (timezone above)
    digest_weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 9


class Settings(_Section):
    """Everything bot.toml can say, with the defaults a fresh checkout runs on."""

    community_name: Annotated[str, Field(min_length=1, max_length=80)] = "Samen"
    default_locale: LocaleCode = "nl"
    timezone: str = "Europe/Brussels"
    prefix: Annotated[str, Field(min_length=1, max_length=3)] = "!"
    admins: tuple[Annotated[str, Field(pattern=r"^(console|matrix|discord):.+$")], ...] = ()
    link_code_minutes: Annotated[int, Field(ge=1, le=1440)] = 10
    storage: StorageSettings = StorageSettings()
    console: ConsoleSettings = ConsoleSettings()
    matrix: MatrixSettings = MatrixSettings()
    discord: DiscordSettings = DiscordSettings()
    limits: LimitSettings = LimitSettings()
    followup: FollowupSettings = FollowupSettings()
    sectors: tuple[LevelTerm, ...] = ()
    regions: tuple[LevelTerm, ...] = ()
    circles: tuple[CircleSeed, ...] = ()
    post_validity_days: Annotated[int, Field(ge=1, le=365)] = 30
    expiry_warning_days: Annotated[int, Field(ge=1, le=30)] = 3
    digest_interval_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    default_reminders: Annotated[
        str, Field(pattern=r"^\s*\d+\s*[mhdw](\s*,\s*\d+\s*[mhdw])*\s*$")
    ] = "1d,1h"
    reminder_grace_minutes: Annotated[int, Field(ge=0, le=10080)] = 120
    reminder_group_threshold: Annotated[int, Field(ge=2, le=1000)] = 5
    reminder_lease_seconds: Annotated[int, Field(ge=1, le=3600)] = 20
    waitlist_offer_hours: Annotated[int, Field(ge=1, le=168)] = 12
    # a proposed discussion topic gets a place of its own (a thread, a room) once this many
    # members support it (its author included), or when an animator accepts it
    topic_support_threshold: Annotated[int, Field(ge=1, le=1000)] = 3
    formats: tuple[MeetupFormat, ...] = ()
    venues: tuple[VenueSeed, ...] = ()
    source: str = Field(default="<defaults>", exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"an IANA time zone such as Europe/Brussels, not {value!r}") from exc
        return value

    @field_validator("sectors", "regions", "circles", "formats", "venues")
    @classmethod
    def _unique_keys(
        cls, terms: tuple[Term, ...] | tuple[CircleSeed, ...] | tuple[VenueSeed, ...]
    ) -> tuple[Term, ...] | tuple[CircleSeed, ...] | tuple[VenueSeed, ...]:
        seen: set[str] = set()
        for term in terms:
            if term.key in seen:
                raise ValueError(f"each key once; {term.key!r} appears twice")
            seen.add(term.key)
        return terms

    @field_validator("sectors", "regions")
    @classmethod
    def _known_parents(cls, terms: tuple[LevelTerm, ...]) -> tuple[LevelTerm, ...]:
        problem = hierarchy_problem(terms)
        if problem:
            raise PydanticCustomError("hierarchy", problem)
        return terms

    @cached_property
    def region_levels(self) -> Hierarchy:
        """The regions as a tree: a city, its province, region, country, Europe."""
        return Hierarchy(self.regions)

    @cached_property
    def sector_levels(self) -> Hierarchy:
        """The sectors as a tree: a sector and the family it rolls up into."""
        return Hierarchy(self.sectors)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_admin(self, platform: str, platform_user_id: str) -> bool:
        return f"{platform}:{platform_user_id}" in self.admins

    def platform_prefix(self, platform: str) -> str:
        if platform == "matrix" and self.matrix.prefix:
            return self.matrix.prefix
        if platform == "discord":  # slash commands: usage hints show /profile set
            return "/"
        return self.prefix

    @property
    def configured_platforms(self) -> tuple[str, ...]:
        return tuple(name for name in ("matrix", "discord") if getattr(self, name).enabled)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The file to read: an explicit path, else $SAMEN_CONFIG, else ./bot.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_CONFIG_NAME)


def builtin_config_text() -> str:
    """The commented default bot.toml shipped with the package."""
    return resources.files("bot").joinpath(BUILTIN_CONFIG).read_text(encoding="utf-8")


def describe_source(settings: Settings) -> str:
    """Which configuration was read, in one line for the operator."""
    if settings.source == BUILTIN_SOURCE:
        return f"no {DEFAULT_CONFIG_NAME} found, using the built-in defaults"
    return f"configuration read from {Path(settings.source).resolve()}"


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ())) or "(top level)"
    kind = str(error.get("type", ""))
    message = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        message = "unknown key (check its spelling; bot.toml documents every key)"
    elif message.startswith("Value error, "):
        message = "expected " + message.removeprefix("Value error, ")
    given = error.get("input")
    shown = (
        ""
        if kind in ("extra_forbidden", "missing") or isinstance(given, dict | list | tuple)
        else (f" (got {given!r})")
    )
    return f"key `{location}`: {message}{shown}"


def parse_settings(data: dict[str, object], source: str) -> Settings:
    try:
        return Settings.model_validate({**data, "source": source})
    except ValidationError as exc:
        problems = "\n  ".join(_describe(dict(err)) for err in exc.errors())
        raise ConfigError(f"{source}: invalid configuration:\n  {problems}") from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate the configuration file; without ./bot.toml (and no file named
    explicitly), the default configuration shipped in the package is used."""
    file = config_path(path)
    explicit = bool(path) or CONFIG_ENV in os.environ
    if not file.exists():
        if explicit:
            raise ConfigError(f"{file}: configuration file not found")
        return parse_settings(tomllib.loads(builtin_config_text()), BUILTIN_SOURCE)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read: {exc.strerror}") from None
    if "source" in data:
        raise ConfigError(f"{file}: key `source`: unknown key")
    return parse_settings(data, str(file))
