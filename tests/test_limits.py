"""Rate limits: a member who floods the bot gets a short, translated answer saying when to
try again, and nothing is done; the limit refills with time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from bot.config import LimitSettings, Settings
from tests.conftest import make_settings
from tests.helpers import english, snapshot


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """bot.toml's own limits, which the other tests lift."""
    return make_settings(sqlite_url, limits=LimitSettings())


def test_bot_toml_says_the_built_in_limits() -> None:
    from bot.config import load_settings
    from tests.conftest import ROOT

    assert load_settings(ROOT / "bot.toml").limits == LimitSettings()


async def test_a_burst_of_commands_is_slowed_down_then_allowed_again(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "ann", "ben")  # one command each
    burst = bot.app.settings.limits.commands_burst
    for _ in range(burst - 1):
        assert not (await bot.say("ann", "!profile show")).is_error
    slowed = await bot.say("ann", "!profile show")
    assert slowed.is_error
    assert slowed.text.splitlines()[0] == "Slow down a little: try again in 1 s."
    assert not (await bot.say("ben", "!profile show")).is_error  # others are not slowed
    clock.advance(timedelta(seconds=1))
    assert not (await bot.say("ann", "!profile show")).is_error


async def test_posting_has_its_own_tighter_limit_and_a_refused_post_writes_nothing(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "ann")
    limits = bot.app.settings.limits
    for number in range(limits.publish_burst):
        posted = await bot.say("ann", f"!need post A van for day {number} sector=events")
        assert not posted.is_error, posted.text
    before = snapshot(bot.app)
    refused = await bot.say("ann", "!offer post Lighting desk to lend sector=events")
    assert refused.is_error
    minutes = 60 // limits.publish_per_hour
    assert f"try again in {minutes} min." in refused.text
    assert snapshot(bot.app) == before
    assert not (await bot.say("ann", "!board list")).is_error  # reading is still fine
    clock.advance(timedelta(minutes=minutes))
    assert not (await bot.say("ann", "!offer post Lighting desk to lend sector=events")).is_error


async def test_the_answer_is_in_the_members_language(bot: MemoryAdapter) -> None:
    await bot.say("zoé", "!profile set locale=fr")
    for _ in range(bot.app.settings.limits.commands_burst - 1):
        await bot.say("zoé", "!profile show")
    slowed = await bot.say("zoé", "!profile show")
    assert slowed.is_error and "réessayez dans 1" in slowed.text
