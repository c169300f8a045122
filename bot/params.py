"""Parameter types: each turns typed text into a value (or a translated error) and tells every
platform how to offer it (Discord option type, choices, autocomplete, long text in a modal)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from babel import Locale, UnknownLocaleError

from bot.config import SUPPORTED_LOCALES, Term
from bot.errors import UserError
from bot.i18n import N_, LazyText
from bot.text import closest, fold
from bot.timeparse import YEARS_AHEAD, last_allowed_day, parse_day, parse_when

if TYPE_CHECKING:
    from bot.context import Context
    from storage.identity import Member


class OptionKind(StrEnum):
    """Discord application-command option types that Samen uses."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    USER = "user"
    CHANNEL = "channel"
    ROLE = "role"


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: LazyText | str


class ParamType:
    """Base: text in, value out. Subclasses override ``convert``."""

    kind: ClassVar[OptionKind] = OptionKind.STRING
    # every string option has a limit (a name, a number, a date: 100 is plenty); Discord's
    # option gets it, and the core refuses longer text from every platform
    max_length: int | None = 100
    # a paragraph (a post's details, a pitch, a guide): typed in a modal on Discord; edits
    # keep plain options so that changing one field does not open a form
    long: bool = False

    def choices(self) -> tuple[Choice, ...]:
        """Fixed choices (at most 25), offered as a list by platforms that can."""
        return ()

    @property
    def has_autocomplete(self) -> bool:
        return False

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        return []

    async def convert(self, ctx: Context, raw: str) -> Any:
        raise NotImplementedError


def too_long(length: int, limit: int) -> UserError:
    return UserError(
        N_("That text is {length} characters long; the most is {limit}."),
        length=length,
        limit=limit,
    )


@dataclass(frozen=True)
class Text(ParamType):
    max_length: int | None = 200
    min_length: int = 1
    long: bool = False

    async def convert(self, ctx: Context, raw: str) -> str:
        value = raw.strip()
        if len(value) < self.min_length:
            raise UserError(N_("This cannot be empty."))
        if self.max_length is not None and len(value) > self.max_length:
            raise too_long(len(value), self.max_length)
        return value


@dataclass(frozen=True)
class Integer(ParamType):
    kind: ClassVar[OptionKind] = OptionKind.INTEGER
    minimum: int = 0
    maximum: int = 1_000_000

    async def convert(self, ctx: Context, raw: str) -> int:
        cleaned = raw.strip().lstrip("#")
        if not re.fullmatch(r"[+-]?\d{1,12}", cleaned):
            raise UserError(N_("“{value}” is not a whole number."), value=raw)
        value = int(cleaned)
        if not self.minimum <= value <= self.maximum:
            raise UserError(
                N_("Give a number from {minimum} to {maximum}."),
                minimum=self.minimum,
                maximum=self.maximum,
            )
        return value


_TRUE = {"yes", "y", "true", "1", "on", "ja", "j", "oui", "o", "waar", "vrai"}
_FALSE = {"no", "n", "false", "0", "off", "nee", "non", "onwaar", "faux"}


@dataclass(frozen=True)
class Flag(ParamType):
    kind: ClassVar[OptionKind] = OptionKind.BOOLEAN

    async def convert(self, ctx: Context, raw: str) -> bool:
        word = fold(raw)
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise UserError(N_("Answer yes or no."))


@dataclass(frozen=True)
class OneOf(ParamType):
    """One of a fixed set of values, typed as its key or as its label in the reader's language."""

    options: Mapping[str, LazyText | str]
    aliases: Mapping[str, str] = field(default_factory=dict)  # other words for a key

    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(key, label) for key, label in self.options.items())

    def _label(self, ctx: Context, label: LazyText | str) -> str:
        return ctx.t(label) if isinstance(label, LazyText) else label

    def _words(self, ctx: Context, key: str, label: LazyText | str) -> set[str]:
        """What a member may type for ``key``: the key, or its label in any of the languages
        (a Dutch member typing the French word is understood too), folded."""
        words = {fold(key), fold(self._label(ctx, label))}
        if isinstance(label, LazyText):
            for locale in SUPPORTED_LOCALES:
                words.add(fold(ctx.catalogues.translator(locale, locale)(label)))
        return words

    async def convert(self, ctx: Context, raw: str) -> str:
        wanted = fold(raw)
        for key, label in self.options.items():
            if wanted in self._words(ctx, key, label):
                return key
        if wanted in self.aliases:
            return self.aliases[wanted]
        raise UserError(
            N_("“{value}” is not one of: {choices}."),
            value=raw,
            choices=", ".join(self._label(ctx, label) for label in self.options.values()),
        )


