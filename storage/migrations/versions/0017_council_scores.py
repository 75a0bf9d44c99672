"""A council's decision keeps its count and its scores: each vote holds the member's scores, and the
audit line of a council's decision names the council, the votes for it and cast, and how many of
the approving votes gave scores (the council's scores are their mean, stored as the line's scores).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TALLY = ("council_unit_id", "votes_for", "votes_cast", "votes_scored")


def upgrade() -> None:
    """Apply this revision: plain ADD COLUMN (nullable, no default), no copy of the tables."""
    op.add_column("review_vote", sa.Column("scores", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    for name in TALLY:
        op.add_column("review_action", sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("review_action", schema=None) as batch_op:
        for name in TALLY:
            batch_op.drop_column(name)
    with op.batch_alter_table("review_vote", schema=None) as batch_op:
        batch_op.drop_column("scores")
