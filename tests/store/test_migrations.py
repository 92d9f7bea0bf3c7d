"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.schema import CreateIndex

from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.paper import make_record
from dailypapers.store import Store, open_store
from dailypapers.store.limits import read_hits, take_hit
from dailypapers.store.migrate import alembic_config, is_current, upgrade
from dailypapers.store.papers import get_paper, upsert_papers
from dailypapers.store.schema import metadata, paper_votes, papers
from dailypapers.store.users import insert_user
from dailypapers.store.votes import add_vote

CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"


# An index on expressions: SQLAlchemy cannot reflect it from SQLite (it warns and skips it),
# so the comparison leaves it out and the test below reads its definition instead.
ORDER_INDEX = "ix_papers_feed_day_order"


def _not_the_order_index(item: object, name: str | None, kind: str, *_: object) -> bool:
    return not (kind == "index" and name == ORDER_INDEX)


def test_migrated_schema_matches_the_tables(store: Store) -> None:
    options = {"include_object": _not_the_order_index}
    with store.read_engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", f".*expression-based index '?{ORDER_INDEX}")
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert is_current(store)


def test_the_day_order_index_is_the_declared_one(store: Store) -> None:
    declared = next(i for i in papers.indexes if i.name == ORDER_INDEX)
    with store.read() as connection:
        if store.is_sqlite:
            query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
        made = connection.execute(text(query), {"name": ORDER_INDEX}).scalar_one()
    expressions = str(CreateIndex(declared).compile(dialect=connection.dialect)).split("(", 1)[1]
    squeeze = str.maketrans("", "", " ()'")  # PostgreSQL writes it back its own way
    made_keys = (
        made.split("(", 1)[1].lower().translate(squeeze).replace("::timestampwithouttimezone", "")
    )
    assert made_keys.replace("btree", "") == expressions.lower().translate(squeeze)


def test_upgrade_twice_is_a_no_op(store: Store) -> None:
    upgrade(store)
    with store.read() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    # The schema is one chain: accounts, limits, community, oauth and claims, perf, email,
    # the votes' clock, the discussion, moderation, collections, alerts,
    # the feed day's ranking index, a day's order index, votes and limits without rowid,
    # entry versions.
    assert versions == [("0016_entry_version",)]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.read() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_upgrade_to_0002_fills_feed_days_of_stored_papers(database_url: str) -> None:
    old = Store(database_url)
    config = alembic_config(old)
    with old.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    rows = [  # (id, first listed, featured, submitted): the feed day is the first one given
        ("2501.00001", "2025-01-06", "2025-01-09", "2025-01-03 10:00:00"),
        ("2501.00002", None, "2025-01-07", "2025-01-02 10:00:00"),
        ("2501.00003", None, None, "2025-01-05 23:30:00"),
        ("2501.00004", None, None, None),
    ]
    insert = text(
        "INSERT INTO papers (arxiv_id, title, first_listed_on, featured_on, submitted_at,"
        " content_hash, text_hash, created_at, updated_at) VALUES (:id, 't', :listed,"
        " :featured, :submitted, 'h', 'h', :now, :now)"
    )
    now = datetime(2026, 1, 1)
    with old.write() as connection:
        for pid, listed, featured, submitted in rows:
            connection.execute(
                insert,
                {
                    "id": pid,
                    "listed": listed and date.fromisoformat(listed),
                    "featured": featured and date.fromisoformat(featured),
                    "submitted": submitted and datetime.fromisoformat(submitted),
                    "now": now,
                },
            )
    old.dispose()
    upgraded = open_store(database_url)
    with upgraded.read() as connection:
        days = connection.execute(select(papers.c.arxiv_id, papers.c.feed_day)).all()
    upgraded.dispose()
    assert sorted(days) == [
        ("2501.00001", date(2025, 1, 6)),
        ("2501.00002", date(2025, 1, 7)),
        ("2501.00003", date(2025, 1, 5)),
        ("2501.00004", None),
    ]


