"""safe by default: push stamps against replays, filing body hashes, photo checks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

An expand step: new table and columns only; code from before 0005 ignores them.
Photos uploaded before it are ``unchecked`` (WeChat never saw them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_stamps",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("push_stamps") as batch:
        batch.create_index(batch.f("ix_push_stamps_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("idempotency_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("photos") as batch:
        batch.add_column(
            sa.Column("media_check", sa.String(length=16), nullable=False, server_default="unchecked")
        )
        batch.add_column(sa.Column("media_trace_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("media_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("media_next_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("media_checked_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_photos_media_trace_id"), ["media_trace_id"], unique=False)
        batch.create_index("ix_photos_media_due", ["media_check", "media_next_at"], unique=False)
        batch.create_index("ix_photos_unattached", ["case_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("photos") as batch:
        batch.drop_index("ix_photos_unattached")
        batch.drop_index("ix_photos_media_due")
        batch.drop_index(batch.f("ix_photos_media_trace_id"))
        for column in (
            "media_checked_at",
            "media_next_at",
            "media_attempts",
            "media_trace_id",
            "media_check",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("idempotency_hash")
    with op.batch_alter_table("push_stamps") as batch:
        batch.drop_index(batch.f("ix_push_stamps_expires_at"))
    op.drop_table("push_stamps")
