"""Storage on SQLite and PostgreSQL: migrations from empty, no drift, pragmas, transactions."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database, alembic_config, normalise_url
from storage.identity import Account, Member
from storage.schema import metadata
from tests.conftest import PostgresServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        return Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    server: PostgresServer = request.getfixturevalue("postgres")
    return Database(server.new_database())


def test_migrations_upgrade_an_empty_database_and_match_the_models(
    empty_database: Database,
) -> None:
    assert empty_database.current_revision() is None
    assert not empty_database.is_current()
    empty_database.upgrade()
    assert empty_database.is_current()
    tables = set(inspect(empty_database.engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= tables
    command.check(alembic_config(empty_database.engine))  # raises on any drift
    empty_database.dispose()


def test_migrations_downgrade_to_empty_and_up_again(empty_database: Database) -> None:
    empty_database.upgrade()
    command.downgrade(alembic_config(empty_database.engine), "base")
    assert "member" not in inspect(empty_database.engine).get_table_names()
    empty_database.upgrade()
    assert empty_database.is_current()
    empty_database.dispose()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'nested' / 'samen.db'}")
    database.upgrade()
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            Account(
                member_id=999,
                platform="console",
                platform_user_id="x",
                handle="x",
                last_seen_at=datetime.now(UTC),
            )
        )
    database.dispose()


def test_the_write_ahead_log_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    """Commits no longer checkpoint (that was the board's slowest answers); the background
    checkpointer copies what they wrote from the log into the database file soon after."""
    database = Database(f"sqlite:///{tmp_path / 'samen.db'}")
    database.upgrade()
    assert database.checkpointer is not None
    database.checkpointer.interval = 0.05
    time.sleep(0.6)  # the migrations are in the file
    file = tmp_path / "samen.db"
    before = file.stat().st_size
    with database.session() as session:
        now = datetime.now(UTC)
        for index in range(2000):
            session.add(
                Member(display_name=f"m{index}", name_folded="m", bio="x" * 500, created_at=now)
            )
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    deadline = time.monotonic() + 5
    while file.stat().st_size < before + 500_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert file.stat().st_size >= before + 500_000  # the 1 MB of members reached the file
    database.dispose()


def test_instants_come_back_aware_and_in_utc(database_url: str) -> None:
    database = Database(database_url)
    if database.is_sqlite:
        database.upgrade()
    brussels_summer = timezone(timedelta(hours=2))
    moment = datetime(2027, 3, 29, 8, 30, tzinfo=brussels_summer)
    with database.session() as session:
        member = Member(display_name="T", name_folded="t", created_at=moment)
        session.add(member)
        session.flush()
        member_id = member.id
    with database.session() as session:
        loaded = session.get(Member, member_id)
        assert loaded is not None
        assert loaded.created_at == moment
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
    database.dispose()


def test_a_failed_session_writes_nothing(database_url: str) -> None:
    database = Database(database_url)
    if database.is_sqlite:
        database.upgrade()
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Member(display_name="Gone", name_folded="gone", created_at=datetime.now(UTC)))
        session.flush()
        raise RuntimeError("stop")
    with database.session() as session:
        assert session.get(Member, 1) is None
    database.dispose()


def test_a_connection_in_use_when_the_database_closes_is_closed_when_it_comes_back(
    database_url: str,
) -> None:
    """A worker thread that finishes its query after the app disposed the database gives its
    connection back to the discarded pool: it is closed then, not left open for the garbage
    collector (psycopg warns about such a connection, and PostgreSQL keeps its session)."""
    database = Database(database_url)
    in_use = database.engine.connect()
    in_use.execute(text("SELECT 1"))
    raw = in_use.connection.dbapi_connection
    idle = database.engine.connect()
    idle_raw = idle.connection.dbapi_connection
    idle.close()  # back in the pool before the dispose: the dispose closes it
    database.dispose()
    assert raw is not None and idle_raw is not None
    raw.cursor().close()  # still open while its thread uses it
    in_use.close()
    # a straggler that connects after the dispose: its connection is closed when it is done
    late = database.engine.connect()
    assert late.execute(text("SELECT 1")).scalar() == 1
    late_raw = late.connection.dbapi_connection
    late.close()
    for connection in (raw, idle_raw, late_raw):
        with pytest.raises((sqlite3.ProgrammingError, psycopg.OperationalError)):
            connection.cursor()  # type: ignore[union-attr]


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_board_list_migration_lists_the_open_posts_already_stored(
    empty_database: Database,
) -> None:
    from storage.board import CLOSED, OPEN, list_posts

    command.upgrade(alembic_config(empty_database.engine), "0009")
    now = datetime.now(UTC)
    # written as SQL: the models describe the newest schema, not the one at 0009
    with empty_database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO member (id, display_name, name_folded, bio, visibility,"
                " reminder_offsets, remind_maybe, created_at) VALUES (1, 'Ann', 'ann', '',"
                " 'all', '', false, :now)"
            ),
            {"now": now},
        )
        for title, status in (("Van", OPEN), ("Old van", CLOSED)):
            connection.execute(
                text(
                    "INSERT INTO post (kind, author_id, title, description, category, sector,"
                    " region, remote, status, expiry_warned, valid_until, created_at) VALUES"
                    " ('need', 1, :title, '', 'logistics', 'events', 'gent', false, :status,"
                    " false, :until, :now)"
                ),
                {"title": title, "status": status, "until": now + timedelta(days=30), "now": now},
            )
    empty_database.upgrade()
    with empty_database.session() as session:
        page = list_posts(session, kind="need", region="gent", category="logistics")
        assert [post.title for post in page.posts] == ["Van"]
        assert list_posts(session, sector="events").total == 1
    empty_database.dispose()


def test_the_members_find_migration_copies_region_and_name_into_the_sectors(
    empty_database: Database,
) -> None:
    from storage.profiles import find_members

    command.upgrade(alembic_config(empty_database.engine), "0010")
    now = datetime.now(UTC)
    with empty_database.engine.begin() as connection:
        for number, (name, region) in enumerate((("Zoë", "gent"), ("Ann", "gent"), ("Bo", None))):
            connection.execute(
                text(
                    "INSERT INTO member (id, display_name, name_folded, region, bio, visibility,"
                    " reminder_offsets, remind_maybe, created_at) VALUES (:id, :name, :folded,"
                    " :region, '', 'all', '', false, :now)"
                ),
                {
                    "id": number + 1,
                    "name": name,
                    "folded": name.lower(),
                    "region": region,
                    "now": now,
                },
            )
            connection.execute(
                text("INSERT INTO member_sector (member_id, sector) VALUES (:id, 'music')"),
                {"id": number + 1},
            )
    empty_database.upgrade()
    with empty_database.session() as session:
        in_gent = find_members(session, sector="music", region="gent", viewer_id=3)
        assert [m.display_name for m in in_gent.members] == ["Ann", "Zoë"]
        assert in_gent.total == 2
        everywhere = find_members(session, sector="music")
        assert [m.display_name for m in everywhere.members] == ["Ann", "Bo", "Zoë"]
    empty_database.dispose()
