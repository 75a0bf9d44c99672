"""A date applied may be only a month; the weekly leaderboard is chosen apart from reminders.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

`initiative.applied_month_only`: the author gave a month ("tháng 3/2025"); `applied_since` holds
its first day and the month is what is shown. `app_user.leaderboard_off`: the person turned the
weekly leaderboard off (reminders are `reminders_off`, as before); existing people who turned
reminders off had the leaderboard off with them, so they keep it off.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ADD COLUMN (SQLite has it): a batch operation would copy the table and drop its triggers,
    # the leaderboard's tallies among them.
    op.add_column(
        "initiative", sa.Column("applied_month_only", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("app_user", sa.Column("leaderboard_off", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE app_user SET leaderboard_off = reminders_off"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("leaderboard_off")
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_column("applied_month_only")
