"""Benchmark: Discord interactions through Samen, beside a bare discord.py echo bot.

discord.py's own, unmodified HTTP and gateway code talks to the local stand-in for Discord
(``tests/discord_standin.py``, in this process and on this event loop). Samen's
``DiscordAdapter`` runs on a fresh SQLite file seeded through the core (``--members`` members
with profiles, ``--posts`` needs and offers, one weekly meetup with ``--capacity`` places whose
waitlist is already long), then answers ``--count`` slash commands sent one after the other:
``/profile show`` (half of them about another member, a USER option with its resolved data),
``/board search`` (one to three words, some with kind=…) and ``/meetup rsvp`` (going, maybe
and no in turn, so that places are freed, taken and offered to the waitlist), shuffled.

For each interaction, t0 is taken just before the stand-in writes the INTERACTION_CREATE
frame to the websocket (the payload is serialised before), t1 when the stand-in's request
handler is entered for the callback POST of that interaction id. The next interaction is
sent once t1 is seen. interactions/s is the count over the whole sequential run.

The floor: a bare ``discord.Client`` whose ``CommandTree`` holds one ``/echo`` command that
answers ``interaction.response.send_message("echo")``, synced to the same guild, run against
the same stand-in and measured the same way: what discord.py itself (and the stand-in, which
shares the loop) costs on this machine.

Run from the repository root:

    .venv/bin/python bench/discord_interactions.py [--count 1000] [--warmup 50]
        [--members 300] [--posts 3000] [--capacity 40] [--seed 42] [--profile] [--breakdown]
        [--no-gc-freeze] [--smoke] [--json FILE]

``--profile`` runs Samen's measured phase once more under cProfile (the whole loop: stand-in,
discord.py and Samen) and prints the hotspots. ``--breakdown`` runs it once more with
``Dispatcher.dispatch`` timed, to split each command's time between the core and the rest
(discord.py, the adapter, the stand-in). Once each bot is ready, the bench freezes what start-up
built and raises the collector's thresholds, as ``App.run`` does
(``bot.app.keep_start_up_out_of_collections``); ``--no-gc-freeze`` leaves CPython's defaults, to
see what the garbage collector's full passes cost without it. Each run also lists its slowest
interactions, with the collector's pauses during them.

This is a benchmark, not a test: it never fails a build, it prints figures (it stops when an
answer is wrong, as the figures would mean little).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import gc
import importlib.metadata
import json
import logging
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_GC_THRESHOLDS = gc.get_threshold()
DISCORD_ANSWER_LIMIT_MS = 3_000.0
ACK_TARGET_MS = 1_000.0  # issue 11: every interaction acknowledged within 1 s
ROOT = Path(__file__).resolve().parent.parent
# bench/ holds files named like the project's packages (bench/scheduler.py): the repository
# root must come before bench/ (the script's directory, which Python puts first).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
import yarl  # noqa: E402
from aiohttp import web  # noqa: E402
from discord import app_commands  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from adapters.discord_bot import DiscordAdapter  # noqa: E402
from bench.dispatch import (  # noqa: E402
    FIRST_NAMES,
    LAST_NAMES,
    SKILLS,
    Stats,
    machine_info,
    print_hotspots,
)
from bench.kit import Targets, add_smoke, apply_smoke  # noqa: E402
from bot.app import (  # noqa: E402
    App,
    keep_start_up_out_of_collections,
)
from bot.dispatch import BUSY, Invocation, Outcome  # noqa: E402
from storage.meetups import Meetup  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.discord_standin import (  # noqa: E402
    CHANNEL_ID,
    GUILD_ID,
    OWNER_ID,
    StandIn,
    member,
    opt,
    slash,
    snowflake,
    user,
)
from tests.test_busy_database import Ticker, write_locked  # noqa: E402

TOKEN_ENV = "SAMEN_BENCH_DISCORD"
MEMBER_IDS = 930_000_000_000_000_000
DISCORD_LOCALE = {"nl": "nl", "fr": "fr", "en": "en-US"}
RED = discord.Colour.red().value
PROFILE, SEARCH, RSVP, ECHO = "/profile show", "/board search", "/meetup rsvp", "/echo"
MEETUP_TITLE = "Werkontbijt"
ANSWERS = ("going", "maybe", "no")

# -- what the posts are made of ---------------------------------------------------------------
# (sectors, category, {language: roles}, {language: things}, {language: jobs}, tags)

Words = dict[str, tuple[str, ...]]


def _w(nl: str, fr: str, en: str) -> Words:
    return {"nl": tuple(nl.split("|")), "fr": tuple(fr.split("|")), "en": tuple(en.split("|"))}


TOPICS: tuple[tuple[tuple[str, ...], str, Words, Words, Words, tuple[str, ...]], ...] = (
    (
        ("audiovisual", "music", "events"),
        "work",
        _w(
            "geluidstechnicus|klankman|monitortechnicus",
            "ingénieur du son|technicien son|régisseur son",
            "sound engineer|live sound mixer|boom operator",
        ),
        _w("mengtafel|geluidsinstallatie", "table de mixage|sono", "mixing desk|PA system"),
        _w(
            "een openluchtconcert|de opname van een koor",
            "un concert en plein air|l'enregistrement d'une chorale",
            "an open-air gig|recording a choir",
        ),
        ("sound", "geluid", "son", "live", "audio"),
    ),
    (
        ("performing-arts", "events"),
        "work",
        _w(
            "lichttechnicus|lichtontwerper",
            "technicien lumière|éclairagiste",
            "lighting designer|lighting technician",
        ),
        _w("lichttafel|rookmachine", "console lumière|machine à fumée", "lighting desk|hazer"),
        _w(
            "een dansvoorstelling|een tentoonstelling",
            "un spectacle de danse|une exposition",
            "a dance show|an exhibition",
        ),
        ("licht", "lumiere", "light", "led"),
    ),
    (
        ("audiovisual",),
        "work",
        _w(
            "cameraman|monteur|kleurcorrector",
            "cadreur|monteur vidéo|étalonneur",
            "camera operator|video editor|colourist",
        ),
        _w("camera|statief|gimbal", "caméra|trépied|stabilisateur", "cinema camera|tripod|gimbal"),
        _w(
            "een kortfilm|een aftermovie",
            "un court métrage|un clip",
            "a short film|a music video",
        ),
        ("camera", "film", "video", "montage"),
    ),
    (
        ("performing-arts",),
        "work",
        _w(
            "decorbouwer|podiumtechnicus|regisseur",
            "constructeur de décors|régisseur plateau|metteur en scène",
            "set builder|stagehand|theatre director",
        ),
        _w("podiumelementen|zwarte doeken", "praticables|pendrillons", "stage platforms|drapes"),
        _w(
            "een theaterproductie|een straattheaterfestival",
            "une pièce de théâtre|un festival de rue",
            "a theatre show|a street festival",
        ),
        ("theater", "theatre", "podium", "scene", "decor"),
    ),
    (
        ("graphic-design", "visual-arts"),
        "work",
        _w(
            "grafisch ontwerper|illustrator|typograaf",
            "graphiste|illustratrice|typographe",
            "graphic designer|illustrator|typographer",
        ),
        _w("risoprinter|zeefdrukraam", "risographe|cadre de sérigraphie", "risograph|screen frame"),
        _w(
            "een festivalaffiche|een huisstijl",
            "une affiche de festival|une identité visuelle",
            "a festival poster|a visual identity",
        ),
        ("grafisch", "graphisme", "design", "logo", "print"),
    ),
    (
        ("events", "music"),
        "logistics",
        _w("chauffeur|roadie", "chauffeur|manutentionnaire", "driver|roadie"),
        _w("bestelwagen|aanhangwagen", "camionnette|remorque", "van|trailer"),
        _w(
            "een tournee in Frankrijk|een verhuis",
            "une tournée en France|un déménagement",
            "a tour in France|moving a studio",
        ),
        ("transport", "van", "camionnette", "bestelwagen", "tour"),
    ),
    (
        ("writing",),
        "work",
        _w(
            "vertaler|tekstschrijver|ondertitelaar",
            "traductrice|rédacteur|sous-titreur",
            "translator|copywriter|subtitler",
        ),
        _w("woordenboeken|stille werkplek", "dictionnaires|bureau calme", "dictionaries|desk"),
        _w(
            "een website|een documentaire",
            "un catalogue|un documentaire",
            "a press kit|a documentary",
        ),
        ("vertaling", "traduction", "translation", "tekst", "subtitles"),
    ),
    (
        ("it",),
        "work",
        _w(
            "webontwikkelaar|programmeur|ux-ontwerper",
            "développeur web|intégratrice|administrateur système",
            "web developer|python developer|ux designer",
        ),
        _w("laptop|beamer", "ordinateur portable|projecteur", "laptop|projector"),
        _w(
            "een webshop|een ticketingsysteem",
            "une boutique en ligne|une billetterie",
            "an online shop|a ticketing system",
        ),
        ("web", "website", "wordpress", "python", "app"),
    ),
    (
        ("music", "events"),
        "work",
        _w("pianist|drummer|zangeres", "pianiste|batteur|chanteuse", "pianist|drummer|singer"),
        _w("repetitielokaal|drumstel", "local de répétition|batterie", "rehearsal room|drum kit"),
        _w(
            "een trouwfeest|een demo-opname",
            "un mariage|l'enregistrement d'une maquette",
            "a wedding|recording a demo",
        ),
        ("muziek", "musique", "music", "band", "repetitie"),
    ),
)
CITIES = ("Gent", "Brussel", "Bruxelles", "Antwerpen", "Liège", "Namur", "Leuven", "Charleroi")
NEED_TITLE = {
    "nl": "Gezocht: {role} voor {job}",
    "fr": "Cherche {role} pour {job}",
    "en": "Looking for a {role} for {job}",
}
OFFER_TITLE = {
    "nl": "{Role} beschikbaar voor {job}",
    "fr": "{Role} disponible pour {job}",
    "en": "{Role} available for {job}",
}
LEND_TITLE = {
    "need": {
        "nl": "{Thing} te leen gezocht",
        "fr": "Cherche {thing} à emprunter",
        "en": "Need a {thing}",
    },
    "offer": {"nl": "{Thing} te leen", "fr": "{Thing} à prêter", "en": "{Thing} to lend"},
}
DETAILS = {
    "nl": "In {city}, {when}. Ervaring met {skill} is een plus. Contact via de bot.",
    "fr": "À {city}, {when}. Une expérience en {skill} est un plus. Contact via le bot.",
    "en": "In {city}, {when}. Experience with {skill} helps. Reach me through the bot.",
}
WHEN = {
    "nl": ("volgende vrijdag", "in het weekend", "in maart", "drie dagen in mei"),
    "fr": ("vendredi prochain", "le week-end", "en mars", "trois jours en mai"),
    "en": ("next Friday", "at the weekend", "in March", "three days in May"),
}
QUERIES = (
    "geluid",
    "son",
    "sound engineer",
    "camera",
    "montage",
    "theater",
    "théâtre",
    "licht",
    "lumière",
    "graphiste",
    "logo",
    "transport",
    "camionnette",
    "bestelwagen tournee",
    "vertaler",
    "traduction",
    "website",
    "python",
    "pianist",
    "repetitielokaal",
    "mengtafel",
    "festival",
    "gent",
    "bruxelles",
    "video editor",
    "decor",
    "ux",
    "concert plein air",
    "drummer trouwfeest",
    "risograph",
)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def post_options(rng: random.Random, regions: Sequence[str]) -> tuple[str, dict[str, str]]:
    """A need or an offer: the command and its options, in nl, fr or en."""
    sectors, category, roles, things, jobs, tags = rng.choice(TOPICS)
    lang = rng.choices(("nl", "fr", "en"), (0.45, 0.4, 0.15))[0]
    kind = rng.choice(("need", "offer"))
    if rng.random() < 0.25:
        thing = rng.choice(things[lang])
        title = LEND_TITLE[kind][lang].format(thing=thing, Thing=_cap(thing))
        category = "material"
    else:
        role = rng.choice(roles[lang])
        template = NEED_TITLE[lang] if kind == "need" else OFFER_TITLE[lang]
        title = template.format(role=role, Role=_cap(role), job=rng.choice(jobs[lang]))
    description = DETAILS[lang].format(
        city=rng.choice(CITIES), when=rng.choice(WHEN[lang]), skill=rng.choice(SKILLS)
    )
    options = {
        "title": title[:120],
        "description": description,
        "category": category,
        "sector": rng.choice(sectors),
        "tags": ",".join(rng.sample(tags, rng.randint(1, 3))),
    }
    if rng.random() < 0.9:
        options["region"] = rng.choice(regions)
    return f"{kind} post", options


# -- the stand-in, timed ----------------------------------------------------------------------


@dataclass
class Answer:
    t1: float
    body: Any
    side_requests: list[str]  # REST requests the bot made between t0 and t1, but the callback


@dataclass
class TimedStandIn(StandIn):
    """The stand-in, with the moment each interaction callback arrives."""

    waiting: dict[str, asyncio.Future[Answer]] = field(default_factory=dict)
    followups: dict[str, asyncio.Future[Answer]] = field(default_factory=dict)  # by token
    seen_requests: int = 0

    async def rest(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        response = await super().rest(request)
        tail = request.match_info["tail"]
        if tail.startswith("webhooks/") and request.method == "POST":
            waiting = self.followups.pop(tail.split("/")[2], None)
            if waiting is not None and not waiting.done():
                waiting.set_result(Answer(arrived, self.requests[-1].body, []))
        if tail.startswith("interactions/") and tail.endswith("/callback"):
            future = self.waiting.pop(tail.split("/")[1], None)
            if future is not None and not future.done():
                side = [
                    f"{r.method} {shape(r.path)}" for r in self.requests[self.seen_requests : -1]
                ]
                future.set_result(Answer(arrived, self.requests[-1].body, side))
        return response

    async def send_interaction(self, payload: dict[str, Any]) -> float:
        """INTERACTION_CREATE, serialised first; returns t0, just before the frame is written."""
        assert self.ws is not None
        self.sequence += 1
        frame = json.dumps({"op": 0, "t": "INTERACTION_CREATE", "s": self.sequence, "d": payload})
        self.seen_requests = len(self.requests)
        started = time.perf_counter()
        await self.ws.send_str(frame)
        return started


def shape(path: str) -> str:
    """/channels/123/messages → /channels/{id}/messages"""
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


def patch_discord(standin: StandIn) -> None:
    discord.http.Route.BASE = f"http://127.0.0.1:{standin.port}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        f"ws://127.0.0.1:{standin.port}/gateway"
    )


# -- the calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    label: str
    user_id: str
    data: dict[str, Any]
    locale: str
    check: Callable[[Any], bool]


def is_profile(body: Any) -> bool:
    embeds = body["data"].get("embeds") or []
    return body["type"] == 4 and bool(embeds) and embeds[0].get("color") != RED


def is_search(query: str) -> Callable[[Any], bool]:
    def check(body: Any) -> bool:  # a list of hits (an embed), or "Nothing found for “…”"
        data = body["data"]
        return body["type"] == 4 and (bool(data.get("embeds")) or query in data["content"])

    return check


def is_rsvp(body: Any) -> bool:  # "Noted: … for Werkontbijt" or "Werkontbijt is full …"
    data = body["data"]
    return body["type"] == 4 and MEETUP_TITLE in data["content"] and bool(data["flags"] & 64)


def is_echo(body: Any) -> bool:
    return bool(body["type"] == 4 and body["data"]["content"] == "echo")


@dataclass
class Community:
    members: dict[str, str]  # user id → name
    locales: dict[str, str]  # user id → Discord locale
    visible: list[str]  # those whose profile every member may see
    meetup_id: int


def samen_calls(rng: random.Random, community: Community, count: int, start: int) -> list[Call]:
    """count calls, a third of each command, shuffled; rsvp answers going/maybe/no in turn."""
    ids = list(community.members)
    kinds = [PROFILE, SEARCH, RSVP] * (count // 3 + 1)
    kinds = kinds[:count]
    rng.shuffle(kinds)
    calls: list[Call] = []
    rsvps = start
    for label in kinds:
        who = rng.choice(ids)
        locale = community.locales[who]
        if label == PROFILE:
            options: list[dict[str, Any]] = []
            data = slash("profile", "show", options)
            if rng.random() < 0.5:
                other = rng.choice(community.visible)
                options.append(opt("member", other, 6))
                shown = member(other, community.members[other])
                del shown["user"]
                data["resolved"] = {
                    "users": {other: user(other, community.members[other])},
                    "members": {other: shown},
                }
            calls.append(Call(label, who, data, locale, is_profile))
        elif label == SEARCH:
            query = rng.choice(QUERIES)
            options = [opt("text", query)]
            if rng.random() < 0.25:
                options.append(opt("kind", rng.choice(("need", "offer"))))
            calls.append(
                Call(label, who, slash("board", "search", options), locale, is_search(query))
            )
        else:
            answer = ANSWERS[rsvps % 3]
            rsvps += 1
            options = [opt("meetup", str(community.meetup_id)), opt("answer", answer)]
            calls.append(Call(label, who, slash("meetup", "rsvp", options), locale, is_rsvp))
    return calls


def echo_calls(rng: random.Random, community: Community, count: int) -> list[Call]:
    ids = list(community.members)
    calls = []
    for _ in range(count):
        who = rng.choice(ids)
        data = {"id": snowflake(), "name": "echo", "type": 1}
        calls.append(Call(ECHO, who, data, community.locales[who], is_echo))
    return calls


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Run:
    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    with_side_requests: dict[str, list[float]] = field(
        default_factory=lambda: collections.defaultdict(list)
    )
    side_requests: collections.Counter[str] = field(default_factory=collections.Counter)
    slowest: list[tuple[float, int, str, float]] = field(default_factory=list)  # ms, #, what, gc
    gc_pauses: list[tuple[float, int]] = field(default_factory=list)  # ms, generation
    core: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    search_hits: int = 0  # `/board search` answers with a list of posts (not "nothing found")
    seconds: float = 0.0

    def stats(self, label: str) -> Stats:
        if label == "all":
            every = [x for values in self.latencies.values() for x in values]
            return Stats.of(label, every, self.seconds)
        return Stats.of(label, self.latencies[label], self.seconds)


class GcPauses:
    """The collector's pauses (start, seconds, generation), from gc.callbacks."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            now = time.perf_counter()
            self.pauses.append((self._began, now - self._began, info["generation"]))

    def within(self, t0: float, t1: float) -> float:
        return sum(length for at, length, _ in self.pauses if t0 <= at <= t1)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


