"""Outbox rows and job runs are claimed with a lease, so several processes never send a row or run a
job twice, and a dead process's claims are taken over once its lease ends.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: plain ADD COLUMN (nullable, no default), no copy of the tables."""
    for table in ("outbox", "job_run"):
        op.add_column(table, sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        op.add_column(table, sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table in ("outbox", "job_run"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_until")
            batch_op.drop_column("claimed_by")
