"""Dispatch: an Invocation in, a Reply out.

resolve the command → resolve the actor (a Member, created on first contact) → check the role
→ convert the parameters → run the handler in one transaction, in a worker thread off the event
loop (bot/workers.py: bounded, "busy, try again" past a timeout) → show the answer (the adapter's
``answer`` callback) → only then send the notifications and invitations it queued, and only
if the transaction committed. A UserError becomes a short translated answer with the
usage; anything else is logged with its context and answered with an apology. Either way the
transaction is rolled back, so a failed command writes nothing.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.context import Context
from bot.discord_shape import example, usage
from bot.errors import PermissionDenied, UserError
from bot.grammar import Token, bind, tokenize
from bot.i18n import N_, Catalogues, LazyText, Translator, normalise_locale
from bot.identity import SeenTracker, resolve_actor
from bot.notifier import Invitation, Notification, Notifier
from bot.params import OptionKind, too_long
from bot.ratelimit import Limit, RateClass, RateLimiter
from bot.registry import Registry
from bot.reply import Reply, Visibility
from bot.spec import CommandSpec, ParamSpec, Role
from bot.text import shorten
from bot.workers import Busy, CommandPool, Ticket
from storage import topics
from storage.circles import is_animator
from storage.db import Database
from storage.events import claim_event
from storage.identity import Member, account_for

log = logging.getLogger(__name__)

MAX_LINE = 8000
MAX_KNOWN_LOCALES = 100_000
# SQLite has one writer: a command's statement waits this long for its lock, then the command
# is rolled back and tried again after a pause, its worker serving others meanwhile (the
# reads go on: SQLite's readers never wait for its writer), until its timeout says "busy"
COMMAND_LOCK_WAIT = 0.2  # seconds
RETRY_PAUSE = 0.05  # seconds, growing with each try, up to MAX_RETRY_PAUSE
MAX_RETRY_PAUSE = 0.5
BUSY = N_("Samen is busy, try again in a moment.")


class Signal(enum.Enum):
    """What a command's transaction says instead of an answer."""

    DROPPED = "dropped"  # its event was handled before: nothing ran, nothing is answered
    RETRY = "retry"  # SQLite's write lock was held: rolled back, to be tried again
    RETRY_UNCLAIMED = "retry-unclaimed"  # the same, before its event could even be claimed


Transaction = tuple[Reply, tuple[Notification, ...], tuple[Invitation, ...], set[str]]
UNREACHABLE = N_(
    "Samen cannot reach its database just now, so nothing was changed. Try again in a minute."
)


def is_database_busy(error: BaseException) -> bool:
    """SQLite's "database is locked" (its busy timeout ran out), PostgreSQL's lock timeout."""
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return "locked" in text or "lock timeout" in text or "busy" in text


