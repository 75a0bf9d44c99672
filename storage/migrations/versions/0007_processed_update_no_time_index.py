"""Handled updates lose their `created_at` index.

Every update inserts one `processed_update` row, and the index was one of the three pages an
ordinary update commits to the WAL. It served only the daily prune, which now scans the table in
key order: the oldest rows come first, so each chunk stops early (bench/bench_conversation.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_update_created_at"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_update_created_at"), ["created_at"], unique=False)
