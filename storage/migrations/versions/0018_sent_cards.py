"""Sent review cards and step keyboards are remembered, so they can be edited later.

`sent_card` keeps the channel's message id of the last review card of an initiative sent to each
chat (a reviewer's private card, a council member's, the review group's): the group's card shows
the council's tally live, and older cards lose their buttons. `app_user.step_keyboard` names the
message ("chat:message id") whose buttons belong to the step a person is at, removed once they
answer by typing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sent_card",
        sa.Column("initiative_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chat", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("initiative_id", "chat"),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_keyboard", sqlmodel.sql.sqltypes.AutoString(length=90), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("step_keyboard")
    op.drop_table("sent_card")
