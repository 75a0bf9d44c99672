"""review workflow

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:41:39.497249
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reviewer", schema=None) as batch_op:
        batch_op.create_index("ix_reviewer_unit_active", ["unit_id", "revoked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviewer_user_id"), ["user_id"], unique=False)

    op.create_table(
        "review_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("scores", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_action_initiative_id"), ["initiative_id"], unique=False)

    op.create_table(
        "review_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("vote", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("initiative_id", "round", "user_id", name="uq_vote_once"),
    )
    with op.batch_alter_table("review_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_vote_initiative_id"), ["initiative_id"], unique=False)

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_folded", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("awaiting", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_app_user_name_folded"), ["name_folded"], unique=False)
        batch_op.create_index(batch_op.f("ix_app_user_username"), ["username"], unique=False)

    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column("recognized_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("review_round", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("applied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("applied_benefit_vnd", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("snapshot", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("changed_fields", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.create_index("ix_initiative_queue", ["review_unit_id", "status", "queued_at"], unique=False)
        batch_op.create_foreign_key("fk_initiative_decided_by", "app_user", ["decided_by"], ["id"])
        batch_op.create_foreign_key("fk_initiative_review_unit", "unit", ["review_unit_id"], ["id"])

    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "review_mode",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=False,
                server_default="single",
            )
        )
        batch_op.add_column(sa.Column("quorum", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("review_chat", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("covers_below", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("covers_below")
        batch_op.drop_column("review_chat")
        batch_op.drop_column("quorum")
        batch_op.drop_column("review_mode")

    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_constraint("fk_initiative_review_unit", type_="foreignkey")
        batch_op.drop_constraint("fk_initiative_decided_by", type_="foreignkey")
        batch_op.drop_index("ix_initiative_queue")
        batch_op.drop_column("changed_fields")
        batch_op.drop_column("snapshot")
        batch_op.drop_column("applied_benefit_vnd")
        batch_op.drop_column("applied_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("review_round")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("recognized_level")
        batch_op.drop_column("review_level")
        batch_op.drop_column("review_unit_id")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_username"))
        batch_op.drop_index(batch_op.f("ix_app_user_name_folded"))
        batch_op.drop_column("awaiting")
        batch_op.drop_column("name_folded")

    with op.batch_alter_table("review_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_vote_initiative_id"))

    op.drop_table("review_vote")
    with op.batch_alter_table("review_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_action_initiative_id"))

    op.drop_table("review_action")
    with op.batch_alter_table("reviewer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_user_id"))
        batch_op.drop_index("ix_reviewer_unit_active")

    op.drop_table("reviewer")
