"""One member across platforms: a one-time code said on the other platform joins accounts."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.reply import Visibility
from storage.identity import Member, account_for
from tests.helpers import snapshot


def _code(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


async def test_link_joins_two_platform_accounts_into_one_member(any_bot: MemoryAdapter) -> None:
    console = any_bot
    matrix = MemoryAdapter(console.app, platform="matrix")
    await console.say("alice", '!profile set region=gent skills="sound engineering"')
    await matrix.say("@alice:example.org", "!profile set sectors=audiovisual languages=fr")
    given = await console.say("alice", "!link")
    assert given.visibility is Visibility.DIRECT
    assert "10" in given.text
    done = await matrix.say("@alice:example.org", f"!link {_code(given.text)}")
    assert not done.is_error, done.text
    assert "alice" in done.text
    with console.app.database.session() as session:
        on_console = account_for(session, "console", "alice")
        on_matrix = account_for(session, "matrix", "@alice:example.org")
        assert on_console is not None
        assert on_matrix is not None
        assert on_console.member_id == on_matrix.member_id
        assert len(list(session.exec(select(Member)))) == 1
    shown = await matrix.say("@alice:example.org", "!profile show")
    values = {f.name: f.value for f in shown.fields}
    assert values["Regio"] == "Gent"  # the profile of the member who asked for the code wins
    assert values["Platformen"] == "console, matrix"


async def test_a_code_expires_after_ten_minutes(bot: MemoryAdapter, clock: FakeClock) -> None:
    matrix = MemoryAdapter(bot.app, platform="matrix")
    code = _code((await bot.say("bea", "!link")).text)
    await matrix.say("@bea:example.org", "!help")
    clock.advance(timedelta(minutes=10, seconds=1))
    before = snapshot(bot.app)
    late = await matrix.say("@bea:example.org", f"!link {code}")
    assert late.is_error
    assert "verlopen" in late.text
    assert snapshot(bot.app) == before


async def test_a_code_works_once_and_not_on_the_same_platform(bot: MemoryAdapter) -> None:
    matrix = MemoryAdapter(bot.app, platform="matrix")
    code = _code((await bot.say("cas", "!link")).text)
    same_platform = await bot.say("dino", f"!link {code}")
    assert same_platform.is_error
    assert "ander platform" in same_platform.text
    own = await bot.say("cas", f"!link {code}")
    assert own.is_error
    assert (await matrix.say("@cas:example.org", f"!link {code}")).is_error is False
    again = await matrix.say("@other:example.org", f"!link {code}")
    assert again.is_error


async def test_linking_keeps_circle_memberships_of_both(app: App, bot: MemoryAdapter) -> None:
    from datetime import UTC, datetime

    from sqlmodel import select

    from storage.circles import Circle, CircleMembership

    matrix = MemoryAdapter(app, platform="matrix")
    await bot.say("eli", "!help")
    await matrix.say("@eli:x.org", "!help")
    now = datetime.now(UTC)
    with app.database.session() as session:
        circles = [Circle(key=k, name=k, kind="sector", created_at=now) for k in ("t-a", "t-b")]
        session.add_all(circles)
        session.flush()
        console_account = account_for(session, "console", "eli")
        matrix_account = account_for(session, "matrix", "@eli:x.org")
        assert console_account is not None
        assert matrix_account is not None
        for circle, member_id in (
            (circles[0], console_account.member_id),
            (circles[0], matrix_account.member_id),
            (circles[1], matrix_account.member_id),
        ):
            assert circle.id is not None
            session.add(CircleMembership(circle_id=circle.id, member_id=member_id, joined_at=now))
    circle_ids = [c.id or 0 for c in circles]
    code = _code((await bot.say("eli", "!link")).text)
    assert not (await matrix.say("@eli:x.org", f"!link {code}")).is_error
    with app.database.session() as session:
        memberships = list(session.exec(select(CircleMembership)))
        assert sorted(m.circle_id for m in memberships) == sorted(circle_ids)
        assert len({m.member_id for m in memberships}) == 1


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_five_wrong_codes_an_hour_then_the_member_must_wait(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    matrix = MemoryAdapter(bot.app, platform="matrix")
    code = _code((await bot.say("fien", "!link")).text)
    for left in (4, 3, 2, 1):
        wrong = await matrix.say("@fien:example.org", f"!link {_wrong(code)}")
        assert wrong.is_error
        assert "onbekend" in wrong.text
        assert f"nog {left} keer" in wrong.text
    fifth = await matrix.say("@fien:example.org", f"!link {_wrong(code)}")
    assert "Te veel verkeerde codes" in fifth.text
    code = _code((await bot.say("fien", "!link")).text)  # a fresh code: the member is still held
    held = await matrix.say("@fien:example.org", f"!link {code}")
    assert held.is_error
    assert "Te veel verkeerde codes" in held.text
    clock.advance(timedelta(hours=1, seconds=1))
    code = _code((await bot.say("fien", "!link")).text)
    done = await matrix.say("@fien:example.org", f"!link {code}")
    assert not done.is_error, done.text


async def test_a_code_dies_after_five_wrong_tries(bot: MemoryAdapter) -> None:
    matrix = MemoryAdapter(bot.app, platform="matrix")
    code = _code((await bot.say("gust", "!link")).text)
    for guesser in range(5):  # five members, one wrong guess each
        guess = await matrix.say(f"@guess{guesser}:example.org", f"!link {_wrong(code)}")
        assert guess.is_error
    late = await matrix.say("@gust:example.org", f"!link {code}")
    assert late.is_error
    assert "onbekend of verlopen" in late.text


async def test_wrong_tries_on_the_same_platform_leave_a_code_alone(bot: MemoryAdapter) -> None:
    matrix = MemoryAdapter(bot.app, platform="matrix")
    code = _code((await bot.say("hanne", "!link")).text)
    for guesser in range(5):  # these could never redeem a console code anyway
        await bot.say(f"guess{guesser}", f"!link {_wrong(code)}")
    assert not (await matrix.say("@hanne:example.org", f"!link {code}")).is_error
