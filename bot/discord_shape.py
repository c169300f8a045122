"""The application-command payload that Discord receives for the registry, and a check of it
against Discord's limits. Pure data (no discord import): the Discord adapter builds the same
shape through discord.py, and the tests compare and snapshot it."""

from __future__ import annotations

import re
from typing import Any

from bot.i18n import Catalogues, LazyText
from bot.params import OptionKind, ParamType
from bot.registry import Registry
from bot.spec import CommandSpec

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
OPTION_TYPES = {
    OptionKind.STRING: 3,
    OptionKind.INTEGER: 4,
    OptionKind.BOOLEAN: 5,
    OptionKind.USER: 6,
    OptionKind.CHANNEL: 7,
    OptionKind.ROLE: 8,
}
# Discord's locale names for the languages Samen speaks.
DISCORD_LOCALES = {"nl": "nl", "fr": "fr", "en-US": "en", "en-GB": "en"}
NAME = re.compile(r"^[-_\w]{1,32}$")


def _texts(catalogues: Catalogues, message: LazyText | str) -> tuple[str, dict[str, str]]:
    if not isinstance(message, LazyText):
        return message, {}
    english = catalogues.translator("en", "en")(message)
    localized = {
        discord: catalogues.translator(ours, "en")(message)
        for discord, ours in DISCORD_LOCALES.items()
    }
    return english, localized


def _option(
    catalogues: Catalogues, name: str, kind: ParamType, help_text: LazyText, required: bool
) -> dict[str, Any]:
    description, localized = _texts(catalogues, help_text)
    option: dict[str, Any] = {
        "type": OPTION_TYPES[kind.kind],
        "name": name,
        "description": description,
        "description_localizations": localized,
        "required": required,
    }
    choices = kind.choices()
    if choices:
        option["choices"] = []
        for choice in choices:
            label, label_localized = _texts(catalogues, choice.label)
            option["choices"].append(
                {"name": label, "name_localizations": label_localized, "value": choice.value}
            )
    elif kind.has_autocomplete:
        option["autocomplete"] = True
    if kind.kind is OptionKind.STRING and kind.max_length and not choices:
        option["min_length"] = getattr(kind, "min_length", 1) or 1
        option["max_length"] = min(kind.max_length, 6000)
    return option


def _leaf(catalogues: Catalogues, spec: CommandSpec, name: str) -> dict[str, Any]:
    description, localized = _texts(catalogues, spec.help)
    return {
        "name": name,
        "description": description,
        "description_localizations": localized,
        "options": [
            _option(catalogues, p.name, p.type, p.help, p.required)
            for p in spec.params
            if not p.type.long  # paragraphs are typed in a modal, not as options
        ],
    }


def command_payload(registry: Registry, catalogues: Catalogues) -> list[dict[str, Any]]:
    """The list that ``PUT /applications/{id}/commands`` would receive."""
    groups = registry.groups()
    top: dict[str, dict[str, Any]] = {}
    for spec in registry:
        path = spec.path
        if len(path) == 1:
            top[path[0]] = {"type": 1, **_leaf(catalogues, spec, path[0])}
            continue
        root = top.setdefault(path[0], _group(catalogues, path[:1], groups, kind=None))
        parent = root
        for depth in range(1, len(path) - 1):
            existing = {o["name"]: o for o in parent["options"]}
            if path[depth] not in existing:
                child = _group(catalogues, path[: depth + 1], groups, kind=SUB_COMMAND_GROUP)
                parent["options"].append(child)
                existing[path[depth]] = child
            parent = existing[path[depth]]
        parent["options"].append({"type": SUB_COMMAND, **_leaf(catalogues, spec, path[-1])})
    return [top[name] for name in sorted(top)]


def _group(
    catalogues: Catalogues,
    path: tuple[str, ...],
    groups: dict[tuple[str, ...], LazyText],
    kind: int | None,
) -> dict[str, Any]:
    description, localized = _texts(catalogues, groups[path])
    group: dict[str, Any] = {
        "name": path[-1],
        "description": description,
        "description_localizations": localized,
        "options": [],
    }
    if kind is None:
        group["type"] = 1
    else:
        group["type"] = kind
    return group


def limit_problems(payload: list[dict[str, Any]]) -> list[str]:
    """Every way in which the payload breaks Discord's rules (empty when it fits)."""
    problems: list[str] = []
    if len(payload) > 100:
        problems.append(f"{len(payload)} top-level commands (at most 100)")

    def check_described(where: str, item: dict[str, Any]) -> None:
        if not NAME.match(item["name"]) or item["name"] != item["name"].lower():
            problems.append(f"{where}: name {item['name']!r} is not 1–32 lower-case characters")
        texts = [item["description"], *item.get("description_localizations", {}).values()]
        for text in texts:
            if not 1 <= len(text) <= 100:
                problems.append(f"{where}: description {text!r} is not 1–100 characters")

    def walk(where: str, item: dict[str, Any], depth: int) -> None:
        check_described(where, item)
        options = item.get("options", [])
        if len(options) > 25:
            problems.append(f"{where}: {len(options)} options (at most 25)")
        subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if subs and len(subs) != len(options):
            problems.append(f"{where}: mixes subcommands and options")
        if subs:
            for sub in subs:
                if sub["type"] == SUB_COMMAND_GROUP and depth >= 1:
                    problems.append(f"{where}: groups nest deeper than two levels")
                walk(f"{where} {sub['name']}", sub, depth + 1)
            return
        seen_optional = False
        names: set[str] = set()
        for option in options:
            at = f"{where} [{option['name']}]"
            check_described(at, option)
            if option["name"] in names:
                problems.append(f"{at}: option named twice")
            names.add(option["name"])
            if option.get("required") and seen_optional:
                problems.append(f"{at}: required option after an optional one")
            seen_optional = seen_optional or not option.get("required")
            choices = option.get("choices", [])
            if len(choices) > 25:
                problems.append(f"{at}: {len(choices)} choices (at most 25)")
            if choices and option.get("autocomplete"):
                problems.append(f"{at}: choices and autocomplete together")
            for choice in choices:
                for text in [choice["name"], *choice.get("name_localizations", {}).values()]:
                    if not 1 <= len(text) <= 100:
                        problems.append(f"{at}: choice {text!r} is not 1–100 characters")

    for command in payload:
        walk(f"/{command['name']}", command, 0)
    return problems
