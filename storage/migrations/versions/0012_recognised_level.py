"""The level that recognised an initiative is spelt as everywhere else: `recognised_level`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

A plain RENAME COLUMN on both databases: SQLite (3.25+) rewrites the triggers and indexes that name
the column; on PostgreSQL the triggers and indexes follow by themselves, and the leaderboard's
trigger functions, whose bodies are text, are defined again with the new name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _renaming(old: str, new: str, dialect: str) -> list[str]:
    """SQL renaming the column and, on PostgreSQL, its name in the bodies of functions."""
    statements = [f"ALTER TABLE initiative RENAME COLUMN {old} TO {new}"]
    if dialect == "postgresql":
        statements.append(
            f"""
            DO $$
            DECLARE f oid;
            BEGIN
                FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = current_schema() AND p.prosrc LIKE '%{old}%' LOOP
                    EXECUTE replace(pg_get_functiondef(f), '{old}', '{new}');
                END LOOP;
            END $$;
            """
        )
    return statements


def upgrade() -> None:
    """Apply this revision."""
    for statement in _renaming("recognized_level", "recognised_level", op.get_bind().dialect.name):
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    for statement in _renaming("recognised_level", "recognized_level", op.get_bind().dialect.name):
        op.execute(sa.text(statement))
