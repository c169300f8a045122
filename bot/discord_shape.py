"""The application-command payload that Discord receives for the registry, and a check of it
against Discord's limits. Pure data (no discord import): the Discord adapter builds the same
shape through discord.py, and the tests compare and snapshot it."""

from __future__ import annotations

import re
from typing import Any

from bot.i18n import N_, Catalogues, LazyText
from bot.params import OptionKind, ParamType
from bot.registry import Registry
from bot.spec import CommandSpec, Role

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


# Discord hides a command from those without a permission (default_member_permissions) only
# for a top-level command or group; an admin command in a group open to members is offered
# under /admin instead: ``circle animator add`` is ``/admin circle animator-add``. The core
# still checks who is an admin. This is the one place that decides a command's slash path.
ADMIN_GROUP = "admin"
ADMIN_HELP = N_("Commands for the community's admins")


def _admin_only(registry: Registry, top: str) -> bool:
    return all(spec.role is Role.ADMIN for spec in registry if spec.path[0] == top)


def slash_path(registry: Registry, spec: CommandSpec) -> tuple[str, ...]:
    """The names Discord knows the command by."""
    path = spec.path
    if spec.role is not Role.ADMIN or len(path) == 1 or _admin_only(registry, path[0]):
        return path
    return (ADMIN_GROUP, path[0], "-".join(path[1:]))


def slash_groups(registry: Registry) -> dict[tuple[str, ...], LazyText]:
    """Every group of the slash commands with its description (parents first)."""
    declared = registry.groups()
    found: dict[tuple[str, ...], LazyText] = {}
    for spec in registry:
        path = slash_path(registry, spec)
        for size in range(1, len(path)):
            prefix = path[:size]
            if prefix == (ADMIN_GROUP,):
                found[prefix] = ADMIN_HELP
            elif prefix[0] == ADMIN_GROUP:
                found[prefix] = declared[prefix[1:]]
            else:
                found[prefix] = declared[prefix]
    return dict(sorted(found.items(), key=lambda item: (len(item[0]), item[0])))


def slash_admin_only(registry: Registry, path: tuple[str, ...]) -> bool:
    """A top-level slash group (or command) whose every command is for admins: Discord
    shows it only to members who may manage the server (a hint; the core checks)."""
    specs = [s for s in registry if slash_path(registry, s)[: len(path)] == path]
    return bool(specs) and all(s.role is Role.ADMIN for s in specs)


def shown_name(registry: Registry, spec: CommandSpec, prefix: str) -> str:
    """The command as a member types it: ``!circle create``, ``/admin circle create``."""
    if prefix == "/":
        return "/" + " ".join(slash_path(registry, spec))
    return prefix + spec.name


def usage(registry: Registry, spec: CommandSpec, prefix: str) -> str:
    """The usage hint, with the name the platform registered."""
    return spec.usage(prefix, shown_name(registry, spec, prefix))


def example(registry: Registry, spec: CommandSpec, typed: str, prefix: str) -> str:
    """A declared example (``circle join gent``) as typed on the platform."""
    if prefix == "/":
        return spec.slash_example(typed, shown_name(registry, spec, prefix))
    return prefix + typed


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
    groups = slash_groups(registry)
    top: dict[str, dict[str, Any]] = {}
    for spec in registry:
        path = slash_path(registry, spec)
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
