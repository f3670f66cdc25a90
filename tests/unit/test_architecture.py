"""The arrows of the layout, checked: routing/ imports nothing of ours and no
framework; handlers/ never reach Flask or the web edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "routing").rglob("*.py")), ids=lambda p: p.name)
def test_routing_is_pure(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in {"app", "handlers", "tests", "flask", "sqlalchemy", "requests", "wechatpy"}, (
            path.name,
            name,
        )


@pytest.mark.parametrize("path", sorted((ROOT / "handlers").rglob("*.py")), ids=lambda p: p.name)
def test_handlers_never_reach_the_web(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[0] != "flask", (path.name, name)
        assert not name.startswith(("app.api", "app.cli", "app.worker")), (path.name, name)
