"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.migrate import alembic_config
from app.models import Base
from tests.conftest import TestDatabase as DatabaseUnderTest


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def _empty_database(test_database: DatabaseUnderTest, tmp_path: Path) -> str:
    """A database of its own (the worker's shared one is not to be downgraded)."""
    if not test_database.is_postgres:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    base = make_url(test_database.server)
    name = f"{test_database.name}_migrations"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop(test_database: DatabaseUnderTest, url: str) -> None:
    if test_database.is_postgres:
        admin = create_engine(make_url(test_database.server), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


CASE_AT_0010 = (
    "INSERT INTO cases (number, category, config_version, route, community_id, reporter_id, anonymous, "
    "description, location_text, status, urgent, needs_review, created_at, updated_at, rating_comment, "
    "reject_reason, escalation_step, next_escalation_at) VALUES (:number, 'c', 'v', 'r', 1, 1, false, '', '', "
    "'dispatched', false, false, :at, :at, '', '', :step, :next)"
)


def test_0011_moves_each_case_s_escalation_state_to_case_clocks_and_back(
    test_database: DatabaseUnderTest, tmp_path: Path
) -> None:
    url = _empty_database(test_database, tmp_path)
    cfg = alembic_config(url)
    at = "2025-06-18 02:00:00.000000"  # as UTCDateTime writes it on SQLite; PostgreSQL reads it as UTC
    try:
        command.upgrade(cfg, "0010")
        engine = create_engine(url)
        with engine.begin() as conn:
            if test_database.is_postgres:
                conn.execute(text("SET session_replication_role = replica"))  # no parents: no FK checks
            conn.execute(text(CASE_AT_0010), {"number": "A", "at": at, "step": "overdue", "next": at})
            conn.execute(text(CASE_AT_0010), {"number": "B", "at": at, "step": None, "next": None})
        engine.dispose()
        command.upgrade(cfg, "head")
        moved = "SELECT c.number, k.escalation_step, k.next_escalation_at IS NOT NULL FROM case_clocks k "
        moved += "JOIN cases c ON c.id = k.case_id ORDER BY c.number"
        back = "SELECT number, escalation_step, next_escalation_at IS NOT NULL FROM cases ORDER BY number"
        engine = create_engine(url)
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(moved))] == [
                ("A", "overdue", True),
                ("B", None, False),
            ]
            assert "escalation_step" not in {c["name"] for c in inspect(conn).get_columns("cases")}
        engine.dispose()
        command.downgrade(cfg, "0010")
        engine = create_engine(url)
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(back))] == [
                ("A", "overdue", True),
                ("B", None, False),
            ]
            assert "case_clocks" not in inspect(conn).get_table_names()
        engine.dispose()
    finally:
        _drop(test_database, url)