def test_upgrade_to_0003_keeps_papers_and_a_new_import_fills_user_names(
    database_url: str, shared_data: Path
) -> None:
    old = Store(database_url)
    config = alembic_config(old)
    with old.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    with old.write() as connection:  # imported before user names were kept: the full name
        connection.execute(
            text(
                "INSERT INTO papers (arxiv_id, title, featured_by, content_hash, text_hash,"
                " created_at, updated_at) VALUES ('2606.00467', 't', 'Rafal Kocielnik', 'h',"
                " 'h', :now, :now)"
            ),
            {"now": datetime(2026, 6, 12)},
        )
    old.dispose()
    upgraded = open_store(database_url)  # to the newest schema
    with upgraded.read() as connection:
        kept = get_paper(connection, "2606.00467")
    assert kept is not None and (kept.featured_by, kept.featured_by_user) == (
        "Rafal Kocielnik",
        None,
    )
    summary = ingest(upgraded, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    assert (summary.counts.new, summary.counts.updated) == (29, 1)
    with upgraded.read() as connection:
        paper = get_paper(connection, "2606.00467")
    upgraded.dispose()
    assert paper is not None
    assert (paper.featured_by, paper.featured_by_user) == ("Rafal Kocielnik", "RKocielnik")


def test_upgrade_to_0007_copies_authors_categories_and_code_link_onto_stored_papers(
    database_url: str, shared_data: Path
) -> None:
    store = open_store(database_url)
    ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    listed = make_record(
        "2503.00001",
        "A Paper",
        abstract="Code: https://github.com/org/repo and https://github.com/org/other.",
        authors=["Zoë Ünal", "Alan Turing", "Grace Hopper", "Ada Lovelace"],
        categories=["cs.CL", "cs.AI", "stat.ML"],
    )
    with store.write() as connection:
        upsert_papers(connection, [listed])
    copies = select(
        papers.c.arxiv_id, papers.c.authors_json, papers.c.categories_json, papers.c.code_link
    ).order_by(papers.c.arxiv_id)
    with store.read() as connection:
        written = connection.execute(copies).all()
    store.dispose()
    old = Store(database_url)  # back to before the copies: the columns are dropped
    config = alembic_config(old)
    with old.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006_oauth_claims")
    old.dispose()
    upgraded = open_store(database_url)  # and up again: filled from the child tables
    with upgraded.read() as connection:
        filled = connection.execute(copies).all()
        paper = get_paper(connection, "2503.00001")
    upgraded.dispose()
    assert len(written) == 31 and filled == written
    assert sum(1 for row in filled if row.code_link) >= 2
    assert dict((row[0], row[1:]) for row in filled)["2503.00001"] == (
        '["Zoë Ünal", "Alan Turing", "Grace Hopper", "Ada Lovelace"]',
        '["cs.CL", "cs.AI", "stat.ML"]',
        "https://github.com/org/repo",
    )
    assert paper is not None and paper.authors[0] == "Zoë Ünal"


def _table_sql(connection: Connection, name: str) -> str:
    query = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"
    return str(connection.execute(text(query), {"name": name}).scalar_one())


def test_upgrade_to_0015_keeps_votes_and_counters(database_url: str) -> None:
    store = open_store(database_url)
    now = datetime(2026, 12, 2, 1, 30)
    with store.write() as connection:
        upsert_papers(connection, [make_record("2512.00001", "A Paper")])
        user = insert_user(
            connection, username="ada", email=None, password_hash=None, role="user",
            created_at=now,
        )  # fmt: skip
        add_vote(connection, user, "2512.00001", now)
        take_hit(connection, "vote:account:x", 60, 180, limit=5, previous=0, weight=0.5,
                 epsilon=1e-9)  # fmt: skip
    store.dispose()
    old = Store(database_url)  # back to 0014: rowid tables and the index of votes by time
    config = alembic_config(old)
    with old.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014_feed_day_order")
        indexes = {index["name"] for index in inspect(connection).get_indexes("paper_votes")}
        if old.is_sqlite:
            assert "WITHOUT ROWID" not in _table_sql(connection, "paper_votes")
    old.dispose()
    assert "ix_paper_votes_created_at" in indexes
    upgraded = open_store(database_url)
    with upgraded.read() as connection:
        votes = connection.execute(select(paper_votes)).all()
        hits = read_hits(connection, [("vote:account:x", 60)])
        indexes = {index["name"] for index in inspect(connection).get_indexes("paper_votes")}
        if upgraded.is_sqlite:  # each row in its primary key's b-tree alone
            assert _table_sql(connection, "paper_votes").rstrip().endswith("WITHOUT ROWID")
            assert _table_sql(connection, "rate_limits").rstrip().endswith("WITHOUT ROWID")
    upgraded.dispose()
    assert votes == [(user, "2512.00001", now, True)]
    assert hits == {("vote:account:x", 60): 1}
    assert indexes == {"ix_paper_votes_paper_id_created_at"}
