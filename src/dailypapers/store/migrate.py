"""Apply the Alembic migrations in ``migrations/`` (``dailypapers init`` and ``serve`` do)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dailypapers.store.db import Store

SCRIPT_LOCATION = "dailypapers.store:migrations"


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


def upgrade(store: Store) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    config = alembic_config(store)
    with store.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def is_current(store: Store) -> bool:
    """Whether the database schema is at the newest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config(store)).get_heads())
    with store.read_engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
