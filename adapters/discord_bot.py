"""The Discord adapter (discord.py): the registry compiled into slash commands, interactions
turned into Invocations, Replies rendered as messages, embeds, buttons and modals.

It holds no domain logic. Each declared command becomes an ``app_commands.Command`` whose
callback has a generated signature (discord.py reads ``inspect.signature``); options Discord
cannot type natively travel as strings and are converted, and re-checked, by the core.
Paragraph parameters (a description, a pitch, a guide) are typed in a modal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import logging
import os
from dataclasses import replace
from typing import Any, Optional

import discord
from discord import app_commands

from adapters.discord_render import (
    ASK_PREFIX,
    CUSTOM_ID_PREFIX,
    MENU_PREFIX,
    ActionButton,
    AskButton,
    MenuSelect,
    clip,
    message_parts,
)
from bot.agenda import AgendaItem, upcoming
from bot.app import App, StartupError
from bot.discord_shape import shown_name, slash_admin_only, slash_groups, slash_path
from bot.dispatch import Invocation, Outcome
from bot.i18n import N_, LazyText, normalise_locale
from bot.params import OptionKind
from bot.registry import Registry
from bot.reply import Attachment, Reply, Visibility
from bot.spec import CommandSpec, ParamSpec, Role
from bot.state import AdapterState

log = logging.getLogger(__name__)

# seconds: an answer not ready by then is deferred ("thinking…"), so that every interaction is
# acknowledged within a second whatever the database does (Discord fails it at 3 s); a form
# must open within it too, and suggestions arrive within it or not at all
DEFER_AFTER = 0.6
MAX_DESCRIPTION = 4096  # an embed's description
MIRROR_DAYS = 28
MIRROR_LIMIT = 100
ANNOTATIONS: dict[OptionKind, Any] = {
    OptionKind.STRING: str,
    OptionKind.INTEGER: int,
    OptionKind.BOOLEAN: bool,
    OptionKind.USER: discord.User,
    OptionKind.CHANNEL: discord.abc.GuildChannel,
    OptionKind.ROLE: discord.Role,
}
# A form's custom_id names its command, so that a submit the bot no longer knows (opened
# before a restart, or left open past its timeout) can say which command to run again.
FORM_PREFIX = "samen-form:"
FORM_EXPIRED = N_(
    "This form has expired (it was opened before a restart, or too long ago). "
    "Please run {command} again."
)
FORM_EXPIRED_UNNAMED = N_(
    "This form has expired (it was opened before a restart, or too long ago). "
    "Please run the command again."
)
FORM_TYPED = N_("What you typed:")
BUTTON_EXPIRED = N_("This button no longer works. Please run the command again.")
DISCORD_LOCALES = {
    discord.Locale.dutch: "nl",
    discord.Locale.french: "fr",
    discord.Locale.american_english: "en",
    discord.Locale.british_english: "en",
}


class DiscordSetupError(StartupError):
    """The Discord configuration cannot be used."""


class CatalogueTranslator(app_commands.Translator):
    """Descriptions and choice names in nl, fr, en-US and en-GB from Samen's catalogues."""

    def __init__(self, app: App):
        self.app = app

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        ours = DISCORD_LOCALES.get(locale)
        msgid = string.extras.get("msgid")
        if ours is None or msgid is None:
            return None
        return self.app.catalogues.translator(ours, "en")(LazyText(msgid))


def localized(app: App, message: LazyText | str) -> app_commands.locale_str:
    if isinstance(message, LazyText):
        english = app.catalogues.translator("en", "en")(message)
        return app_commands.locale_str(english, msgid=message.msgid)
    return app_commands.locale_str(message)


def option_value(value: Any, kind: OptionKind) -> str:
    """What the core's converters read: mentions for users and roles, ids for channels (the
    object may be resolved, or only an id when Discord sent no resolved data)."""
    if kind is OptionKind.USER:
        return f"<@{getattr(value, 'id', value)}>"
    if kind is OptionKind.ROLE:
        return f"<@&{getattr(value, 'id', value)}>"
    if kind is OptionKind.CHANNEL:
        return str(getattr(value, "id", value))
    return str(value)


def code_block(text: str) -> str:
    """Typed text shown back as-is (a closing fence inside it cannot end the block)."""
    return "```\n" + text.replace("```", "`\u200b``") + "\n```"


