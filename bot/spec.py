"""Command declarations: one typed declaration per command, for every platform.

A handler is an async function whose first parameter is the Context; every further parameter
is annotated ``Annotated[<python type>, Opt(<ParamType>, help)]``. A parameter without a default
is required; a keyword-only parameter (after ``*``) is given as ``key=value`` in the text
grammar; ``Opt(..., rest=True)`` on the last positional parameter takes the rest of the line.

    commands = CommandSet()

    @commands.command("profile show", help=N_("Show a member's profile"))
    async def show(ctx: Context,
                   member: Annotated[Member | None, Opt(MemberRef(), N_("Whose profile"))] = None,
                   ) -> Reply: ...
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from bot.grammar import tokenize
from bot.i18n import LazyText
from bot.param_labels import param_label
from bot.ratelimit import RateClass
from bot.reply import Visibility

if TYPE_CHECKING:
    from bot.params import ParamType
    from bot.reply import Reply

Handler = Callable[..., Awaitable["Reply"]]


class Role(IntEnum):
    """Who may run a command; a higher role includes the lower ones."""

    MEMBER = 1
    ANIMATOR = 2  # of the circle named by the command's scope parameter
    ADMIN = 3


@dataclass(frozen=True, slots=True)
class Opt:
    """How a handler parameter is typed for members: its converter and its help."""

    type: ParamType
    help: LazyText
    rest: bool = False
    name: str | None = None  # the name members type, when the Python name cannot be it


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    type: ParamType
    help: LazyText
    required: bool
    default: Any = None
    keyword_only: bool = False
    rest: bool = False
    arg: str = ""  # the handler's argument (defaults to the name)

    @property
    def argument(self) -> str:
        return self.arg or self.name

    @property
    def label(self) -> LazyText | str:
        """What messages call this parameter, translated when shown."""
        return param_label(self.name)

    def usage(self, slash: bool = False) -> str:
        if slash:  # a slash command names every option: /profile set region:…
            return f"{self.name}:…" if self.required else f"[{self.name}:…]"
        shown = f"{self.name}=…" if self.keyword_only else f"<{self.name}>"
        if self.rest:
            shown = f"<{self.name}…>"
        return shown if self.required else f"[{shown}]"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    path: tuple[str, ...]
    handler: Handler
    help: LazyText
    params: tuple[ParamSpec, ...]
    role: Role = Role.MEMBER
    scope: str | None = None  # the parameter naming the circle an animator must lead
    examples: tuple[str, ...] = ()
    hidden: bool = False
    # how its answer is usually shown: a platform that must answer before the command is done
    # (Discord's deferral) keeps an only-you answer only-you
    visibility: Visibility = Visibility.PUBLIC
    # an admin command that changes data is recorded in the audit trail; one that only reads
    # (the trail itself) says so
    read_only: bool = False
    rate: RateClass = RateClass.COMMAND  # which rate limit counts it

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def group(self) -> str:
        return self.path[0]

    def param(self, name: str) -> ParamSpec | None:
        for param in self.params:
            if param.name == name:
                return param
        return None

    @property
    def positional(self) -> tuple[ParamSpec, ...]:
        return tuple(p for p in self.params if not p.keyword_only)

    def usage(self, prefix: str = "!", shown: str | None = None) -> str:
        """``shown``: the command as the platform names it (see bot.discord_shape.usage)."""
        slash = prefix == "/"
        return " ".join([shown or f"{prefix}{self.name}", *(p.usage(slash) for p in self.params)])

    def slash_example(self, example: str, shown: str | None = None) -> str:
        """A typed example (``circle join gent``) as a slash command (``/circle join
        circle:gent``)."""
        words = tokenize(example)[len(self.path) :]
        positional = iter(self.positional)
        said = [shown or f"/{self.name}"]
        for token in words:
            param = self.param(token.key) if token.key else next(positional, None)
            said.append(f"{param.name}:{token.text}" if param else token.text)
        return " ".join(said)


def _params_of(handler: Handler) -> tuple[ParamSpec, ...]:
    signature = inspect.signature(handler)
    hints = typing.get_type_hints(handler, include_extras=True)
    found: list[ParamSpec] = []
    for index, parameter in enumerate(signature.parameters.values()):
        if index == 0:
            continue  # the Context
        hint = hints.get(parameter.name)
        options = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Opt)]
        if len(options) != 1:
            raise TypeError(
                f"{handler.__qualname__}: parameter {parameter.name!r} needs "
                "Annotated[<type>, Opt(<ParamType>, help)]"
            )
        option = options[0]
        required = parameter.default is inspect.Parameter.empty
        found.append(
            ParamSpec(
                name=option.name or parameter.name,
                arg=parameter.name,
                type=option.type,
                help=option.help,
                required=required,
                default=None if required else parameter.default,
                keyword_only=parameter.kind is inspect.Parameter.KEYWORD_ONLY,
                rest=option.rest,
            )
        )
    return tuple(found)


@dataclass
class CommandSet:
    """The declarations of one domain module, added to an app's Registry by the app."""

    specs: list[CommandSpec] = field(default_factory=list)
    groups: dict[tuple[str, ...], LazyText] = field(default_factory=dict)

    def group(self, name: str, *, help: LazyText) -> None:
        """Describe a group of commands (``profile``): Discord shows it in its command list."""
        self.groups[tuple(name.split())] = help

    def command(
        self,
        name: str,
        *,
        help: LazyText,
        role: Role = Role.MEMBER,
        scope: str | None = None,
        examples: tuple[str, ...] = (),
        hidden: bool = False,
        visibility: Visibility = Visibility.PUBLIC,
        read_only: bool = False,
        rate: RateClass = RateClass.COMMAND,
    ) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            self.specs.append(
                CommandSpec(
                    path=tuple(name.split()),
                    handler=handler,
                    help=help,
                    params=_params_of(handler),
                    role=role,
                    scope=scope,
                    examples=examples,
                    hidden=hidden,
                    visibility=visibility,
                    read_only=read_only,
                    rate=rate,
                )
            )
            return handler

        return declare

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self.specs)
