"""Handled updates kept in their key's own B-tree (SQLite `WITHOUT ROWID`).

Every update inserts one `processed_update` row. As a rowid table it wrote three B-trees (the
rows, the (channel, seq) key and the created_at index), three of the four WAL pages an ordinary
update commits. Clustered on its key it writes two. PostgreSQL is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: the table is copied into one without a rowid (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "processed_update", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.alter_column("created_at", existing_nullable=False)


def downgrade() -> None:
    """Revert this revision: back to a rowid table (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("processed_update", recreate="always", table_kwargs={"sqlite_with_rowid": True}) as batch:
        batch.alter_column("created_at", existing_nullable=False)