def typed_values(data: Any) -> list[str]:
    """The values a member typed in a modal, from the submit's raw data."""
    values: list[str] = []
    for row in (data or {}).get("components", []):
        for component in row.get("components", []) if "components" in row else [row]:
            value = component.get("value")
            if isinstance(value, str) and value.strip():
                values.append(value)
    return values


def invocation_of(
    interaction: discord.Interaction[Any],
    *,
    command: str | None = None,
    options: dict[str, str] | None = None,
    text: str | None = None,
    shared: bool = False,
    once: bool = True,
) -> Invocation:
    """What the interaction says. ``once``: it carries the interaction's id, so that the
    core runs it once whichever instance gets it (not for a refresh of the same click)."""
    user = interaction.user
    return Invocation(
        platform="discord",
        user_id=str(user.id),
        display_name=user.display_name,
        command=command,
        options=options or {},
        text=text,
        place=str(interaction.channel_id) if interaction.channel_id else None,
        locale=str(interaction.locale),
        is_direct=interaction.guild_id is None,
        shared=shared,
        event_id=str(interaction.id) if once else None,
    )


class ParagraphModal(discord.ui.Modal):
    """Paragraph parameters, typed in a form; submitting it runs the command."""

    def __init__(
        self,
        adapter: DiscordAdapter,
        spec: CommandSpec,
        options: dict[str, str],
        params: list[ParamSpec],
        title: str,
    ):
        super().__init__(
            title=clip(title, 45),
            timeout=900,
            custom_id=f"{FORM_PREFIX}{spec.name}:{os.urandom(8).hex()}",
        )
        self.adapter, self.spec, self.options = adapter, spec, options
        adapter.open_forms.add(self.custom_id)
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        self.labels: dict[str, str] = {}
        for param in params[:5]:
            locale = normalise_locale(options.get("__locale__"))
            self.labels[param.name] = clip(self.adapter.text(param.help, locale), 45)
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=self.labels[param.name],
                style=discord.TextStyle.paragraph,
                required=param.required,
                max_length=min(param.type.max_length or 4000, 4000),
            )
            self.inputs[param.name] = field
            self.add_item(field)

    async def on_timeout(self) -> None:
        self.adapter.open_forms.discard(self.custom_id)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        self.adapter.open_forms.discard(self.custom_id)
        options = {k: v for k, v in self.options.items() if not k.startswith("__")}
        for name, field in self.inputs.items():
            if field.value:
                options[name] = field.value
        await self.adapter.respond(
            interaction,
            invocation_of(interaction, command=self.spec.name, options=options),
            private=self.spec.visibility is not Visibility.PUBLIC,
            typed=tuple(
                (name, self.labels[name], field.value)
                for name, field in self.inputs.items()
                if field.value
            ),
        )


def quoted(text: str) -> str:
    """A typed text as one token of the text grammar, whatever quotes or words are in it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TextModal(discord.ui.Modal):
    """The one text an AskButton asks for; submitting it runs the button's command."""

    def __init__(self, adapter: DiscordAdapter, invocation: str, title: str, label: str):
        command = " ".join(invocation.split()[:2])
        super().__init__(
            title=clip(title, 45),
            timeout=900,
            custom_id=f"{FORM_PREFIX}{command}:{os.urandom(8).hex()}",
        )
        self.adapter, self.invocation, self.label = adapter, invocation, clip(label, 45)
        adapter.open_forms.add(self.custom_id)
        self.field: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=self.label, style=discord.TextStyle.paragraph, max_length=1000
        )
        self.add_item(self.field)

    async def on_timeout(self) -> None:
        self.adapter.open_forms.discard(self.custom_id)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        self.adapter.open_forms.discard(self.custom_id)
        text = self.field.value
        await self.adapter.on_action(
            interaction,
            self.invocation.replace("{}", quoted(text)),
            typed=(("answer", self.label, text),),
        )


class SamenClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, **options: Any):
        super().__init__(intents=discord.Intents.default(), **options)
        self.samen = adapter
        self.tree = app_commands.CommandTree(self)

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        # called while the interaction is parsed, right after discord.py looked for its modal
        # or button: what it knows now is what it will run
        if event == "interaction":
            self.samen.answer_if_unknown(args[0])
        super().dispatch(event, *args, **kwargs)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton, AskButton, MenuSelect)
        await self.tree.set_translator(CatalogueTranslator(self.samen.app))
        self.samen.build_tree(self.tree)
        await self.samen.sync_commands(self.tree)

    async def on_ready(self) -> None:
        self.samen.schedule_mirror()

    async def on_message(self, message: discord.Message) -> None:
        """Members talk in channels and threads: an open discussion topic's thread counts it
        (the core decides which place is one)."""
        if message.author.bot or message.guild is None:
            return
        await self.samen.app.dispatcher.place_message(
            "discord", str(message.channel.id), str(message.id)
        )


