"""an index over staff rows only, for finding whom a case's departments notify

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

Every filing asks for the staff of the routed departments
(``users.department_id IN (...)``); residents, nearly every row, have none.
Once ``ANALYZE`` has counted that, SQLite answers the lookup by scanning the
users table rather than through the full index on ``department_id`` (6.7 ms a
filing at 10^5 residents). An index over the rows that have a department is
used whatever the statistics say, on SQLite and PostgreSQL. An expand step:
one new index, nothing removed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHERE = sa.text("department_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_users_staff_department",
        "users",
        ["department_id"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_users_staff_department", table_name="users")
