"""Council votes on every decision; initiatives recognised below and forwarded up are 'nominated'.

A council now votes on requesting changes and forwarding too, so a vote holds any decision's
name (up to 20 characters, as the audit log's action). An initiative recognised at one level and
forwarded up was stored as 'submitted' (which the author could withdraw); it is 'nominated'.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UNDECIDED = "('submitted', 'in_review', 'resubmitted')"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("review_vote", schema=None) as batch_op:
        batch_op.alter_column("vote", existing_type=sa.String(length=10), type_=sa.String(length=20))
    op.execute(
        f"UPDATE initiative SET status = 'nominated' WHERE status IN {UNDECIDED} AND recognised_level IS NOT NULL"
    )


def downgrade() -> None:
    """Revert this revision."""
    op.execute("UPDATE initiative SET status = 'submitted' WHERE status = 'nominated'")
    op.execute("DELETE FROM review_vote WHERE length(vote) > 10")
    with op.batch_alter_table("review_vote", schema=None) as batch_op:
        batch_op.alter_column("vote", existing_type=sa.String(length=20), type_=sa.String(length=10))