class DiscordAdapter:
    platform = "discord"

    def __init__(self, app: App, **client_options: Any):
        self.app = app
        self.settings = app.settings.discord
        self.state = AdapterState(app.database, self.platform)
        self.client = SamenClient(self, **client_options)
        self.synced = 0
        self._mirror_task: asyncio.Task[None] | None = None
        self._mirror_again = False
        self.open_forms: set[str] = set()  # the custom_ids of the modals this process opened
        self._answering: set[asyncio.Task[None]] = set()
        self._exits: contextlib.AsyncExitStack | None = None
        app.notifier.register(self)
        if self.settings.mirror_events:
            app.dispatcher.listen("meetups", self.schedule_mirror)

    def text(self, message: LazyText | str, locale: str | None = None) -> str:
        t = self.app.catalogues.translator(locale, self.app.settings.default_locale)
        return t(message) if isinstance(message, LazyText) else message

    # -- the command tree -------------------------------------------------------------------

    def build_tree(self, tree: app_commands.CommandTree[Any]) -> None:
        registry: Registry = self.app.registry
        groups: dict[tuple[str, ...], app_commands.Group] = {}
        for path, help_text in slash_groups(registry).items():  # parents first
            parent = groups.get(path[:-1])
            groups[path] = app_commands.Group(
                name=path[-1],
                description=localized(self.app, help_text),
                parent=parent,
                # a hint for Discord's menu only (top level only): the core checks the role
                default_permissions=(
                    discord.Permissions(manage_guild=True)
                    if parent is None and slash_admin_only(registry, path)
                    else None
                ),
            )
        for spec in registry:
            path = slash_path(registry, spec)
            parent = groups.get(path[:-1])
            command = self.compile(spec, parent, path[-1])
            if parent is not None:
                parent.add_command(command)
            else:
                tree.add_command(command)
        for path, group in groups.items():
            if len(path) == 1:
                tree.add_command(group)

    def compile(
        self, spec: CommandSpec, parent: app_commands.Group | None, name: str | None = None
    ) -> app_commands.Command[Any, ..., None]:
        adapter = self
        options = [p for p in spec.params if not p.type.long]
        paragraphs = [p for p in spec.params if p.type.long]

        async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
            given = {
                param.name: option_value(values[param.argument], param.type.kind)
                for param in options
                if values.get(param.argument) is not None
            }
            if paragraphs:
                asked = invocation_of(interaction, command=spec.name, options=given)
                if not await adapter.app.dispatcher.claimed(asked):
                    return  # another delivery of this interaction opens the form
                # refuse a wrong option or a missing right before the member types a text
                problem = await adapter.early_check(asked, tuple(p.name for p in paragraphs))
                if problem is not None:
                    await interaction.response.send_message(
                        ephemeral=True, **adapter.parts(problem)
                    )
                    return
                given["__locale__"] = str(interaction.locale)
                title = adapter.text(spec.help, str(interaction.locale)[:2])
                await interaction.response.send_modal(
                    ParagraphModal(adapter, spec, given, paragraphs, title)
                )
                return
            await adapter.respond(
                interaction,
                invocation_of(interaction, command=spec.name, options=given),
                private=spec.visibility is not Visibility.PUBLIC,
            )

        parameters = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for param in sorted(options, key=lambda p: not p.required):
            annotation = ANNOTATIONS[param.type.kind]
            limit = param.type.max_length
            if param.type.kind is OptionKind.STRING and limit and not param.type.choices():
                # Discord refuses longer text before it reaches us; the core checks it too
                low = getattr(param.type, "min_length", 1) or 1
                annotation = app_commands.Range[str, low, min(limit, 6000)]
            parameters.append(
                inspect.Parameter(
                    param.argument,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=annotation if param.required else Optional[annotation],  # noqa: UP045
                    default=inspect.Parameter.empty if param.required else None,
                )
            )
        callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            p.argument: localized(self.app, p.help) for p in options
        }
        callback.__discord_app_commands_param_rename__ = {  # type: ignore[attr-defined]
            p.argument: p.name for p in options if p.argument != p.name
        }
        callback.__discord_app_commands_param_choices__ = {  # type: ignore[attr-defined]
            p.argument: [
                app_commands.Choice(name=localized(self.app, c.label), value=c.value)
                for c in p.type.choices()
            ]
            for p in options
            if p.type.choices()
        }
        callback.__discord_app_commands_param_autocomplete__ = {  # type: ignore[attr-defined]
            p.argument: self._autocompleter(spec, p)
            for p in options
            if p.type.has_autocomplete and not p.type.choices()
        }
        # Names stay English on every platform: one name that help, examples and other
        # platforms show (``/meetup new`` is ``!meetup new`` on Matrix); descriptions are
        # translated (nl, fr) by the CatalogueTranslator.
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=name or spec.path[-1],
            description=localized(self.app, spec.help),
            callback=callback,
            parent=parent,
        )
        if spec.role is Role.ADMIN and parent is None:
            # a hint for Discord's menu only: the core still checks who is an admin
            command.default_permissions = discord.Permissions(manage_guild=True)
        return command

    async def early_check(self, invocation: Invocation, later: tuple[str, ...]) -> Reply | None:
        """The core's check of the options and the role, before a form is opened; within
        Discord's answer budget (a form cannot follow a deferral): when the check is slow,
        the form opens and the real run checks it all again."""
        try:
            async with asyncio.timeout(DEFER_AFTER):  # not wait_for: see bot/workers.py
                return await self.app.dispatcher.check(invocation, later=later)
        except TimeoutError:
            return None

    def _autocompleter(self, spec: CommandSpec, param: ParamSpec) -> Any:
        async def suggest(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            try:
                async with asyncio.timeout(DEFER_AFTER):  # not wait_for: see bot/workers.py
                    pairs = await self.app.dispatcher.autocomplete(
                        invocation_of(interaction, command=spec.name), param.name, current
                    )
            except TimeoutError:  # the database is busy: no suggestions rather than none late
                pairs = []
            return [
                app_commands.Choice(name=clip(label, 100), value=value) for label, value in pairs
            ]

        return suggest

    async def payload(self, tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
        """The JSON that tree.sync() sends, with the translations in it."""
        translator = tree.translator
        return [
            await command.get_translated_payload(tree, translator)  # type: ignore[arg-type]
            for command in tree.get_commands()
        ]

    async def sync_commands(self, tree: app_commands.CommandTree[Any]) -> None:
        """Send the commands to each guild, only when they changed since the last time."""
        body = json.dumps(await self.payload(tree), sort_keys=True, ensure_ascii=False)
        # the same commands for another application (a new bot token) must be synced too
        body = f"{self.client.application_id}:{body}"
        digest = hashlib.sha256(body.encode()).hexdigest()
        for guild_id in self.settings.guild_ids or (0,):
            key = f"commands_hash:{guild_id}"
            if await asyncio.to_thread(self.state.get, key) == digest:
                continue
            guild = discord.Object(id=guild_id) if guild_id else None
            if guild is not None:
                tree.copy_global_to(guild=guild)
            await tree.sync(guild=guild)
            self.synced += 1
            await asyncio.to_thread(self.state.set, key, digest)

    # -- interactions ---------------------------------------------------------------------------

    def answer_if_unknown(self, interaction: discord.Interaction[Any]) -> None:
        """A form or a button this process does not know would otherwise get no answer at all
        ("This interaction failed"): say what happened and what to do, only to the member."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id") or "")
        if interaction.type is discord.InteractionType.modal_submit:
            if custom_id in self.open_forms:
                return
        elif interaction.type is discord.InteractionType.component:
            if custom_id.startswith((CUSTOM_ID_PREFIX, ASK_PREFIX, MENU_PREFIX)):
                return  # a dynamic item: its command is in its custom_id
        else:
            return
        task = asyncio.get_running_loop().create_task(self._answer_unknown(interaction, data))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer_unknown(
        self, interaction: discord.Interaction[Any], data: dict[str, Any]
    ) -> None:
        if not await self.app.dispatcher.claimed(invocation_of(interaction)):
            return  # another delivery of this interaction was answered
        locale = normalise_locale(str(interaction.locale))
        custom_id = str(data.get("custom_id") or "")
        if interaction.type is discord.InteractionType.component:
            text = self.text(BUTTON_EXPIRED, locale)
        else:
            name = custom_id.removeprefix(FORM_PREFIX).rpartition(":")[0]
            if custom_id.startswith(FORM_PREFIX) and self.app.registry.get(name) is not None:
                spec = self.app.registry.get(name)
                assert spec is not None
                shown = shown_name(self.app.registry, spec, "/")
                text = self.text(FORM_EXPIRED, locale).format(command=shown)
            else:
                text = self.text(FORM_EXPIRED_UNNAMED, locale)
            typed = typed_values(data)
            if typed:
                text += "\n" + self.text(FORM_TYPED, locale)
                room = 2000 - len(text) - len(typed) * 9
                for value in typed:
                    text += "\n" + code_block(clip(value, max(room // len(typed), 20)))
        try:
            await interaction.response.send_message(clip(text, 2000), ephemeral=True)
        except discord.HTTPException:
            log.exception("answering an unknown %s failed", interaction.type)

    async def respond(
        self,
        interaction: discord.Interaction[Any],
        invocation: Invocation,
        *,
        private: bool,
        typed: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        """Dispatch; answer at once, or defer and follow up if the core takes longer. The
        deferral is only-you when the command's answer usually is (``private``), and the
        follow-up keeps the answer's own visibility."""
        task = asyncio.ensure_future(self.app.dispatcher.run(invocation))
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
        if not done:
            await interaction.response.defer(ephemeral=private, thinking=True)
        outcome = await task
        if outcome.dropped:
            return  # handled already (another delivery of this interaction)
        try:
            reply = self._with_typed(outcome.reply, typed, str(interaction.locale))
            if not done:
                hidden = reply.visibility is not Visibility.PUBLIC
                if hidden and not private:  # the public "thinking…" must not show it
                    await interaction.delete_original_response()
                await interaction.followup.send(ephemeral=hidden or private, **self.parts(reply))
            else:
                await interaction.response.send_message(
                    ephemeral=reply.visibility is not Visibility.PUBLIC, **self.parts(reply)
                )
        finally:
            await outcome.follow_up()  # the notifications, once the answer is out

    def _with_typed(
        self, reply: Reply, typed: tuple[tuple[str, str, str], ...], locale: str
    ) -> Reply:
        """An error after a modal gives back, whole, what was typed in it (name, label,
        text), so that it is not lost: in code blocks under the error when it all fits in an
        embed's description, otherwise as a .txt file for each text."""
        if not reply.is_error or not typed:
            return reply
        heading = self.text(FORM_TYPED, normalise_locale(locale))
        shown = reply.text + "\n\n" + heading
        for _, label, value in typed:
            shown += f"\n**{label}**\n" + code_block(value)
        if len(shown) <= MAX_DESCRIPTION and "```" not in "".join(v for _, _, v in typed):
            return replace(reply, text=shown)
        files = tuple(
            Attachment(f"{name}.txt", value.encode(), "text/plain; charset=utf-8")
            for name, _, value in typed
        )
        return replace(reply, text=reply.text + "\n\n" + heading, attachments=files)

    async def on_ask(
        self, interaction: discord.Interaction[Any], invocation: str, title: str, label: str
    ) -> None:
        """A button that asks for a text first: its form."""
        await interaction.response.send_modal(TextModal(self, invocation, title, label))

    async def on_action(
        self,
        interaction: discord.Interaction[Any],
        invocation: str,
        typed: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        """A button, a menu or a form: the command it stands for, as the member who used it;
        the message it was on is refreshed when the answer says how. A slow click is deferred
        like a command; an error after a form gives back what was typed."""
        task = asyncio.ensure_future(self._action(interaction, invocation))
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
        if not done:
            await interaction.response.defer()  # a component: "deferred message update"
        outcome, fresh = await task
        if outcome.dropped:
            return  # handled already (another delivery of this click)
        reply = self._with_typed(outcome.reply, typed, str(interaction.locale))
        try:
            if not done:
                if fresh is not None:
                    await interaction.edit_original_response(**self.parts(fresh, edit=True))
                await interaction.followup.send(ephemeral=True, **self.parts(reply))
            elif fresh is not None:
                await interaction.response.edit_message(**self.parts(fresh, edit=True))
                await interaction.followup.send(ephemeral=True, **self.parts(reply))
            else:
                await interaction.response.send_message(ephemeral=True, **self.parts(reply))
        finally:
            await outcome.follow_up()  # the notifications, once the answer is out

    async def _action(
        self, interaction: discord.Interaction[Any], invocation: str
    ) -> tuple[Outcome, Reply | None]:
        """The clicker's answer (its notifications not sent yet), and the shared message's
        new content (in the place's language, with nothing personal in it), when the answer
        asks for a refresh."""
        outcome = await self.app.dispatcher.run(invocation_of(interaction, text=invocation))
        reply = outcome.reply
        if outcome.dropped or not reply.refresh or reply.is_error or interaction.message is None:
            return outcome, None
        fresh = await self.app.dispatcher.dispatch(
            invocation_of(interaction, text=reply.refresh, shared=True, once=False)
        )
        return outcome, fresh

    def parts(self, reply: Reply, *, edit: bool = False) -> dict[str, Any]:
        mentions = ""
        if reply.mentions:
            ids = self.state.platform_ids(list(reply.mentions))
            mentions = " ".join(f"<@{user_id}>" for user_id in ids.values())
        parts = message_parts(reply, mentions)
        if edit:
            parts.pop("files", None)
            parts.setdefault("embed", None)
        return parts

    # -- the Notifier's side ----------------------------------------------------------------------

    async def send_direct(
        self, platform_user_id: str, reply: Reply, key: str | None = None
    ) -> bool:
        try:
            user = self.client.get_user(int(platform_user_id)) or await self.client.fetch_user(
                int(platform_user_id)
            )
            await user.send(**self.parts(reply), **self._nonce(key))
            return True
        except discord.Forbidden:  # direct messages closed: mention them in their circle
            place = self.fallback_place(platform_user_id)
            if place is None:
                return False
            return await self.send_to_place(
                place,
                Reply(
                    title=reply.title,
                    text=reply.text,
                    fields=reply.fields,
                    actions=reply.actions,
                    menus=reply.menus,
                    attachments=reply.attachments,
                ),
                key,
                mention=platform_user_id,
            )
        except discord.HTTPException:
            log.exception("direct message to %s failed", platform_user_id)
            return False

    def fallback_place(self, platform_user_id: str) -> str | None:
        return self.state.member_place(platform_user_id)

    async def send_to_place(
        self, place_id: str, reply: Reply, key: str | None = None, mention: str | None = None
    ) -> bool:
        try:
            channel = self.client.get_channel(int(place_id)) or await self.client.fetch_channel(
                int(place_id)
            )
            parts = self.parts(reply)
            if mention:
                parts["content"] = f"<@{mention}> {parts.get('content') or ''}".strip()
            await channel.send(**parts, **self._nonce(key))  # type: ignore[union-attr]
            return True
        except discord.HTTPException:
            log.exception("message to channel %s failed", place_id)
            return False

    @staticmethod
    def _nonce(key: str | None) -> dict[str, Any]:
        """Discord drops a message whose nonce it saw moments ago (an idempotency key)."""
        if not key:
            return {}
        return {"nonce": hashlib.sha256(key.encode()).hexdigest()[:25]}

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        """Channels are open to the guild: a circle's members get (or lose) its role; a topic's
        thread gets the member added."""
        if not role_id:
            return await self._add_to_thread(place_id, platform_user_id) if grant else False
        try:
            channel = self.client.get_channel(int(place_id)) or await self.client.fetch_channel(
                int(place_id)
            )
            guild_id = getattr(channel, "guild", None) and channel.guild.id  # type: ignore[union-attr]
            if not guild_id:
                return False
            if grant:
                await self.client.http.add_role(
                    guild_id, int(platform_user_id), int(role_id), reason="Samen: joined the circle"
                )
            else:
                await self.client.http.remove_role(
                    guild_id, int(platform_user_id), int(role_id), reason="Samen: left the circle"
                )
            return True
        except discord.HTTPException:
            log.exception("role %s for %s failed", role_id, platform_user_id)
            return False

    async def _add_to_thread(self, thread_id: str, platform_user_id: str) -> bool:
        try:
            channel = self.client.get_channel(int(thread_id)) or await self.client.fetch_channel(
                int(thread_id)
            )
            if not isinstance(channel, discord.Thread):
                return False
            await channel.add_user(discord.Object(id=int(platform_user_id)))
            return True
        except discord.HTTPException:
            log.exception("adding %s to thread %s failed", platform_user_id, thread_id)
            return False

    async def open_place(
        self, home_place_id: str, title: str, reply: Reply, platform_user_ids: list[str]
    ) -> str | None:
        """A discussion topic's public thread in the channel (its circle's, or where it was
        proposed), its first message, and its members added."""
        if not home_place_id:
            return ""  # proposed in a direct message, and no circle channel: listed only
        try:
            channel = self.client.get_channel(
                int(home_place_id)
            ) or await self.client.fetch_channel(int(home_place_id))
            if not isinstance(channel, discord.TextChannel):
                return ""
            thread = await channel.create_thread(
                name=clip(title, 100), type=discord.ChannelType.public_thread
            )
            await thread.send(**self.parts(reply))
            for user_id in platform_user_ids:
                await thread.add_user(discord.Object(id=int(user_id)))
            return str(thread.id)
        except discord.HTTPException:
            log.exception("opening a thread for %r in %s failed", title, home_place_id)
            return None

    # -- meetups mirrored as Discord scheduled events -------------------------------------------

    def schedule_mirror(self) -> None:
        """Bring the guild's scheduled events in line with Samen's meetups (soon, once)."""
        if not self.settings.mirror_events or not self.settings.guild_ids:
            return
        if self._mirror_task is not None and not self._mirror_task.done():
            self._mirror_again = True
            return
        self._mirror_task = asyncio.get_running_loop().create_task(self.mirror())

    async def mirror(self) -> None:
        """Samen's data stays the truth: events are created, edited and deleted to match the
        next MIRROR_DAYS of meetups, one event per date, at most MIRROR_LIMIT (Discord's
        limit of 100 per guild)."""
        while True:
            self._mirror_again = False
            try:
                await self._mirror_once()
            except discord.HTTPException:
                log.exception("mirroring meetups to Discord failed")
            if not self._mirror_again:
                return

    async def _mirror_once(self) -> None:
        guild_id = self.settings.guild_ids[0]
        coming = await asyncio.to_thread(
            upcoming, self.app.database, self.app.clock.now(), MIRROR_DAYS, MIRROR_LIMIT
        )
        wanted = {item.key: item for item in coming}
        stored = await asyncio.to_thread(self.state.get, "events")
        known: dict[str, list[str]] = json.loads(stored or "{}")
        http = self.client.http
        for key, (event_id, signature) in list(known.items()):
            item = wanted.get(key)
            if item is None:
                await http.delete_scheduled_event(
                    guild_id, int(event_id), reason="Samen: cancelled or past"
                )
                del known[key]
            elif item.signature() != signature:
                await http.edit_scheduled_event(guild_id, int(event_id), **self._event(item))
                known[key] = [event_id, item.signature()]
        for key, item in wanted.items():
            if key not in known:
                created = await http.create_guild_scheduled_event(guild_id, **self._event(item))
                known[key] = [str(created["id"]), item.signature()]
        await asyncio.to_thread(self.state.set, "events", json.dumps(known))

    @staticmethod
    def _event(item: AgendaItem) -> dict[str, Any]:
        return {
            "name": clip(item.title, 100),
            "description": clip(item.description, 1000) or None,
            "scheduled_start_time": item.start.isoformat(),
            "scheduled_end_time": item.end.isoformat(),
            "entity_type": 3,  # external: a place, not a voice channel
            "entity_metadata": {"location": clip(item.location, 100)},
            "privacy_level": 2,  # guild only
        }

    # -- running --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Log in, hold the gateway until cancelled, log out (one instance: bot/ownership.py
        does the three steps itself when several may run)."""
        await self.start()
        try:
            await self.listen()
        finally:
            await self.close()

    async def start(self) -> None:
        """Log in over HTTP and sync the commands (every instance: each can send
        notifications)."""
        token = os.environ.get(self.settings.token_env, "")
        if not token:
            raise DiscordSetupError(f"set ${self.settings.token_env} to the bot's token")
        self._exits = contextlib.AsyncExitStack()
        await self._exits.enter_async_context(self.client)
        await self.client.login(token)

    async def listen(self) -> None:
        """The gateway connection, only in the instance that owns it: interactions arrive
        here. Cancelled (another instance owns it now), it closes the gateway session, so
        that Discord sends the interactions to the new owner's."""
        try:
            await self.client.connect()
        finally:
            ws = self.client.ws
            if ws is not None and not self.client.is_closed():
                with contextlib.suppress(Exception):
                    await ws.close(code=1000)

    async def close(self) -> None:
        await self.client.close()
        if self._exits is not None:
            await self._exits.aclose()
            self._exits = None