@dataclass(frozen=True)
class TextList(ParamType):
    """Comma-separated items: ``skills="sound engineering, lighting"``."""

    item_length: int = 60
    max_items: int = 20

    max_length: int | None = 1300  # 20 items of 60 characters, with their commas

    async def convert(self, ctx: Context, raw: str) -> tuple[str, ...]:
        items: dict[str, str] = {}
        for part in re.split(r"[,;]", raw):
            item = " ".join(part.split())
            if not item:
                continue
            if len(item) > self.item_length:
                raise too_long(len(item), self.item_length)
            items.setdefault(fold(item), item)
        if len(items) > self.max_items:
            raise UserError(N_("Give at most {limit} items."), limit=self.max_items)
        return tuple(items.values())


@dataclass(frozen=True)
class Vocabulary(ParamType):
    """A term of a list that bot.toml defines (``sectors`` or ``regions``), by key or name."""

    source: str  # the Settings attribute: "sectors" or "regions"
    many: bool = False
    max_length: int | None = 500

    def terms(self, ctx: Context) -> tuple[Term, ...]:
        terms: tuple[Term, ...] = getattr(ctx.settings, self.source)
        return terms

    @property
    def has_autocomplete(self) -> bool:
        return True

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        wanted = fold(partial.split(",")[-1])
        found = [
            Choice(term.key, term.label(ctx.t.locale))
            for term in self.terms(ctx)
            if not wanted or wanted in fold(term.label(ctx.t.locale)) or wanted in term.key
        ]
        return found[:25]

    def _one(self, ctx: Context, raw: str) -> Term:
        for term in self.terms(ctx):
            if term.matches(raw):
                return term
        names = [term.label(ctx.t.locale) for term in self.terms(ctx)]
        guesses = closest(raw, names + [term.key for term in self.terms(ctx)])
        if guesses:
            raise UserError(
                N_("“{value}” is not known. Did you mean {guess}?"),
                value=raw,
                guess=" / ".join(guesses),
            )
        raise UserError(
            N_("“{value}” is not known. Choose from: {choices}."),
            value=raw,
            choices=", ".join(names) or "—",
        )

    async def convert(self, ctx: Context, raw: str) -> Term | tuple[Term, ...]:
        if not self.many:
            return self._one(ctx, raw.strip())
        parts = [part.strip() for part in re.split(r"[,;]", raw) if part.strip()]
        terms = {term.key: term for term in (self._one(ctx, part) for part in parts)}
        return tuple(terms.values())


def _language_names() -> dict[str, str]:
    """Language names in nl, fr and en (and each language's own name) → ISO 639-1 code."""
    names: dict[str, str] = {}
    for reader in SUPPORTED_LOCALES:
        for code, name in Locale.parse(reader).languages.items():
            if len(code) == 2:
                names.setdefault(fold(name), code)
    for code in list(names.values()):
        try:
            own = Locale.parse(code).get_language_name(code)
        except (ValueError, LookupError, UnknownLocaleError):
            continue
        if own:
            names.setdefault(fold(own), code)
    return names


@dataclass(frozen=True)
class Languages(ParamType):
    """Languages spoken, by code or by name in nl, fr or en: ``nl, French, anglais``."""

    max_items: int = 10
    max_length: int | None = 300
    _names: ClassVar[dict[str, str]] = {}

    async def convert(self, ctx: Context, raw: str) -> tuple[str, ...]:
        if not Languages._names:
            Languages._names.update(_language_names())
        codes: dict[str, None] = {}
        for part in re.split(r"[,;]", raw):
            word = fold(part)
            if not word:
                continue
            if word in Languages._names.values():
                codes[word] = None
            elif word in Languages._names:
                codes[Languages._names[word]] = None
            else:
                guesses = closest(word, Languages._names)
                raise UserError(
                    N_("“{value}” is not a language I know. Did you mean {guess}?"),
                    value=part.strip(),
                    guess=" / ".join(guesses) or "nl, fr, en",
                )
        if len(codes) > self.max_items:
            raise UserError(N_("Give at most {limit} items."), limit=self.max_items)
        return tuple(codes)


_DISCORD_MENTION = re.compile(r"^<@!?(\d{5,25})>$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:\S+$")


@dataclass(frozen=True)
class MemberRef(ParamType):
    """A member: a mention, ``#12`` (member number), a platform id, or a unique display name."""

    kind: ClassVar[OptionKind] = OptionKind.USER

    async def convert(self, ctx: Context, raw: str) -> Member:
        from bot.identity import find_member  # the resolver needs storage; kept out of import time

        return find_member(ctx, raw.strip())


