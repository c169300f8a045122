"""Every table, imported in one place so that the metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from storage import circles, identity, profiles

metadata = SQLModel.metadata

__all__ = ["circles", "identity", "metadata", "profiles"]
