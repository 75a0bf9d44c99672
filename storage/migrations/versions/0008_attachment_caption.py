"""Attachments keep the caption the worker typed under a photo or document.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caption", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("caption")
