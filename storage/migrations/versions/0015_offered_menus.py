"""The numbered menu each chat without buttons was shown last, kept across restarts and processes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "offered_menu",
        sa.Column("chat_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("offered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_key"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("offered_menu")
