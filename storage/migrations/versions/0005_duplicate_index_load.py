"""Index for loading a campaign's initiatives in id order (the duplicate-hint index).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_initiative_campaign_id", "initiative", ["campaign_key", "id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_initiative_campaign_id", table_name="initiative")
