"""The arrows of the layout, checked: routing/ imports nothing of ours and no
framework; handlers/ reach no framework, no adapter and no HTTP; functions stay
small enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROUTING = sorted((ROOT / "routing").rglob("*.py"))
HANDLERS = sorted((ROOT / "handlers").rglob("*.py"))
OURS = sorted(p for d in ("app", "handlers", "routing") for p in (ROOT / d).rglob("*.py"))
# Adapters and frameworks a use case must not know: it gets ports instead.
NOT_FOR_HANDLERS = (
    "flask",
    "werkzeug",
    "flask_openapi3",
    "redis",
    "psycopg",
    "wechatpy",
    "requests",
    "boto3",
    "PIL",
    "app.api",
    "app.cli",
    "app.worker",
    "app.wechat",
    "app.photos",
    "app.wakeup",
    "app.services",
    "app.settings",
)
HTTP_STATUSES = {400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 502, 503, 504}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", ROUTING, ids=_name)
def test_routing_is_pure(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in {"app", "handlers", "tests", "flask", "sqlalchemy", "requests", "wechatpy"}, name


@pytest.mark.parametrize("path", HANDLERS, ids=_name)
def test_handlers_reach_no_framework_or_adapter(path: Path) -> None:
    for name in _imports(path):
        assert not any(name == bad or name.startswith(bad + ".") for bad in NOT_FOR_HANDLERS), name


def _statuses(tree: ast.Module) -> list[int]:
    """HTTP statuses a handler would choose: ``status=...``, an error built with
    one, or a name holding one."""
    found = []
    for node in ast.walk(tree):
        values: list[ast.expr] = []
        if isinstance(node, ast.keyword) and node.arg in ("status", "status_code", "code"):
            values = [node.value]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith(
            ("Error", "Invalid", "Conflict")
        ):
            values = list(node.args)
        elif isinstance(node, ast.Assign) and any(
            "status" in getattr(t, "id", "").lower() for t in node.targets
        ):
            values = [node.value]
        found += [v.value for v in values if isinstance(v, ast.Constant) and v.value in HTTP_STATUSES]
    return found


@pytest.mark.parametrize("path", HANDLERS, ids=_name)
def test_handlers_speak_no_http(path: Path) -> None:
    assert not _statuses(_tree(path)), "an HTTP status belongs to app/api/errors.py"


def test_handlers_type_what_they_touch() -> None:
    uses = sum(
        1 for path in HANDLERS for n in ast.walk(_tree(path)) if isinstance(n, ast.Name) and n.id == "Any"
    )
    assert uses <= 10


@pytest.mark.parametrize("path", OURS, ids=_name)
def test_functions_fit_on_a_screen(path: Path) -> None:
    long = [
        f"{n.name}: {n.end_lineno - n.lineno + 1} lines"
        for n in ast.walk(_tree(path))
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and (n.end_lineno or 0) - n.lineno + 1 > 60
    ]
    assert not long


def test_every_blueprint_is_registered() -> None:
    import importlib

    from app import create_app
    from app.settings import Settings

    app = create_app(Settings.from_env({"DATABASE_URL": "sqlite://", "APP_ENV": "development"}))
    for path in (ROOT / "app" / "api").glob("*.py"):
        module = importlib.import_module(f"app.api.{path.stem}")
        if hasattr(module, "bp"):
            assert module.bp.name in app.blueprints, path.stem
