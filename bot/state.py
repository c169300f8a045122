"""What adapters keep across restarts, and what they may look up in the core's data: a narrow
window on storage, so that adapters stay thin and never touch the tables themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select

from storage.circles import CircleMembership, CirclePlace
from storage.db import Database
from storage.identity import Account
from storage.platform_state import get_state, set_state


class AdapterState:
    """Key–value state of one platform, in the database."""

    def __init__(self, database: Database, platform: str):
        self.database = database
        self.platform = platform

    def get(self, key: str) -> str | None:
        with self.database.session() as session:
            return get_state(session, self.platform, key)

    def set(self, key: str, value: str) -> None:
        self.set_many({key: value})

    def set_many(self, values: dict[str, str]) -> None:
        """Several keys in one transaction."""
        with self.database.session() as session:
            now = datetime.now(UTC)
            for key, value in values.items():
                set_state(session, self.platform, key, value, now)

    def member_place(self, platform_user_id: str) -> str | None:
        """A place on this platform linked to one of the member's circles (to mention them
        there when a direct message cannot reach them)."""
        with self.database.session() as session:
            row = session.exec(
                select(CirclePlace.place_id)
                .join(
                    CircleMembership, col(CircleMembership.circle_id) == col(CirclePlace.circle_id)
                )
                .join(Account, col(Account.member_id) == col(CircleMembership.member_id))
                .where(
                    Account.platform == self.platform,
                    Account.platform_user_id == platform_user_id,
                    CirclePlace.platform == self.platform,
                )
                .limit(1)
            ).first()
            return row

    def platform_ids(self, member_ids: list[int]) -> dict[int, str]:
        """Each member's user id on this platform (for mentions), where they have one."""
        if not member_ids:
            return {}
        with self.database.session() as session:
            rows = session.exec(
                select(Account.member_id, Account.platform_user_id).where(
                    col(Account.member_id).in_(member_ids), Account.platform == self.platform
                )
            )
            return {member_id: user_id for member_id, user_id in rows}