class CoreTimer:
    """Wraps ``app.dispatcher.run`` (the core's part of a command, as the adapter calls it;
    the notifications are sent after the answer) to time the core."""

    def __init__(self, app: App):
        self.app = app
        self.original = app.dispatcher.run
        self.seconds = 0.0

    async def __call__(self, invocation: Invocation) -> Outcome:
        began = time.perf_counter()
        try:
            return await self.original(invocation)
        finally:
            self.seconds += time.perf_counter() - began

    def __enter__(self) -> CoreTimer:
        self.app.dispatcher.run = self  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        self.app.dispatcher.run = self.original  # type: ignore[method-assign]


async def measure(
    standin: TimedStandIn,
    client_task: asyncio.Task[None],
    calls: Sequence[Call],
    core: CoreTimer | None = None,
) -> Run:
    with GcPauses() as pauses:
        return await _measure(standin, client_task, calls, pauses, core)


async def _measure(
    standin: TimedStandIn,
    client_task: asyncio.Task[None],
    calls: Sequence[Call],
    gcs: GcPauses,
    core: CoreTimer | None,
) -> Run:
    loop = asyncio.get_running_loop()
    run = Run()
    clock = time.perf_counter
    wrong: list[str] = []
    timed: list[tuple[float, int, str, float, float]] = []
    started = clock()
    for number, call in enumerate(calls, 1):
        payload = standin.interaction(2, call.data, call.user_id, locale=call.locale)
        future: asyncio.Future[Answer] = loop.create_future()
        standin.waiting[payload["id"]] = future
        if core is not None:
            core.seconds = 0.0
        t0 = await standin.send_interaction(payload)
        watched: set[asyncio.Future[Any]] = {future, client_task}
        done, _ = await asyncio.wait(watched, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if future not in done:
            if client_task.done():
                client_task.result()
            raise SystemExit(f"{call.label}: no callback within 30 s")
        answer = future.result()
        latency = answer.t1 - t0
        run.latencies[call.label].append(latency)
        timed.append((latency, number, call.label, t0, answer.t1))
        if core is not None:
            run.core[call.label].append(core.seconds)
        if answer.side_requests:
            run.side_requests.update(answer.side_requests)
            run.with_side_requests[call.label].append(latency)
        if call.label == SEARCH and answer.body["data"].get("embeds"):
            run.search_hits += 1
        if not call.check(answer.body):
            wrong.append(f"{call.label} {call.data}: {json.dumps(answer.body)[:400]}")
    run.seconds = clock() - started
    timed.sort(reverse=True)
    run.slowest = [
        (lat * 1000, n, what, gcs.within(t0, t1) * 1000) for lat, n, what, t0, t1 in timed[:5]
    ]
    run.gc_pauses = [(length * 1000, gen) for _, length, gen in gcs.pauses]
    if wrong:
        raise SystemExit(f"{len(wrong)} wrong answers, the first:\n" + "\n".join(wrong[:3]))
    return run


@dataclass
class LockedRun:
    """Interactions sent one after the other while another connection held SQLite's write
    lock: when each was acknowledged, and when the deferred ones got their answer."""

    seconds: float  # how long the lock was held
    acks: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    answered: list[float] = field(default_factory=list)  # deferred: INTERACTION_CREATE → answer
    deferred: int = 0
    busy: int = 0  # answered "Samen is busy, try again"
    unanswered: list[str] = field(default_factory=list)  # no ack within 3 s, or no answer
    worst_loop_lag: float = 0.0

    def stats(self, label: str = "all") -> Stats:
        if label == "all":
            every = [x for values in self.acks.values() for x in values]
            return Stats.of(label, every, self.seconds)
        return Stats.of(label, self.acks[label], self.seconds)


async def measure_locked(
    standin: TimedStandIn,
    client_task: asyncio.Task[None],
    calls: Sequence[Call],
    database: Path,
    seconds: float,
    busy_texts: set[str],
    answer_within: float,
) -> LockedRun:
    """Send ``calls`` one after the other while the database is write-locked for
    ``seconds`` (until the lock is released or the calls run out); each must be
    acknowledged (answered, or deferred) within Discord's 3 s, each deferred one must get
    its answer (the real one, or "busy") within ``answer_within`` seconds."""
    loop = asyncio.get_running_loop()
    run = LockedRun(seconds)
    later: list[tuple[Call, float, asyncio.Future[Answer]]] = []
    wrong: list[str] = []
    async with Ticker() as ticker:
        with write_locked(database, seconds) as released:
            for call in calls:
                if released.is_set():
                    break
                payload = standin.interaction(2, call.data, call.user_id, locale=call.locale)
                acked: asyncio.Future[Answer] = loop.create_future()
                followed: asyncio.Future[Answer] = loop.create_future()
                standin.waiting[payload["id"]] = acked
                standin.followups[payload["token"]] = followed
                t0 = await standin.send_interaction(payload)
                watched: set[asyncio.Future[Any]] = {acked, client_task}
                done, _ = await asyncio.wait(
                    watched,
                    timeout=DISCORD_ANSWER_LIMIT_MS / 1000,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if client_task in done:
                    client_task.result()
                if acked not in done:
                    run.unanswered.append(f"{call.label}: not acknowledged within 3 s")
                    continue
                answer = acked.result()
                run.acks[call.label].append(answer.t1 - t0)
                if answer.body["type"] == 5:
                    run.deferred += 1
                    later.append((call, t0, followed))
                else:
                    standin.followups.pop(payload["token"], None)
                    if not call.check(answer.body):
                        wrong.append(f"{call.label}: {json.dumps(answer.body)[:300]}")
            await asyncio.to_thread(released.wait, seconds + 5)
        for call, t0, followed in later:
            try:
                answer = await asyncio.wait_for(followed, answer_within)
            except TimeoutError:
                run.unanswered.append(f"{call.label}: deferred, never answered")
                continue
            run.answered.append(answer.t1 - t0)
            if answer.body.get("content") in busy_texts:
                run.busy += 1
            elif not call.check({"type": 4, "data": {"flags": 0, "content": "", **answer.body}}):
                wrong.append(f"{call.label} (deferred): {json.dumps(answer.body)[:300]}")
        run.worst_loop_lag = ticker.worst
    if wrong:
        raise SystemExit(f"{len(wrong)} wrong answers under the lock, the first:\n{wrong[0]}")
    return run


@contextlib.asynccontextmanager
async def started(client: discord.Client, standin: StandIn) -> AsyncIterator[asyncio.Task[None]]:
    """client.start() against the stand-in, until ready; closed on the way out."""

    async def run() -> None:
        async with client:
            await client.start(os.environ[TOKEN_ENV])

    standin.identified.clear()
    task = asyncio.create_task(run())
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    if ready not in done:
        raise SystemExit("discord.py did not get ready")
    try:
        yield task
    finally:
        if task.done() and task.exception():
            task.result()
        await client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class EchoClient(discord.Client):
    """The floor: one slash command that answers at once."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="echo", description="Say echo")
        async def echo(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("echo")

    async def setup_hook(self) -> None:
        guild = discord.Object(id=int(GUILD_ID))
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)


# -- Samen: the app, the data ----------------------------------------------------------------


def make_app(database: Path) -> App:
    settings = make_settings(f"sqlite:///{database}")
    settings = settings.model_copy(
        update={
            "discord": settings.discord.model_copy(
                update={"enabled": True, "guild_ids": (int(GUILD_ID),), "token_env": TOKEN_ENV}
            ),
            "admins": (f"discord:{OWNER_ID}",),
        }
    )
    app = App(settings)
    app.prepare_database()
    return app


async def say(app: App, user_id: str, name: str, command: str, options: dict[str, str]) -> None:
    reply = await app.dispatcher.dispatch(
        Invocation(
            platform="discord",
            user_id=user_id,
            display_name=name,
            command=command,
            options=options,
            place=CHANNEL_ID,
        )
    )
    if reply.is_error:
        raise SystemExit(f"seeding: {command} {options} → {reply.plain()}")


def next_monday(app: App) -> str:
    """The first Monday at least two days ahead, 08:30: reminders fall within the plan."""
    today = datetime.now(app.settings.zone).date()
    day = today + timedelta(days=2)
    day += timedelta(days=(7 - day.weekday()) % 7)
    return f"{day.isoformat()} 08:30"


async def seed(app: App, rng: random.Random, args: argparse.Namespace) -> Community:
    """Members with profiles, posts and a meetup with a waitlist, all through the core."""
    settings = app.settings
    sectors = settings.sector_levels.leaves()
    regions = settings.region_levels.leaves()
    members: dict[str, str] = {}
    locales: dict[str, str] = {}
    visible: list[str] = []
    for n in range(1, args.members + 1):
        user_id = str(MEMBER_IDS + n)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        locale = rng.choice(("nl", "nl", "fr", "fr", "en"))
        members[user_id], locales[user_id] = name, DISCORD_LOCALE[locale]
        roll = rng.random()
        options = {
            "sectors": ",".join(rng.sample(sectors, rng.randint(1, 3))),
            "region": rng.choice(regions),
            "skills": ",".join(rng.sample(SKILLS, rng.randint(1, 4))),
            "languages": ",".join(rng.sample(("nl", "fr", "en", "de"), rng.randint(1, 3))),
            "bio": rng.choice(("Freelancer since 2015.", "Zelfstandige in bijberoep.", "")),
            "locale": locale,
            "visibility": "all" if roll < 0.85 else ("circles" if roll < 0.95 else "hidden"),
        }
        await say(app, user_id, name, "profile set", {k: v for k, v in options.items() if v})
        if options["visibility"] == "all":
            visible.append(user_id)
    ids = list(members)
    for _ in range(args.posts):
        who = rng.choice(ids)
        command, options = post_options(rng, regions)
        await say(app, who, members[who], command, options)
    await say(
        app,
        OWNER_ID,
        "owner",
        "meetup create",
        {
            "title": MEETUP_TITLE,
            "circle": "brussels",
            "start": next_monday(app),
            "every": "every monday",
            "capacity": str(args.capacity),
            "description": "Coffee, croissants and a round of what everyone works on.",
        },
    )
    with app.database.session() as session:
        meetup_id = session.exec(select(func.max(Meetup.id))).one()
    if meetup_id is None:
        raise SystemExit("seeding: the meetup was not created")
    for who in rng.sample(ids, min(len(ids), args.capacity * 5 // 2)):  # full, then a waitlist
        await say(
            app, who, members[who], "meetup rsvp", {"meetup": str(meetup_id), "answer": "going"}
        )
    with app.database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return Community(members, locales, visible, meetup_id)


# -- reporting --------------------------------------------------------------------------------


def versions() -> list[tuple[str, str]]:
    return [
        ("discord.py", discord.__version__),
        ("aiohttp", importlib.metadata.version("aiohttp")),
    ]


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def report(
    args: argparse.Namespace,
    seeding: float,
    samen: Run,
    floor: Run,
    info: list[tuple[str, str]],
    locked: LockedRun | None = None,
) -> None:
    print("\n## Discord interactions: Samen beside a bare discord.py echo bot\n")
    print("| machine | |")
    print("|---|---|")
    for key, value in info:
        print(f"| {key} | {value} |")
    print(
        f"| setup | stand-in for Discord on 127.0.0.1 (same process and event loop), "
        f"unmodified discord.py; Samen on SQLite (WAL) in a temp dir: {args.members} members "
        f"with profiles, {args.posts:,} posts (FTS5), a weekly meetup with {args.capacity} "
        f"places; {args.count:,} sequential interactions after {args.warmup} warm-up"
        + (
            "; start-up frozen out of GC, as App.run does"
            if args.gc_freeze
            else "; CPython GC defaults (--no-gc-freeze)"
        )
        + " |"
    )
    print(f"| seeding | {seeding:.1f} s, through the core (Dispatcher.dispatch) |")
    print()
    print("Latency: INTERACTION_CREATE written → callback POST received by the stand-in.\n")
    print(
        "| path | interactions | p50 ms | p95 ms | p99 ms | max ms "
        "| interactions/s | p50 ÷ floor p50 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = floor.stats("all")
    rows: list[tuple[str, Stats, str]] = [
        (f"Samen `{label}`", samen.stats(label), "") for label in (PROFILE, SEARCH, RSVP)
    ]
    rows.append(("**Samen, all three**", samen.stats("all"), f"{samen.stats('all').rate:,.0f}"))
    rows.append(("floor: discord.py `/echo`", base, f"{base.rate:,.0f}"))
    for name, stats, rate in rows:
        print(
            f"| {name} | {stats.count:,} | {stats.pct(50):.2f} | {stats.pct(95):.2f} "
            f"| {stats.pct(99):.2f} | {stats.max_ms:.2f} | {rate or '—'} "
            f"| {stats.pct(50) / base.pct(50):.1f}× |"
        )
    everything = samen.stats("all")
    targets = Targets("discord_interactions")
    targets.add(
        f"Discord interaction p99 / max (Samen, {everything.count:,} of profile, search, rsvp)",
        f"{everything.pct(99):.2f} / {everything.max_ms:.2f} ms",
        "max < 3,000 ms (Discord fails an interaction unanswered at 3 s)",
        everything.max_ms < DISCORD_ANSWER_LIMIT_MS,
    )
    if locked is not None:
        acks = locked.stats()
        targets.add(
            f"Discord acknowledgement p99 / max while SQLite is write-locked for "
            f"{locked.seconds:g} s ({acks.count} interactions)",
            f"{acks.pct(99):.1f} / {acks.max_ms:.1f} ms",
            "every interaction acknowledged, within 1,000 ms",
            not locked.unanswered and acks.max_ms < ACK_TARGET_MS,
        )
    targets.write(args.json)
    print(
        f"\nSamen ÷ floor: p50 {everything.pct(50) / base.pct(50):.1f}×, "
        f"p99 {everything.pct(99) / base.pct(99):.1f}×, "
        f"throughput {everything.rate / base.rate:.2f}×; "
        f"Samen's own share of the p50 ≈ {everything.pct(50) - base.pct(50):.2f} ms."
    )
    if locked is not None:
        report_locked(locked)
    searches = samen.stats(SEARCH).count
    if searches:
        print(
            f"\n`/board search` found posts in {samen.search_hits} of {searches} searches "
            f"({samen.search_hits / searches:.0%})."
        )
    for label, latencies in samen.with_side_requests.items():
        side = Stats.of(label, latencies, samen.seconds)
        print(
            f"\n{side.count} of the `{label}` interactions made other REST requests before "
            f"their callback (p50 {side.pct(50):.2f} ms, max {side.max_ms:.2f} ms)."
        )
    if samen.side_requests:
        made = ", ".join(f"{n} × `{what}`" for what, n in samen.side_requests.most_common())
        print(f"Those requests: {made}.")
    for name, run in (("Samen", samen), ("floor", floor)):
        slow = "; ".join(
            f"#{n} `{what}` {ms:.1f} ms" + (f" (GC {pause:.1f} ms)" if pause >= 0.05 else "")
            for ms, n, what, pause in run.slowest
        )
        collections_by_gen = collections.Counter(gen for _, gen in run.gc_pauses)
        longest = max((ms for ms, _ in run.gc_pauses), default=0.0)
        print(
            f"\n{name}, the slowest: {slow}. Garbage collections during the run: "
            + ", ".join(f"{collections_by_gen[g]} of gen {g}" for g in sorted(collections_by_gen))
            + f", the longest {longest:.1f} ms."
        )


def report_locked(locked: LockedRun) -> None:
    print(f"\n### While another connection holds SQLite's write lock for {locked.seconds:g} s\n")
    print(
        "Interactions sent one after the other during the lock. Acknowledged: INTERACTION_CREATE "
        'written → the callback POST (the answer itself, or a deferral, "thinking…").\n'
    )
    print("| command | interactions | ack p50 ms | ack p99 ms | ack max ms |")
    print("|---|---:|---:|---:|---:|")
    for label in (PROFILE, SEARCH, RSVP, "all"):
        stats = locked.stats(label)
        if stats.count:
            name = "**all**" if label == "all" else f"`{label}`"
            print(
                f"| {name} | {stats.count} | {stats.pct(50):.1f} | {stats.pct(99):.1f} "
                f"| {stats.max_ms:.1f} |"
            )
    answered = Stats.of("answered", locked.answered, locked.seconds)
    print(
        f"\n{locked.deferred} were deferred; their answers came "
        + (
            f"p50 {answered.pct(50) / 1000:.1f} s, max {answered.max_ms / 1000:.1f} s after "
            f'they were sent; {locked.busy} of them "Samen is busy, try again".'
            if answered.count
            else "never."
        )
        + f" Not acknowledged within 3 s or never answered: {len(locked.unanswered)}."
        + f" The event loop's worst lag meanwhile: {locked.worst_loop_lag * 1000:.1f} ms."
    )


def report_breakdown(run: Run, floor: Run) -> None:
    print("\n### Where Samen's time goes (one more pass, `Dispatcher.dispatch` timed)\n")
    print(
        "| command | p50 ms | p50 in `Dispatcher.dispatch` ms | p50 of the rest ms | floor p50 ms |"
    )
    print("|---|---:|---:|---:|---:|")
    base = floor.stats("all").pct(50)
    for label in (PROFILE, SEARCH, RSVP):
        total = run.stats(label)
        core = Stats.of(label, run.core[label], run.seconds)
        rest = Stats.of(
            label, [t - c for t, c in zip(run.latencies[label], run.core[label], strict=True)], 1
        )
        print(
            f"| `{label}` | {total.pct(50):.2f} | {core.pct(50):.2f} | {rest.pct(50):.2f} "
            f"| {base:.2f} |"
        )
    print(
        "\n(the rest: discord.py parsing the event and the options, the adapter, rendering and "
        "sending the callback, and the stand-in, which shares the loop; `dispatch` includes "
        "the notifications it delivers before it returns)"
    )


def freeze(args: argparse.Namespace) -> None:
    """What App.run does after start-up, unless --no-gc-freeze asks for CPython's defaults."""
    if args.gc_freeze:
        keep_start_up_out_of_collections()
    else:
        gc.set_threshold(*DEFAULT_GC_THRESHOLDS)


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="measured interactions (each)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up interactions (each)")
    parser.add_argument("--members", type=int, default=300, help="members to seed")
    parser.add_argument("--posts", type=int, default=3000, help="board posts to seed")
    parser.add_argument("--capacity", type=int, default=40, help="places at the meetup")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--profile", action="store_true", help="one more Samen pass under cProfile")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="one more Samen pass with Dispatcher.dispatch timed: the core beside the rest",
    )
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave CPython's GC defaults (App.run freezes start-up out of collections)",
    )
    parser.add_argument(
        "--lock",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="then hold SQLite's write lock this long while interactions go on (0: skip)",
    )
    add_smoke(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, count=6, warmup=3, members=10, posts=20, lock=1.5)
    if args.count < 3 or args.warmup < 0 or args.members < 2 or args.posts < 1:
        parser.error("--count ≥ 3, --warmup ≥ 0, --members ≥ 2 and --posts ≥ 1")
    return args


