"""PostgreSQL lost during a run: members get a clear answer and nothing half-done, and Samen
carries on by itself once the server is back (no restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from tests.conftest import make_settings
from tests.helpers import english
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy(postgres_migrated: str) -> Iterator[tuple[TcpProxy, str]]:
    """The migrated database, reached through a proxy the test can cut."""
    url = make_url(postgres_migrated)
    forwarder = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    forwarder.start()
    yield (
        forwarder,
        url.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False),
    )
    forwarder.cut()


@pytest.fixture
async def bot(proxy: tuple[TcpProxy, str], clock: FakeClock) -> AsyncIterator[MemoryAdapter]:
    application = App(make_settings(proxy[1]), clock=clock)
    application.prepare_database()
    yield MemoryAdapter(application)
    application.database.dispose()


def members_named(url: str, name: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT count(*) FROM member WHERE display_name = :name"), {"name": name}
        ).scalar_one()
    engine.dispose()
    return int(found)


async def test_a_server_that_drops_every_connection_is_reconnected_to(
    bot: MemoryAdapter, postgres_migrated: str
) -> None:
    await english(bot, "ana")
    assert "ana" in (await bot.say("ana", "!profile show")).title
    engine = create_engine(postgres_migrated, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # what a server restart does to the pool
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    assert killed >= 1
    again = await bot.say("ana", "!profile set name=Ana")
    assert not again.is_error, again.text
    assert members_named(postgres_migrated, "Ana") == 1


async def test_while_the_server_is_away_members_are_told_and_nothing_is_kept(
    bot: MemoryAdapter, proxy: tuple[TcpProxy, str], postgres_migrated: str
) -> None:
    forwarder = proxy[0]
    await english(bot, "bo")
    await bot.say("dee", "!profile set locale=fr")
    forwarder.cut()
    french = await bot.say("dee", "!profile show")  # told in the language they chose
    assert french.is_error and "base de données" in french.text, french.text
    away = await bot.say("bo", "!profile set name=Bo")
    assert away.is_error
    assert "database" in away.text.lower() and "again" in away.text.lower(), away.text
    assert "Traceback" not in away.text
    newcomer = await bot.say("cy", "!profile show")  # first contact, in the default language
    assert newcomer.is_error and "database" in newcomer.text.lower(), newcomer.text
    forwarder.start()  # back, on the same address
    back = await bot.say("bo", "!profile set name=Bo")
    assert not back.is_error, back.text
    assert members_named(postgres_migrated, "Bo") == 1
    # the newcomer's failed first contact left no half-made member behind
    shown = await bot.say("cy", "!profile show")
    assert not shown.is_error
    engine = create_engine(postgres_migrated)
    with engine.connect() as connection:
        names = connection.execute(text("SELECT display_name FROM member")).scalars().all()
    engine.dispose()
    assert sorted(names).count("cy") == 1, names
