"""county data at runtime: routing versions, the change record, community
coordinates, users' last seen time, referral links

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

An expand step: new tables and nullable columns only, so processes of the
previous release keep working while it runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("effective_from", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_index("ix_routing_versions_effective", "routing_versions", ["effective_from", "id"])
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_changes_at", "changes", ["at"])
    op.create_index("ix_changes_entity", "changes", ["entity", "entity_id"])
    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lng", sa.Float(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_seen_at", app.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("referred_from_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_cases_referred_from", "cases", ["referred_from_id"], ["id"])
        batch.create_index("ix_cases_referred_from", ["referred_from_id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_referred_from")
        batch.drop_constraint("fk_cases_referred_from", type_="foreignkey")
        batch.drop_column("referred_from_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("lng")
        batch.drop_column("lat")
    op.drop_index("ix_changes_entity", table_name="changes")
    op.drop_index("ix_changes_at", table_name="changes")
    op.drop_table("changes")
    op.drop_index("ix_routing_versions_effective", table_name="routing_versions")
    op.drop_table("routing_versions")
