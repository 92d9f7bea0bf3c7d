"""The store: one relational schema behind one package; all SQL of the project lives here.

``Store`` (``db``) opens SQLite (WAL, one writer at a time) or PostgreSQL from a URL;
``migrate`` applies the Alembic migrations in ``migrations`` to the tables of ``schema``.
``papers`` writes papers and reads whole records back; ``entries`` reads them as the site
shows them (by ids, a period a page at a time, an author's, the days around), for
:mod:`dailypapers.feed`; ``documents`` and ``vectors`` are what the search index reads and
the embeddings it keeps; ``runs`` keeps the ingest runs and the resumable harvest state.
"""

from dailypapers.store.db import Store, open_store

__all__ = ["Store", "open_store"]
