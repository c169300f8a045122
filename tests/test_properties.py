"""Property: any input line gives a Reply or a user error, never another exception, and a
failed command writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from tests.conftest import make_settings
from tests.helpers import snapshot


@pytest.fixture(scope="module")
def harness(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MemoryAdapter, asyncio.AbstractEventLoop]]:
    path: Path = tmp_path_factory.mktemp("prop") / "samen.db"
    app = App(make_settings(f"sqlite:///{path}"), clock=FakeClock())
    app.prepare_database()
    loop = asyncio.new_event_loop()
    bot = MemoryAdapter(app)
    loop.run_until_complete(bot.say("seed", '!profile set region=gent skills="a, b"'))
    yield bot, loop
    loop.close()
    app.database.dispose()


_NAMES = [
    "help",
    "profile show",
    "profile set",
    "profile clear",
    "members find",
    "link",
    "profil",
    "PROFILE SHOW",
    "members",
    "",
]
_KEYS = [
    "name",
    "sectors",
    "region",
    "skills",
    "languages",
    "bio",
    "locale",
    "visibility",
    "member",
    "sector",
    "skill",
    "page",
    "part",
    "code",
    "regio",
    "x",
    "Region",
]
_WORDS = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=30,
)
_VALUES = st.one_of(
    _WORDS,
    st.sampled_from(
        [
            "gent",
            "Gand",
            "audiovisual",
            "it,music",
            "fr",
            "hidden",
            "#1",
            "#999",
            "@seed",
            "seed",
            "0",
            "-1",
            "99999999999999",
            "nl, French",
            "x" * 600,
        ]
    ),
)
_TOKEN = st.one_of(
    _WORDS,
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(_KEYS), _VALUES),
    st.builds(lambda k, v: f'{k}="{v}"', st.sampled_from(_KEYS), _VALUES),
    st.builds(lambda v: f'"{v}', _WORDS),  # an unclosed quote
    st.builds(lambda v: f"“{v}”", _WORDS),
)
LINES = st.builds(
    lambda prefix, name, tokens: prefix + " ".join([name, *tokens]),
    st.sampled_from(["!", "", "!!", " !"]),
    st.sampled_from(_NAMES),
    st.lists(_TOKEN, max_size=6),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=LINES, user=st.sampled_from(["seed", "newcomer", "admin", "other"]))
def test_any_line_gets_a_reply_and_a_failure_writes_nothing(
    harness: tuple[MemoryAdapter, asyncio.AbstractEventLoop],
    line: str,
    user: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot, loop = harness
    before = snapshot(bot.app)
    caplog.clear()
    reply = loop.run_until_complete(bot.say(user, line))
    assert not [r for r in caplog.records if r.levelname == "ERROR"], line
    assert reply.text or reply.title or reply.fields
    if reply.is_error:
        assert snapshot(bot.app) == before, line
