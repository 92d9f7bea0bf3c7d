"""The store: one relational schema behind one package; all SQL of the project lives here.

``Store`` opens SQLite (WAL, one writer at a time) or PostgreSQL from a URL; ``migrate``
applies the Alembic migrations; ``papers`` writes and reads papers; ``runs`` keeps the ingest
runs and the resumable harvest state.
"""

from dailypapers.store.db import Store, open_store

__all__ = ["Store", "open_store"]
