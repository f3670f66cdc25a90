"""drop departments.is_leading_group_office (never read; the county file names the office)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

A contract step: code from before 0002 still writes the column, so upgrade
every process before running it (docs/deploy.md, "Upgrades").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("is_leading_group_office")


def downgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(
            sa.Column("is_leading_group_office", sa.Boolean(), nullable=False, server_default=sa.false())
        )
