"""The text grammar shared by Matrix and the console.

    !group command positional key=value "quoted text" key="quoted value"

Command names are case-insensitive; only the last parameter may take the rest of the line.
Quotes are ``"…"``, ``“…”`` and ``«…»``; apostrophes are ordinary letters (``l'atelier``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.i18n import N_
from bot.text import closest

if TYPE_CHECKING:
    # bind() only reads a spec it is handed; bot.spec imports this module for tokenize()
    from bot.spec import CommandSpec

_OPENING = {'"': '"', "“": "”", "„": "“", "«": "»"}
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,31})=")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    key: str | None = None  # set for key=value tokens (the key, lower-case)
    quoted: bool = False


def tokenize(line: str) -> list[Token]:
    tokens: list[Token] = []
    index, length = 0, len(line)
    while index < length:
        while index < length and line[index].isspace():
            index += 1
        if index >= length:
            break
        key: str | None = None
        if match := _KEY.match(line, index):
            key = match.group(1).lower().replace("-", "_")
            index = match.end()
        buffer: list[str] = []
        quoted = False
        while index < length and not line[index].isspace():
            char = line[index]
            if char in _OPENING:
                closing = _OPENING[char]
                end = index + 1
                part: list[str] = []
                while end < length and line[end] != closing:
                    if line[end] == "\\" and end + 1 < length and line[end + 1] in (closing, "\\"):
                        end += 1
                    part.append(line[end])
                    end += 1
                if end >= length:
                    raise UserError(
                        N_("A quote is not closed: add the closing {quote}."), quote=closing
                    )
                buffer.extend(part)
                quoted = True
                index = end + 1
            else:
                buffer.append(char)
                index += 1
        tokens.append(Token("".join(buffer), key, quoted))
    return tokens


def bind(spec: CommandSpec, tokens: list[Token]) -> dict[str, str]:
    """Give each parameter its raw text, or raise a UserError (shown with the usage)."""
    values: dict[str, str] = {}
    names = {param.name: param for param in spec.params}
    positional = list(spec.positional)
    rest_words: list[str] = []
    for token in tokens:
        if token.key is not None:
            param = names.get(token.key)
            if param is None:
                guesses = closest(token.key, names)
                if guesses:
                    raise UserError(
                        N_("Unknown key “{key}”. Did you mean {guess}?"),
                        key=token.key,
                        guess=" / ".join(f"{g}=" for g in guesses),
                        show_usage=True,
                    )
                raise UserError(N_("Unknown key “{key}”."), key=token.key, show_usage=True)
            if param.name in values:
                raise UserError(N_("“{key}” is given twice."), key=param.name, show_usage=True)
            values[param.name] = token.text
            if param in positional:
                positional.remove(param)
            continue
        while positional and positional[0].name in values:
            positional.pop(0)
        if not positional:
            raise UserError(
                N_("Too many values: I don't know what “{value}” is for."),
                value=token.text,
                show_usage=True,
            )
        param = positional[0]
        if param.rest:
            rest_words.append(token.text)
            continue
        values[param.name] = token.text
        positional.pop(0)
    if rest_words:
        rest_param = next(p for p in spec.params if p.rest)
        if rest_param.name in values:
            raise UserError(N_("“{key}” is given twice."), key=rest_param.name, show_usage=True)
        values[rest_param.name] = " ".join(rest_words)
    missing = tuple(p.label for p in spec.params if p.required and p.name not in values)
    if missing:
        raise UserError(N_("Missing: {names}."), names=missing, show_usage=True)
    return values