async def bench(args: argparse.Namespace, database: Path) -> None:
    rng = random.Random(args.seed)
    os.environ[TOKEN_ENV] = "bench-token"
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    app = make_app(database)
    profile: pstats.Stats | None = None
    locked: LockedRun | None = None
    profiled: Run | None = None
    broken_down: Run | None = None
    try:
        began = time.perf_counter()
        community = await seed(app, rng, args)
        seeding = time.perf_counter() - began
        print(
            f"seeded {args.members} members, {args.posts} posts, meetup #{community.meetup_id} "
            f"in {seeding:.1f} s",
            file=sys.stderr,
        )
        standin = TimedStandIn(members={OWNER_ID: "owner", **community.members})
        await standin.start()
        patch_discord(standin)
        try:
            freeze(args)
            echo = EchoClient()
            async with started(echo, standin) as task:
                await measure(standin, task, echo_calls(rng, community, args.warmup))
                gc.collect()
                floor = await measure(standin, task, echo_calls(rng, community, args.count))
            adapter = DiscordAdapter(app, guild_ready_timeout=0.1)
            async with started(adapter.client, standin) as task:
                freeze(args)
                warmup = samen_calls(rng, community, args.warmup, 0)
                await measure(standin, task, warmup)
                calls = samen_calls(rng, community, args.count, args.warmup)
                gc.collect()
                samen = await measure(standin, task, calls)
                if args.lock:
                    busy_texts = {
                        app.catalogues.translator(locale, "en")(BUSY)
                        for locale in ("nl", "fr", "en")
                    }
                    under_lock = samen_calls(
                        rng, community, int(args.lock * 60) + 10, args.warmup + args.count
                    )
                    gc.collect()
                    locked = await measure_locked(
                        standin,
                        task,
                        under_lock,
                        database,
                        args.lock,
                        busy_texts,
                        app.settings.storage.command_timeout_seconds + args.lock + 10,
                    )
                if args.profile:
                    again = samen_calls(rng, community, args.count, args.warmup + args.count)
                    gc.collect()
                    profiler = cProfile.Profile()
                    profiler.enable()
                    profiled = await measure(standin, task, again)
                    profiler.disable()
                    profile = pstats.Stats(profiler)
                if args.breakdown:
                    answered = args.warmup + args.count * (2 if args.profile else 1)
                    again = samen_calls(rng, community, args.count, answered)
                    gc.collect()
                    with CoreTimer(app) as core:
                        broken_down = await measure(standin, task, again, core)
        finally:
            await standin.stop()
        report(args, seeding, samen, floor, machine_info() + versions(), locked)
        if errors.records:
            print(f"\n{len(errors.records)} errors were logged, the first: ")
            print(errors.records[0].getMessage())
        if broken_down is not None:
            report_breakdown(broken_down, floor)
        if profile is not None and profiled is not None:
            print_hotspots("Samen's measured phase (whole loop)", profile, profiled.seconds)
            print(
                f"\n(under cProfile: {profiled.stats('all').rate:,.0f} interactions/s, "
                f"p50 {profiled.stats('all').pct(50):.2f} ms)"
            )
    finally:
        logging.getLogger().removeHandler(errors)
        app.database.dispose()
    if errors.records:
        raise SystemExit(f"failed: {len(errors.records)} errors were logged")
    if samen.stats(SEARCH).count and not samen.search_hits:
        raise SystemExit("failed: no `/board search` found a post")
    if locked is not None and locked.unanswered:
        raise SystemExit(
            f"failed: {len(locked.unanswered)} interactions under the write lock were not "
            f"acknowledged in time or never answered, the first: {locked.unanswered[0]}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # no voice: PyNaCl, davey
    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        asyncio.run(bench(args, Path(tmp) / "bench.db"))


if __name__ == "__main__":
    main()
