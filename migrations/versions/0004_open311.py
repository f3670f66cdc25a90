"""Open311 GeoReport v2: API keys and filings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

An expand step: new tables only, nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "open311_filings",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("media_url", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["key_id"], ["open311_keys.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("open311_filings") as batch:
        batch.create_index(batch.f("ix_open311_filings_key_id"), ["key_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("open311_filings") as batch:
        batch.drop_index(batch.f("ix_open311_filings_key_id"))
    op.drop_table("open311_filings")
    op.drop_table("open311_keys")
