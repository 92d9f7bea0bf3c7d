"""The web layer reads through one package: no module of ``web/`` imports ``store/`` (or
SQLAlchemy), so pages, the API and the feeds all go through :mod:`dailypapers.feed.reader`.

Checked on the source itself: every import statement of every module under
``src/dailypapers/web``, read from its syntax tree (so a lazy import inside a function counts
too, and a mention in a docstring does not).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dailypapers.web

WEB = Path(dailypapers.web.__file__).parent
FORBIDDEN = ("dailypapers.store", "sqlalchemy")


def imported_modules(path: Path, root: Path = WEB) -> list[str]:
    """The absolute names ``path`` (a module under ``root``, the web package) imports."""
    parts = path.relative_to(root.parent).with_suffix("").parts[:-1]
    package = ".".join(("dailypapers", *parts))
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the module's package
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def test_the_walk_sees_imports_of_every_kind(tmp_path: Path) -> None:
    probe = tmp_path / "web" / "pages" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        '"""Mentions dailypapers.store in a docstring only."""\n'
        "import sqlalchemy.sql\n"
        "from dailypapers import store\n"
        "from ...store.entries import x\n"
        "from ..deps import reader\n"
        "def f():\n    from dailypapers.store import Store\n"
    )
    names = imported_modules(probe, tmp_path / "web")
    assert "dailypapers.web.deps.reader" in names
    assert sorted({name for name in names if _forbidden(name)}) == [
        "dailypapers.store",
        "dailypapers.store.Store",
        "dailypapers.store.entries",
        "dailypapers.store.entries.x",
        "sqlalchemy.sql",
    ]


@pytest.mark.parametrize(
    "path", sorted(WEB.rglob("*.py")), ids=lambda path: str(path.relative_to(WEB))
)
def test_web_does_not_import_the_store(path: Path) -> None:
    bad = sorted({name for name in imported_modules(path) if _forbidden(name)})
    assert bad == [], f"{path.relative_to(WEB.parent)} imports {bad}: read via dailypapers.feed"
