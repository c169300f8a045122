"""The Registry: every declared command, checked once against every platform's rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from bot.errors import UserError
from bot.i18n import N_, Catalogues, LazyText
from bot.spec import CommandSet, CommandSpec, Role
from bot.text import closest

# Discord's limits for application commands (and so for every platform).
NAME_PATTERN = re.compile(r"^[-_a-z0-9]{1,32}$")
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_SUBCOMMANDS = 25
MAX_TOP_LEVEL = 100
MAX_DEPTH = 3  # group → subgroup → command


class DeclarationError(Exception):
    """A command declaration that some platform could not offer."""


class Registry:
    def __init__(self, catalogues: Catalogues):
        self._catalogues = catalogues
        self._commands: dict[tuple[str, ...], CommandSpec] = {}
        self.group_help: dict[tuple[str, ...], LazyText] = {}

    def include(self, commands: CommandSet | Iterable[CommandSpec]) -> None:
        if isinstance(commands, CommandSet):
            for path, help_text in commands.groups.items():
                self._check_description(f"group {' '.join(path)!r}", help_text)
                self.group_help[path] = help_text
        for spec in commands:
            self.add(spec)

    def groups(self) -> dict[tuple[str, ...], LazyText]:
        """Every group (a name that has commands under it) with its description."""
        found: dict[tuple[str, ...], LazyText] = {}
        for path in self._commands:
            for size in range(1, len(path)):
                prefix = path[:size]
                if prefix not in self.group_help:
                    raise DeclarationError(f"group {' '.join(prefix)!r} has no description")
                found[prefix] = self.group_help[prefix]
        return found

    def add(self, spec: CommandSpec) -> None:
        self._check(spec)
        self._commands[spec.path] = spec
        self._check_tree()

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(sorted(self._commands.values(), key=lambda s: s.path))

    def __len__(self) -> int:
        return len(self._commands)

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(tuple(name.lower().split()))

    def match(self, words: list[str]) -> tuple[CommandSpec, int] | None:
        """The longest command name at the start of ``words``, and how many words it used."""
        lowered = [w.lower() for w in words[:MAX_DEPTH]]
        for size in range(len(lowered), 0, -1):
            spec = self._commands.get(tuple(lowered[:size]))
            if spec is not None:
                return spec, size
        return None

    def unknown(self, words: list[str]) -> UserError:
        said = " ".join(words[:2]).lower()
        names = [spec.name for spec in self._commands.values() if not spec.hidden]
        guesses = (closest(said, names) or closest(words[0].lower(), names)) if words else []
        if guesses:
            return UserError(
                N_("I don't know the command “{command}”. Did you mean {guess}? Say !help."),
                command=said,
                guess=" / ".join(guesses),
            )
        return UserError(N_("I don't know the command “{command}”. Say !help."), command=said)

    # -- validation -----------------------------------------------------------------------

    def _texts(self, message: LazyText) -> list[str]:
        return [self._catalogues.translator(code, "en")(message) for code in ("nl", "fr", "en")]

    def _check_description(self, where: str, message: LazyText) -> None:
        for text in self._texts(message):
            if not 1 <= len(text) <= MAX_DESCRIPTION:
                raise DeclarationError(
                    f"{where}: description must be 1–{MAX_DESCRIPTION} characters in every "
                    f"language; {text!r} has {len(text)}"
                )

    def _check(self, spec: CommandSpec) -> None:
        where = f"command {spec.name!r}"
        if not 1 <= len(spec.path) <= MAX_DEPTH:
            raise DeclarationError(f"{where}: a name has one to {MAX_DEPTH} words")
        for word in spec.path:
            if not NAME_PATTERN.match(word):
                raise DeclarationError(f"{where}: {word!r} does not match {NAME_PATTERN.pattern}")
        if spec.path in self._commands:
            raise DeclarationError(f"{where}: declared twice")
        self._check_description(where, spec.help)
        if len(spec.params) > MAX_OPTIONS:
            raise DeclarationError(f"{where}: more than {MAX_OPTIONS} parameters")
        seen_optional = False
        for index, param in enumerate(spec.params):
            at = f"{where}, parameter {param.name!r}"
            if not NAME_PATTERN.match(param.name):
                raise DeclarationError(f"{at}: name does not match {NAME_PATTERN.pattern}")
            self._check_description(at, param.help)
            if param.required and seen_optional:
                raise DeclarationError(f"{at}: required parameters come before optional ones")
            seen_optional = seen_optional or not param.required
            if len(param.type.choices()) > MAX_CHOICES:
                raise DeclarationError(f"{at}: more than {MAX_CHOICES} choices")
            for choice in param.type.choices():
                label = choice.label
                texts = self._texts(label) if isinstance(label, LazyText) else [label]
                if any(not 1 <= len(t) <= MAX_DESCRIPTION for t in texts):
                    raise DeclarationError(f"{at}: choice label {label!r} is not 1–100 long")
            if param.rest and (
                index != len(spec.params) - 1
                and not all(p.keyword_only for p in spec.params[index + 1 :])
            ):
                raise DeclarationError(f"{at}: only the last positional parameter takes the rest")
            if param.rest and param.keyword_only:
                raise DeclarationError(f"{at}: a keyword-only parameter cannot take the rest")
        if spec.role is Role.ANIMATOR and (spec.scope is None or spec.param(spec.scope) is None):
            raise DeclarationError(f"{where}: an animator command names its circle parameter")

    def _check_tree(self) -> None:
        paths = set(self._commands)
        for path in paths:
            for size in range(1, len(path)):
                if path[:size] in paths:
                    raise DeclarationError(
                        f"{' '.join(path[:size])!r} is a command and also a group of "
                        f"{' '.join(path)!r}; Discord allows one or the other"
                    )
        top = {path[0] for path in paths}
        if len(top) > MAX_TOP_LEVEL:
            raise DeclarationError(f"more than {MAX_TOP_LEVEL} top-level commands")
        children: dict[tuple[str, ...], set[str]] = {}
        for path in paths:
            for size in range(1, len(path)):
                children.setdefault(path[:size], set()).add(path[size])
        for parent, names in children.items():
            if len(names) > MAX_SUBCOMMANDS:
                raise DeclarationError(f"group {' '.join(parent)!r}: more than 25 subcommands")
