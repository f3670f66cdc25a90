"""a case's escalation state in a narrow table of its own: case_clocks

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

The escalation sweep moves ``next_escalation_at`` (and most often
``escalation_step``) of every case it handles. In ``cases`` that column is
indexed, so on PostgreSQL the UPDATE can never be a HOT update: each due case's
new row version entered every one of the ten indexes of ``cases`` (the largest
share of the sweep's time on the server at 10^6 cases). Both columns move to
``case_clocks`` (``case_id`` its key, one row a case): the sweep updates that
narrow row, whose new version enters its key and the index the sweep reads,
and writes nothing of ``cases``. The index on ``next_escalation_at`` becomes
partial (``IS NOT NULL``): cases with nothing left to look at, most of a large
table, are not in it.

Downgrade puts both columns and the index back on ``cases`` with their values.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ix_case_clocks_next_escalation_at"
WHERE = "next_escalation_at IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "case_clocks",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("escalation_step", sa.String(length=16), nullable=True),
        sa.Column("next_escalation_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.execute(
        "INSERT INTO case_clocks (case_id, escalation_step, next_escalation_at) "
        "SELECT id, escalation_step, next_escalation_at FROM cases"
    )
    op.create_index(
        INDEX,
        "case_clocks",
        ["next_escalation_at"],
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )
    op.drop_index("ix_cases_next_escalation_at", table_name="cases")
    # Neither column is in an index or a constraint any more: both databases
    # drop it in place (SQLite since 3.35), the table's other indexes (0010's
    # partial ones among them) untouched.
    op.drop_column("cases", "next_escalation_at")
    op.drop_column("cases", "escalation_step")


def downgrade() -> None:
    op.add_column("cases", sa.Column("escalation_step", sa.String(length=16), nullable=True))
    op.add_column("cases", sa.Column("next_escalation_at", app.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE cases SET "
        "escalation_step = (SELECT escalation_step FROM case_clocks WHERE case_clocks.case_id = cases.id), "
        "next_escalation_at = (SELECT next_escalation_at FROM case_clocks WHERE case_clocks.case_id = cases.id)"
    )
    op.create_index("ix_cases_next_escalation_at", "cases", ["next_escalation_at"])
    op.drop_index(INDEX, table_name="case_clocks")
    op.drop_table("case_clocks")