def _too_far(ctx: Context, typed: str) -> UserError:
    """A date past what the calendar is asked to hold: say the range that is allowed."""
    today = ctx.now().astimezone(ctx.settings.zone).date()
    return UserError(
        N_(
            "“{value}” is too far ahead: give a date from today up to at most {years} years "
            "ahead ({last})."
        ),
        value=typed,
        years=YEARS_AHEAD,
        last=ctx.t.date(last_allowed_day(today)),
    )


@dataclass(frozen=True)
class Day(ParamType):
    """A calendar day as people type it: 2027-01-31, "31 januari", "in 2 weeks", "vendredi"."""

    allow_past: bool = False
    max_length: int | None = 60

    async def convert(self, ctx: Context, raw: str) -> date:
        day = parse_day(raw, ctx.now(), ctx.settings.zone)
        if day is None:
            raise UserError(
                N_(
                    "I don't understand the date “{value}”. Try 2027-01-31, “31 januari” or "
                    "“in 2 weeks”."
                ),
                value=raw,
            )
        today = ctx.now().astimezone(ctx.settings.zone).date()
        if day < today and not self.allow_past:
            raise UserError(N_("{day} is in the past."), day=ctx.t.date(day))
        if day > last_allowed_day(today):
            raise _too_far(ctx, raw)
        return day


@dataclass(frozen=True, slots=True)
class TypedMoment:
    """A moment as typed; without a time of day (``has_time`` false) ``at`` is midnight, for
    the command to complete (with a meetup format's usual time, for example)."""

    at: datetime
    has_time: bool
    typed_time: str = ""  # a local time that does not exist (spring DST gap), as typed


ASK_TIME = N_("At what time? Add it to the date, for example “{example}”.")


@dataclass(frozen=True)
class When(ParamType):
    """A moment as people type it: "maandag 8:30", "lundi prochain 8h30", "2027-01-11 08:30".

    A date without a time ("morgen") is refused with a question for the time, unless
    ``time_optional``: then the value is a ``TypedMoment`` that says whether a time was given."""

    time_optional: bool = False
    max_length: int | None = 80

    async def convert(self, ctx: Context, raw: str) -> datetime | TypedMoment:
        found = parse_when(raw, ctx.now(), ctx.settings.zone)
        if found is None:
            raise UserError(
                N_(
                    "I don't understand “{value}”. Try “next monday 8:30”, “lundi 8h30” or "
                    "“2027-01-11 08:30”."
                ),
                value=raw,
            )
        moment, has_time = found
        today = ctx.now().astimezone(ctx.settings.zone).date()
        if moment.date() > last_allowed_day(today):
            raise _too_far(ctx, raw)
        if not has_time:
            if moment.date() < today:
                raise UserError(N_("{day} is in the past."), day=ctx.t.date(moment.date()))
            if not self.time_optional:
                raise UserError(ASK_TIME, example=f"{raw.strip()} 8:30")
            return TypedMoment(moment, False)
        # a local time in the spring gap (02:30 when the clocks go from 02:00 to 03:00) does
        # not exist: it becomes the time it means on the clock (03:30), and the answer says so
        real = moment.astimezone(UTC).astimezone(moment.tzinfo)
        typed_time = "" if real.time() == moment.time() else f"{moment:%H:%M}"
        if moment <= ctx.now():
            raise UserError(N_("{moment} is in the past."), moment=ctx.t.datetime(moment, "short"))
        if self.time_optional:
            return TypedMoment(real, True, typed_time)
        return real


_DURATION = re.compile(r"^(?:(\d{1,3})\s*[hu])?\s*(\d{1,4})?\s*(?:m|min|minutes?)?$")


@dataclass(frozen=True)
class Duration(ParamType):
    """A length of time: "90", "90m", "1h30", "2h", "1u30"."""

    max_length: int | None = 20

    async def convert(self, ctx: Context, raw: str) -> int:
        match = _DURATION.match(fold(raw).replace(" ", ""))
        minutes = None
        if match and (match.group(1) or match.group(2)):
            minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if not minutes or not 5 <= minutes <= 24 * 60:
            raise UserError(N_("Give a duration such as 90m, 1h30 or 2h (at most 24h)."))
        return minutes


_ROLE = re.compile(r"^<@&(\d{5,25})>$|^(\d{5,25})$")


@dataclass(frozen=True)
class PlatformRole(ParamType):
    """A role of the platform (a Discord role): given as a mention or its id."""

    kind: ClassVar[OptionKind] = OptionKind.ROLE

    async def convert(self, ctx: Context, raw: str) -> str:
        match = _ROLE.match(raw.strip())
        if not match:
            raise UserError(N_("Name a role, like @sound-circle."))
        return match.group(1) or match.group(2)
