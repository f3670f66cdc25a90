"""request id on outbox rows: the request (or worker job) that wrote a
notification, so its send is logged under the same id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

An expand step: one nullable column, so processes of the previous release
keep working while it runs (they leave it empty).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("request_id")
