"""two indexes of cases over the rows their queries read: resolved and referred cases

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-26

Every UPDATE of a case that moves an indexed column (the escalation sweep moves
``next_escalation_at`` of each due case) writes a new entry into every index of
``cases`` on PostgreSQL, and every filing one into each index on both
databases. Two indexes only ever serve rows that have their column set:
``ix_cases_status_resolved`` the auto-close of resolved cases
(``status = 'resolved' AND resolved_at <= …``) and ``ix_cases_referred_from``
the cases referred from a case (``referred_from_id = …`` / ``IN (…)``). Open
cases, the ones the sweep moves and a filing writes, have neither: as partial
indexes over ``resolved_at IS NOT NULL`` and ``referred_from_id IS NOT NULL``
they get no entry for them, and both databases still use them for those
queries (each query's condition implies the index's).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_cases_status_resolved": (["status", "resolved_at"], "resolved_at IS NOT NULL"),
    "ix_cases_referred_from": (["referred_from_id"], "referred_from_id IS NOT NULL"),
}


def upgrade() -> None:
    for name, (columns, where) in PARTIAL.items():
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    for name, (columns, _) in PARTIAL.items():
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", columns)
