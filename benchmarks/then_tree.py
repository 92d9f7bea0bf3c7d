"""An old commit beside main in the same run: its tree, and a copy of a data dir it can serve.

Issue 8's targets are milliseconds of CPU, measured on a shared host whose speed moves by half
from one hour to the next. A ratio against the code the issue was filed on, measured in the
same run, does not move with it (BENCHMARKS.md, "The search page against the code the issue
was filed on, session 20")::

    .venv/bin/python -m benchmarks.then_tree --work DIR --scratch SCRATCH [--commit 779d4e5]
    .venv/bin/python -m benchmarks.web_cpu_pair --work SCRATCH/work --before SCRATCH/tree/src \\
        --after-work DIR --only "new query" --only "q=\\`, cold"

What it makes: the commit's files (``git archive``) in SCRATCH/tree, and a copy of DIR (papers
embedded by this tree) in SCRATCH/work. The copy's schema is taken down to the commit's newest
revision by this tree's Alembic downgrades, and its stored vectors are put back (a downgrade
may recreate their table empty). Then the commit's own ``dailypapers index`` runs over it: it
builds its keyword and dense indexes, in its own formats, from the stored vectors, and embeds
no paper again. SCRATCH must not exist yet.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

from benchmarks.common import ROOT

ISSUE_8_FILED_ON = "779d4e5"  # 30 November 2026, 20:24: the commit before the worker's
_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+)$", re.MULTILINE)


def unpack(commit: str, tree: Path) -> None:
    """The files of ``commit`` in ``tree``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as files:
        files.extractall(tree, filter="data")


def newest_revision(tree: Path) -> str:
    """The one head of the tree's migrations: the revision no other one comes down to."""
    revisions: set[str] = set()
    below: set[str] = set()
    for script in (tree / "src/dailypapers/store/migrations/versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text()):
            found = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            (revisions if name == "revision" else below).update(found)
    heads = revisions - below
    if len(heads) != 1:
        raise SystemExit(f"{tree}: expected one migration head, found {sorted(heads)}")
    return heads.pop()


def database(work: Path) -> Path:
    """The SQLite file of a data dir, where the site's settings put it."""
    from sqlalchemy.engine import make_url

    from dailypapers.settings import Settings

    url = Settings(mode="development", data_dir=work).resolved_database_url
    return Path(str(make_url(url).database))


def take_down(work: Path, revision: str) -> None:
    """The copy's schema at ``revision``, by this tree's downgrades."""
    from alembic import command

    from dailypapers.store import open_store
    from dailypapers.store.migrate import alembic_config

    store = open_store(f"sqlite:///{database(work)}")
    config = alembic_config(store)
    with store.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    store.dispose()


def put_vectors_back(work: Path, source: Path) -> int:
    """The stored vectors of ``source`` in the copy again, in the columns both tables have."""
    with sqlite3.connect(f"file:{database(work)}", uri=True) as connection:
        connection.execute("ATTACH DATABASE ? AS source", (f"file:{database(source)}?mode=ro",))
        ours = [row[1] for row in connection.execute("PRAGMA main.table_info(paper_vectors)")]
        theirs = {row[1] for row in connection.execute("PRAGMA source.table_info(paper_vectors)")}
        columns = ", ".join(c for c in ours if c in theirs)
        connection.execute("DELETE FROM main.paper_vectors")
        connection.execute(
            f"INSERT INTO main.paper_vectors ({columns}) "  # noqa: S608 (the tables' own names)
            f"SELECT {columns} FROM source.paper_vectors"
        )
        return int(connection.execute("SELECT count(*) FROM main.paper_vectors").fetchone()[0])


def index_with(tree: Path, work: Path) -> None:
    """The old tree's ``dailypapers index`` over the copy (its output shown)."""
    env = dict(
        os.environ,
        PYTHONPATH=str(tree / "src"),
        DAILYPAPERS_DATA_DIR=str(work),
        DAILYPAPERS_MODE="development",
    )
    subprocess.run(  # noqa: S603 (our own interpreter and package)
        [sys.executable, "-m", "dailypapers", "index"], check=True, cwd=work, env=env
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a data dir, papers embedded")
    parser.add_argument("--scratch", type=Path, required=True, help="a new folder for both")
    parser.add_argument("--commit", default=ISSUE_8_FILED_ON)
    options = parser.parse_args()
    if options.scratch.exists():
        parser.error(f"{options.scratch} exists: give a new folder")
    if not database(options.work).is_file():
        parser.error(f"{options.work} holds no {database(options.work).name}")
    tree, work = options.scratch / "tree", options.scratch / "work"
    try:
        unpack(options.commit, tree)
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"git archive {options.commit}: {error.stderr.decode().strip()}") from None
    revision = newest_revision(tree)
    # The indexes are the old tree's to build, in its formats.
    shutil.copytree(options.work, work, ignore=lambda folder, _names: ["index"])
    take_down(work, revision)
    vectors = put_vectors_back(work, options.work)
    print(f"{options.commit}: schema at {revision}, {vectors:,} vectors; indexing with it")
    try:
        index_with(tree, work)
    except subprocess.CalledProcessError as error:
        failed = f"{options.commit}'s dailypapers index failed (exit {error.returncode})"
        raise SystemExit(failed) from None
    print(f"tree {tree / 'src'}, data dir {work}")


if __name__ == "__main__":
    main()