def is_database_unreachable(error: BaseException) -> bool:
    """The database server is away: a refused or broken connection (not a bad statement)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return any(
        sign in text
        for sign in ("connection refused", "connection failed", "server closed", "terminat")
    )


@dataclass(frozen=True, slots=True)
class Invocation:
    """A command said on a platform: a typed line, or a structured command (Discord)."""

    platform: str
    user_id: str
    display_name: str = ""
    text: str | None = None  # the line after the prefix: "profile set region=Gent"
    command: str | None = None  # structured: "profile set"
    options: Mapping[str, str] = field(default_factory=dict)  # structured raw values
    place: str | None = None
    locale: str | None = None  # the platform's idea of the user's language
    is_direct: bool = False
    # the answer replaces a message everyone sees (a button's refresh): it is written in the
    # community's language and leaves out what concerns only the asker
    shared: bool = False
    # the platform's id of the event that said it (a Matrix event id, a Discord interaction
    # id): the event is claimed before it runs, and a second delivery of it (to this or
    # another instance) is dropped. None (the console, a refresh) is never deduplicated.
    event_id: str | None = None


Answer = Callable[[Reply], Awaitable[object]]


@dataclass(slots=True)
class Outcome:
    """A command that ran: its answer, and what it queued for others (only when it
    committed; a failed command queues nothing). ``follow_up`` sends that, once."""

    dispatcher: Dispatcher
    reply: Reply
    outbox: tuple[Notification, ...] = ()
    invitations: tuple[Invitation, ...] = ()
    sent: bool = False
    # the event was handled already (another delivery of it, maybe by another instance):
    # nothing ran, and there is nothing to show
    dropped: bool = False

    async def follow_up(self) -> None:
        if self.sent:
            return
        self.sent = True
        await self.dispatcher.send_queued(self.outbox, self.invitations)


def audit_admin_command(ctx: Context, arguments: dict[str, Any]) -> None:
    """Every admin command that went through is in the audit trail: what it was given (a
    member, a circle by its key, a text) and the member it was about, if any."""
    target: int | None = None
    described: list[str] = []
    for name, value in arguments.items():
        if value is None or value == "" or value is False:
            continue
        if isinstance(value, Member):
            target = target or value.id
            described.append(f"{name}=#{value.id}")
        elif hasattr(value, "key"):
            described.append(f"{name}={value.key}")
        elif hasattr(value, "id"):
            described.append(f"{name}=#{value.id}")
        else:
            described.append(f"{name}={shorten(str(value), 40)}")
    ctx.audit(" ".join(described), target)


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        registry: Registry,
        catalogues: Catalogues,
        clock: Clock,
        notifier: Notifier,
    ):
        self.settings = settings
        self.database = database
        self.registry = registry
        self.catalogues = catalogues
        self.clock = clock
        self.notifier = notifier
        self.seen = SeenTracker()
        limits = settings.limits
        self.limiter = RateLimiter(
            {
                RateClass.COMMAND: Limit(limits.commands_burst, limits.commands_per_minute / 60),
                RateClass.PUBLISH: Limit(limits.publish_burst, limits.publish_per_hour / 3600),
            }
        )
        self.listeners: dict[str, list[Callable[[], None]]] = {}
        # every command's transaction runs in one of these worker threads, off the event loop
        self.pool = CommandPool(settings.storage.workers, settings.storage.command_timeout_seconds)
        # each asker's language, as their last command found it: "busy" is said without the
        # database, in the language they chose where it is known
        self.locales: dict[tuple[str, str], str] = {}
        database.on_dispose(self.pool.close)

    def _find(self, invocation: Invocation) -> tuple[CommandSpec, list[Token] | None]:
        """The command said, and the tokens after its name (None for a structured call)."""
        if invocation.command is not None:
            spec = self.registry.get(invocation.command)
            if spec is None:
                raise self.registry.unknown(invocation.command.split())
            return spec, None
        line = (invocation.text or "").strip()
        if len(line) > MAX_LINE:
            raise UserError(
                N_("That message is {length} characters long; the most is {limit}."),
                length=len(line),
                limit=MAX_LINE,
            )
        tokens = tokenize(line)
        if not tokens:
            raise UserError(N_("Say !help to see what I can do."))
        words = [t.text for t in tokens if t.key is None and not t.quoted]
        leading = []
        for token in tokens:
            if token.key is not None or token.quoted:
                break
            leading.append(token.text)
        found = self.registry.match(leading)
        if found is None:
            raise self.registry.unknown(leading or words or [tokens[0].text])
        spec, used = found
        return spec, tokens[used:]

    @staticmethod
    def _values(
        spec: CommandSpec,
        invocation: Invocation,
        tokens: list[Token] | None,
        later: tuple[str, ...] = (),
    ) -> dict[str, str]:
        if tokens is not None:
            return bind(spec, tokens)
        values = {k: v for k, v in invocation.options.items() if v is not None}
        unknown = [k for k in values if spec.param(k) is None]
        if unknown:
            raise UserError(N_("Unknown key “{key}”."), key=unknown[0], show_usage=True)
        missing = tuple(
            p.label
            for p in spec.params
            if p.required and p.name not in values and p.name not in later
        )
        if missing:
            raise UserError(N_("Missing: {names}."), names=missing, show_usage=True)
        return values

    def _fallback_translator(self, invocation: Invocation) -> Translator:
        """The asker's language when nothing else is known yet (before the command runs)."""
        locale = None
        with self.database.open_session() as session:
            account = account_for(session, invocation.platform, invocation.user_id)
            member = session.get(Member, account.member_id) if account else None
            locale = member.locale if member else None
        return self.catalogues.translator(
            locale or normalise_locale(invocation.locale), self.settings.default_locale
        )

    def error_reply(
        self, t: Translator, error: UserError, spec: CommandSpec | None, prefix: str
    ) -> Reply:
        text = t(error.message, **error.params)
        if error.show_usage and spec is not None:
            text += "\n" + t(N_("Usage: {usage}"), usage=usage(self.registry, spec, prefix))
            if spec.examples:
                shown = example(self.registry, spec, spec.examples[0], prefix)
                text += "\n" + t(N_("Example: {example}"), example=shown)
        return Reply(text=text, visibility=Visibility.PRIVATE, is_error=True, actions=error.actions)

    async def dispatch(self, invocation: Invocation, answer: Answer | None = None) -> Reply:
        """Run the command, give its answer to ``answer`` (the adapter's way of showing it),
        and only then send the notifications and invitations it queued: the asker sees the
        answer before anybody is pinged about it. Without ``answer`` the caller shows the
        returned Reply itself, after the notifications (use :meth:`run` to choose)."""
        outcome = await self.run(invocation)
        if outcome.dropped:
            return outcome.reply
        try:
            if answer is not None:
                await answer(outcome.reply)
        finally:
            await outcome.follow_up()
        return outcome.reply

    async def run(self, invocation: Invocation) -> Outcome:
        """Run the command in its transaction, in a worker thread (bot/workers.py); the
        Outcome holds the answer and, to be sent once the answer was shown, what the
        committed command queued for others. A command that cannot run in time (the database
        is held, the pool is full) is answered "busy" and writes nothing. An event handled
        before (its id already claimed, see :meth:`claim`) runs nothing: the Outcome is
        ``dropped``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pool.timeout
        attempt = 0
        claim = invocation.event_id is not None
        try:
            while True:
                done = await self.pool.run(
                    functools.partial(self._transaction, invocation, attempt=attempt, claim=claim),
                    deadline,
                )
                if done is Signal.RETRY:
                    claim = False  # the event is this instance's already
                elif done is not Signal.RETRY_UNCLAIMED:
                    break
                attempt += 1  # SQLite's write lock is held: give the worker back, then again
                pause = min(RETRY_PAUSE * attempt, MAX_RETRY_PAUSE)
                if loop.time() + pause >= deadline:
                    raise Busy("the database stayed locked")
                await asyncio.sleep(pause)
        except Busy as busy:
            log.warning(
                "busy: %s (platform=%s user=%s command=%r, %d tries)",
                busy,
                invocation.platform,
                invocation.user_id,
                invocation.command or shorten(invocation.text or "", 40),
                attempt + 1,
            )
            return Outcome(self, self.busy_reply(invocation))
        if done is Signal.DROPPED:
            return Outcome(self, Reply(), dropped=True)
        reply, outbox, invitations, changed = done
        for topic in changed:  # on the main loop: listeners schedule work of their own
            for listener in self.listeners.get(topic, ()):
                try:
                    listener()
                except Exception:
                    log.exception("listener of %s failed", topic)
        return Outcome(self, reply, outbox, invitations)

    def busy_reply(self, invocation: Invocation, message: LazyText = BUSY) -> Reply:
        """Busy (or unreachable), try again: in the asker's language as their last command
        found it, else their platform's (the database may not answer now)."""
        known = self.locales.get((invocation.platform, invocation.user_id))
        t = self.catalogues.translator(
            known or normalise_locale(invocation.locale), self.settings.default_locale
        )
        return Reply(text=t(message), visibility=Visibility.PRIVATE, is_error=True)

    async def _transaction(
        self, invocation: Invocation, ticket: Ticket, *, attempt: int = 0, claim: bool = True
    ) -> Transaction | Signal:
        """The command, in a worker thread: its answer, what it queued and the topics it
        changed (all empty unless it committed); DROPPED for an event handled before; RETRY
        when SQLite's write lock was held past COMMAND_LOCK_WAIT (rolled back: the caller
        tries again; the event, once claimed, stays this instance's: ``claim`` is False)."""
        # PostgreSQL: the event is claimed inside the command's own transaction. Another
        # instance claiming it too waits for that transaction: it finds the key once the
        # command committed, and takes the event over when this instance died before. So a
        # command is run, and its member answered, once, even across a crash. (SQLite has one
        # instance, and a claim in the transaction would make every read a write: claimed
        # before, in a transaction of its own.)
        in_transaction = claim and not self.database.is_sqlite
        try:
            if claim and not in_transaction and not self.claim(invocation):
                return Signal.DROPPED
        except Exception as error:  # the database cannot take the claim: nothing runs
            if is_database_busy(error) and self.database.command_engine is not (
                self.database.engine
            ):
                return Signal.RETRY_UNCLAIMED  # SQLite's write lock is held: again, later
            log.warning(
                "cannot claim %s event %s: %s", invocation.platform, invocation.event_id, error
            )
            message = UNREACHABLE if is_database_unreachable(error) else BUSY
            return self.busy_reply(invocation, message), (), (), set()
        prefix = self.settings.platform_prefix(invocation.platform)
        spec: CommandSpec | None = None
        try:
            spec, tokens = self._find(invocation)
            raw = self._values(spec, invocation, tokens)
        except UserError as error:
            if in_transaction and not self._claim_answered(invocation):
                return Signal.DROPPED
            t = self._fallback_translator(invocation)
            return self.error_reply(t, error, spec, prefix), (), (), set()
        except Exception:
            log.exception(
                "cannot parse %r (platform=%s user=%s)",
                invocation.text,
                invocation.platform,
                invocation.user_id,
            )
            if in_transaction and not self._claim_answered(invocation):
                return Signal.DROPPED
            return self._apology(self._fallback_translator(invocation)), (), (), set()
        t = self.catalogues.translator(
            normalise_locale(invocation.locale), self.settings.default_locale
        )
        session = self.database.open_session(command=True)
        outbox: list[Notification] = []
        changed: set[str] = set()
        invitations: list[Invitation] = []
        dropped = False
        try:
            if in_transaction and not claim_event(
                session, invocation.platform, invocation.event_id or "", self.clock.now()
            ):
                session.rollback()
                return Signal.DROPPED
            ctx = self._context(session, invocation, shared=invocation.shared)
            t = ctx.t
            if attempt == 0:  # a try again after a held lock is the same command
                self._check_rate(ctx, spec)
            self._check_role(ctx, spec)
            arguments = await self._convert(ctx, spec, raw)
            if spec.role is Role.ANIMATOR:
                self._check_animator(ctx, spec, arguments)
            ctx.command = spec.name
            reply = await spec.handler(ctx, **arguments)
            if spec.role is Role.ADMIN and not spec.read_only and not ctx.audited:
                audit_admin_command(ctx, arguments)
            if not ticket.may_commit():  # the asker was told "busy": keep nothing
                raise Busy("ran past its timeout")
            session.commit()
            self._remember_locale(invocation, ctx.actor)  # the command may have changed it
            outbox = ctx.outbox
            changed = ctx.changed
            invitations = ctx.invitations
            self.seen.seen(ctx.account, self.clock.now())
        except UserError as error:
            session.rollback()
            dropped = in_transaction and not self._claim_answered(invocation)
            reply = self.error_reply(t, error, spec, prefix)
        except Busy:
            session.rollback()
            reply = self.busy_reply(invocation)
        except Exception as error:
            session.rollback()
            if is_database_busy(error) and self.database.command_engine is not (
                self.database.engine
            ):
                log.debug("command %r waits for SQLite's write lock (try %d)", spec.name, attempt)
                return Signal.RETRY
            if is_database_busy(error):
                log.warning("command %r: the database is busy (%s)", spec.name, error)
                reply = Reply(text=t(BUSY), visibility=Visibility.PRIVATE, is_error=True)
            elif is_database_unreachable(error):
                log.warning(
                    "command %r (platform=%s user=%s): the database cannot be reached: %s",
                    spec.name,
                    invocation.platform,
                    invocation.user_id,
                    error.__class__.__name__,
                )
                reply = self.busy_reply(invocation, UNREACHABLE)
            else:
                log.exception(
                    "command %r failed (platform=%s user=%s place=%s line=%r)",
                    spec.name,
                    invocation.platform,
                    invocation.user_id,
                    invocation.place,
                    invocation.text if invocation.text is not None else dict(invocation.options),
                )
                dropped = in_transaction and not self._claim_answered(invocation)
                reply = self._apology(t)
        finally:
            session.close()
        if dropped:
            return Signal.DROPPED
        if self.seen.due(self.clock.now()):
            self.flush_seen(quick=True)
        return reply, tuple(outbox), tuple(invitations), changed

    def claim(self, invocation: Invocation) -> bool:
        """Take the invocation's event for this instance: False when it was taken before
        (the same event delivered again, or to another instance sharing the database). In a
        transaction of its own, before the command runs: a command is run at most once, even
        when its instance dies while running it. Without an event id, always True."""
        if invocation.event_id is None:
            return True
        now = self.clock.now()
        # the commands' engine: on SQLite its statements wait only briefly for the write lock
        engine = self.database.command_engine
        if claim_event(engine, invocation.platform, invocation.event_id, now):
            return True
        log.debug("dropped %s event %s: handled already", invocation.platform, invocation.event_id)
        return False

    def _claim_answered(self, invocation: Invocation) -> bool:
        """After a command failed (its transaction, claim included, rolled back): claim the
        event alone, so that the failure is answered once and not run again; False when
        another instance took it meanwhile (it answers). A claim that cannot be recorded
        lets this answer through."""
        try:
            return self.claim(invocation)
        except Exception as error:
            log.warning(
                "cannot claim %s event %s: %s", invocation.platform, invocation.event_id, error
            )
            return True

    async def claimed(self, invocation: Invocation) -> bool:
        """:meth:`claim`, in a worker thread: for an adapter that handles an event itself (a
        form to open, an expired button to explain). A database that cannot take the claim
        lets the event through: at worst it is answered twice."""
        try:
            return await self.pool.run(lambda _: self._claim_async(invocation))
        except Exception as error:
            log.warning(
                "cannot claim %s event %s: %s", invocation.platform, invocation.event_id, error
            )
            return True

    async def _claim_async(self, invocation: Invocation) -> bool:
        return self.claim(invocation)

    async def place_message(self, platform: str, place_id: str, event_id: str) -> bool:
        """A member said something (not a command) in a room or channel: an open discussion
        topic's place counts it, once whichever instance saw it. True when counted."""
        try:
            return await self.pool.run(lambda _: self._place_message(platform, place_id, event_id))
        except Exception as error:
            log.warning("cannot count a message in %s %s: %s", platform, place_id, error)
            return False

    async def _place_message(self, platform: str, place_id: str, event_id: str) -> bool:
        with self.database.session() as session:
            if not topics.is_place(session, platform, place_id):
                return False  # most rooms: one indexed read, nothing written
        if not self.claim(Invocation(platform=platform, user_id="", event_id=event_id)):
            return False
        with self.database.session() as session:
            return topics.count_message(session, platform, place_id, self.clock.now())

    async def check(
        self,
        invocation: Invocation,
        *,
        later: tuple[str, ...] = (),
    ) -> Reply | None:
        """What a real run would answer if the given options or the asker's role are wrong
        (the same translated error), or None: the command is found, its options converted
        and the role checked as :meth:`run` does, but nothing runs and nothing is written.
        ``later`` names parameters that come afterwards (typed in a form): their absence is
        not an error. A platform calls this before asking for more, e.g. opening a form.
        A check that cannot be done in time (the database is busy) is None too: the real run
        checks again. A caller with a tighter budget wraps this in ``asyncio.wait_for``."""
        try:
            return await self.pool.run(lambda _: self._check(invocation, later))
        except Busy:
            return None

    async def _check(self, invocation: Invocation, later: tuple[str, ...]) -> Reply | None:
        prefix = self.settings.platform_prefix(invocation.platform)
        spec: CommandSpec | None = None
        try:
            spec, tokens = self._find(invocation)
            raw = self._values(spec, invocation, tokens, later=later)
        except UserError as error:
            return self.error_reply(self._fallback_translator(invocation), error, spec, prefix)
        except Exception:
            log.exception("cannot check %r", invocation.command or invocation.text)
            return None  # the real run reports it
        session = self.database.open_session()
        t = self.catalogues.translator(
            normalise_locale(invocation.locale), self.settings.default_locale
        )
        try:
            ctx = self._context(session, invocation, shared=invocation.shared)
            t = ctx.t
            self._check_role(ctx, spec)
            arguments = await self._convert(ctx, spec, raw)
            if spec.role is Role.ANIMATOR:
                self._check_animator(ctx, spec, arguments)
            return None
        except UserError as error:
            return self.error_reply(t, error, spec, prefix)
        except Exception:
            log.exception("checking %r failed", spec.name)
            return None  # the real run reports it
        finally:
            session.rollback()  # nothing is kept, not even a member made on first contact
            session.close()

    async def send_queued(
        self, outbox: tuple[Notification, ...], invitations: tuple[Invitation, ...]
    ) -> None:
        """Hand a committed command's invitations and notifications to the Notifier; one
        that fails is logged and does not stop the others."""
        for invitation in invitations:
            try:
                await self.notifier.invite(invitation)
            except Exception:
                log.exception("invitation to %s failed", invitation.place_id)
        for notification in outbox:
            try:
                await self.notifier.deliver(notification)
            except Exception:
                log.exception("notification to %s failed", notification.target)

    async def autocomplete(
        self, invocation: Invocation, param_name: str, partial: str
    ) -> list[tuple[str, str]]:
        """Suggestions (label, value) for a parameter as the member types it; nothing is
        written, and the chosen value is converted (re-checked) by the command itself.
        Nothing while the database is busy."""
        spec = self.registry.get(invocation.command or "")
        param = spec.param(param_name) if spec else None
        if param is None or not param.type.has_autocomplete:
            return []
        try:
            return await self.pool.run(lambda _: self._autocomplete(invocation, param, partial))
        except Busy:
            return []

    async def _autocomplete(
        self, invocation: Invocation, param: ParamSpec, partial: str
    ) -> list[tuple[str, str]]:
        session = self.database.open_session()
        try:
            ctx = self._context(session, invocation, shared=False)
            choices = await param.type.autocomplete(ctx, partial)
            return [
                (ctx.t(c.label) if isinstance(c.label, LazyText) else c.label, c.value)
                for c in choices
            ][:25]
        except Exception:
            log.exception("autocomplete of %s.%s failed", invocation.command, param.name)
            return []
        finally:
            session.rollback()
            session.close()

    def listen(self, topic: str, listener: Callable[[], None]) -> None:
        """Call ``listener`` after a command that changed ``topic`` (e.g. "meetups")."""
        self.listeners.setdefault(topic, []).append(listener)

    def flush_seen(self, *, quick: bool = False) -> None:
        """Write the batch of last-seen times (also called when the app stops). ``quick``
        (after a command, in its worker): wait for SQLite's lock only as long as a command
        does; a batch that could not be written then is dropped, and its accounts are seen
        again at their next command (the database still has their older time)."""
        session = self.database.open_session(command=quick)
        try:
            self.seen.flush(session, self.clock.now())
            session.commit()
        except Exception as error:
            session.rollback()
            if quick and is_database_busy(error):
                log.info("last-seen times not recorded: the database is busy")
            else:
                log.exception("could not record when accounts were last seen")
        finally:
            session.close()

    @staticmethod
    def _apology(t: Translator) -> Reply:
        return Reply(
            text=t(
                N_(
                    "Sorry, something went wrong on my side. It has been logged; "
                    "please try again later."
                )
            ),
            visibility=Visibility.PRIVATE,
            is_error=True,
        )

    def _context(self, session: Session, invocation: Invocation, shared: bool) -> Context:
        """The Context of one who asks: their member (made on first contact) and language;
        an answer ``shared`` with everyone is in the community's language."""
        member, account = resolve_actor(
            session,
            invocation.platform,
            invocation.user_id,
            invocation.display_name or invocation.user_id,
            self.clock.now(),
        )
        locale = member.locale or normalise_locale(invocation.locale)
        self._remember_locale(invocation, member)
        if shared:
            locale = self.settings.default_locale
        return Context(
            settings=self.settings,
            session=session,
            clock=self.clock,
            catalogues=self.catalogues,
            registry=self.registry,
            actor=member,
            account=account,
            t=self.catalogues.translator(locale, self.settings.default_locale),
            is_admin=self.settings.is_admin(invocation.platform, invocation.user_id),
            place=invocation.place,
            is_direct=invocation.is_direct,
            shared=shared,
        )

    def _remember_locale(self, invocation: Invocation, member: Member) -> None:
        if member.locale:
            if len(self.locales) >= MAX_KNOWN_LOCALES:
                self.locales.clear()
            self.locales[(invocation.platform, invocation.user_id)] = member.locale

    def _check_rate(self, ctx: Context, spec: CommandSpec) -> None:
        """Every way in counts (typed, button, reaction, form); admins too, as a stuck
        script of theirs floods as much as anyone's."""
        wait = self.limiter.take(ctx.actor_id, RateClass.COMMAND, ctx.now())
        if not wait and spec.rate is not RateClass.COMMAND:
            wait = self.limiter.take(ctx.actor_id, spec.rate, ctx.now())
        if not wait:
            return
        log.info("rate limit: member %s, %s, wait %.0f s", ctx.actor_id, spec.name, wait)
        seconds = max(1, math.ceil(wait))
        if seconds < 120:
            raise UserError(N_("Slow down a little: try again in {seconds} s."), seconds=seconds)
        raise UserError(
            N_("You did that often lately: try again in {minutes} min."),
            minutes=math.ceil(seconds / 60),
        )

    def _check_role(self, ctx: Context, spec: CommandSpec) -> None:
        if spec.role is Role.ADMIN and not ctx.is_admin:
            raise PermissionDenied(
                N_("Only an admin of {community} may do this."),
                community=ctx.settings.community_name,
            )

    def _check_animator(self, ctx: Context, spec: CommandSpec, arguments: dict[str, Any]) -> None:
        if ctx.is_admin:
            return
        scope = spec.param(spec.scope or "")
        circle = arguments.get(scope.argument) if scope else None
        circle_id = getattr(circle, "id", circle)
        if not isinstance(circle_id, int) or not is_animator(ctx.session, ctx.actor_id, circle_id):
            raise PermissionDenied(N_("Only an animator of this circle may do this."))

    async def _convert(
        self, ctx: Context, spec: CommandSpec, raw: dict[str, str]
    ) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for param in spec.params:
            if param.name not in raw:
                if not param.required:
                    arguments[param.argument] = param.default
                continue
            try:
                limit = param.type.max_length
                # the same limit Discord's option has, for every way in (console, Matrix)
                if param.type.kind is OptionKind.STRING and limit and len(raw[param.name]) > limit:
                    raise too_long(len(raw[param.name]), limit)
                arguments[param.argument] = await param.type.convert(ctx, raw[param.name])
            except UserError as error:
                detail = ctx.t(error.message, **error.params)
                raise UserError(
                    N_("{name}: {problem}"), name=param.label, problem=detail, show_usage=True
                ) from error
        return arguments
