"""leaderboard tallies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:00:00

Per-campaign scores of people and units, kept current by triggers on `initiative` (and on
`app_user.deleted`), so the leaderboard reads an index instead of adding up every initiative.
The rules are those of bot/leaderboard.py; the points come from the one row of
`leaderboard_rule`, which storage/leaderboard.py keeps equal to bot.toml (rebuilding the
tallies when they differ). The tallies hold derived data only and are filled here from the
existing initiatives. Three covering indexes on `initiative` (campaign_key, submitted_at |
decided_at | applied_at, …) let a week's events be read from the index alone.

Note for later revisions: a SQLite batch operation that recreates `initiative` or `app_user`
drops their triggers; such a revision must create the triggers again
(tests/test_leaderboard_storage.py checks they exist at head).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EXCLUDED = "('draft', 'withdrawn')"
TRIGGERS = (
    "leaderboard_initiative_insert",
    "leaderboard_initiative_update",
    "leaderboard_initiative_rekey",
    "leaderboard_initiative_delete",
    "leaderboard_user_forgotten",
)


def _events(where: str) -> str:
    """Events (campaign, author, unit or 0, time or NULL, points) of the counted initiatives `i`.

    The callers drop events without a time or points; leaving those conditions out here keeps
    the planner from scanning a (campaign_key, *_at) index instead of looking up the author.
    """
    level = (
        "CASE i.recognized_level WHEN 'grassroots' THEN r.grassroots WHEN 'upper' THEN r.upper"
        " WHEN 'city' THEN r.city ELSE 0 END"
    )
    # Each initiative is read once and crossed with the three kinds of event (CROSS JOIN keeps
    # SQLite's loop order: initiative outside).
    return (
        "SELECT i.campaign_key AS campaign_key, i.author_id AS author_id, coalesce(i.unit_id, 0) AS unit_id,"
        " CASE k.kind WHEN 1 THEN i.submitted_at WHEN 2 THEN i.decided_at ELSE i.applied_at END AS happened_at,"
        f" CASE k.kind WHEN 1 THEN r.submitted WHEN 2 THEN {level} ELSE r.applied END AS pts"
        " FROM initiative i CROSS JOIN (SELECT 1 AS kind UNION ALL SELECT 2 UNION ALL SELECT 3) k"
        f" JOIN leaderboard_rule r ON r.id = 1 WHERE {where} AND i.status NOT IN {EXCLUDED}"
    )


def _refresh(c: str, a: str, u: str) -> str:
    """Statements recomputing one (campaign, author, unit) part, that person and that unit."""
    # `|| ''` keeps the planner on the author's index (a campaign holds most rows).
    where = f"i.author_id = {a} AND i.campaign_key || '' = {c} AND coalesce(i.unit_id, 0) = {u}"
    return f"""
    DELETE FROM leaderboard_part WHERE campaign_key = {c} AND author_id = {a} AND unit_id = {u};
    INSERT INTO leaderboard_part (campaign_key, author_id, unit_id, points, reached_at)
      SELECT {c}, {a}, {u}, s.points, s.reached_at FROM (
        SELECT sum(e.pts) AS points, max(e.happened_at) AS reached_at FROM ({_events(where)}) e
        WHERE e.pts > 0 AND e.happened_at IS NOT NULL
      ) s WHERE s.points IS NOT NULL;
    DELETE FROM leaderboard_person WHERE campaign_key = {c} AND user_id = {a};
    INSERT INTO leaderboard_person (campaign_key, user_id, points, reached_at)
      SELECT {c}, {a}, s.points, s.reached_at FROM (
        SELECT sum(points) AS points, max(reached_at) AS reached_at FROM leaderboard_part
        WHERE campaign_key = {c} AND author_id = {a}
      ) s WHERE s.points IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_user WHERE id = {a} AND deleted);
    DELETE FROM leaderboard_unit WHERE campaign_key = {c} AND unit_id = {u};
    INSERT INTO leaderboard_unit (campaign_key, unit_id, points, reached_at)
      SELECT {c}, {u}, s.points, s.reached_at FROM (
        SELECT sum(points) AS points, max(reached_at) AS reached_at FROM leaderboard_part
        WHERE campaign_key = {c} AND unit_id = {u}
      ) s WHERE s.points IS NOT NULL AND {u} <> 0;
    """


def _key_changed(old: str, new: str) -> str:
    """SQL: the row moved to another (campaign, author, unit)."""
    return " OR ".join(f"{old}.{col} IS DISTINCT FROM {new}.{col}" for col in ("campaign_key", "author_id", "unit_id"))


def _counts_changed(old: str, new: str) -> str:
    """SQL: something the rules read changed, and the row counts before or after."""
    cols = ("submitted_at", "recognized_level", "decided_at", "applied_at")
    moved = " OR ".join(f"{old}.{col} IS DISTINCT FROM {new}.{col}" for col in cols)
    return (
        f"({old}.status NOT IN {EXCLUDED} OR {new}.status NOT IN {EXCLUDED})"
        f" AND (({old}.status IN {EXCLUDED}) <> ({new}.status IN {EXCLUDED}) OR {moved}"
        f" OR {_key_changed(old, new)})"
    )


def _sqlite_triggers() -> list[str]:
    """SQLite triggers (IS DISTINCT FROM is written IS NOT there)."""

    def fix(sql: str) -> str:
        return sql.replace("IS DISTINCT FROM", "IS NOT")

    new = _refresh("NEW.campaign_key", "NEW.author_id", "coalesce(NEW.unit_id, 0)")
    old = _refresh("OLD.campaign_key", "OLD.author_id", "coalesce(OLD.unit_id, 0)")
    return [
        f"CREATE TRIGGER leaderboard_initiative_insert AFTER INSERT ON initiative"
        f" WHEN NEW.status NOT IN {EXCLUDED} BEGIN {new} END",
        f"CREATE TRIGGER leaderboard_initiative_update AFTER UPDATE ON initiative"
        f" WHEN {fix(_counts_changed('OLD', 'NEW'))} BEGIN {new} END",
        f"CREATE TRIGGER leaderboard_initiative_rekey AFTER UPDATE ON initiative"
        f" WHEN OLD.status NOT IN {EXCLUDED} AND ({fix(_key_changed('OLD', 'NEW'))}) BEGIN {old} END",
        f"CREATE TRIGGER leaderboard_initiative_delete AFTER DELETE ON initiative"
        f" WHEN OLD.status NOT IN {EXCLUDED} BEGIN {old} END",
        f"CREATE TRIGGER leaderboard_user_forgotten AFTER UPDATE OF deleted ON app_user"
        f" WHEN OLD.deleted IS NOT NEW.deleted BEGIN {_forgotten('NEW')} END",
    ]


def _forgotten(new: str) -> str:
    """Statements taking a forgotten person out of (or back into) the people tallies."""
    return f"""
    DELETE FROM leaderboard_person WHERE user_id = {new}.id;
    INSERT INTO leaderboard_person (campaign_key, user_id, points, reached_at)
      SELECT campaign_key, author_id, sum(points), max(reached_at) FROM leaderboard_part
      WHERE author_id = {new}.id AND NOT {new}.deleted GROUP BY campaign_key, author_id;
    """


def _postgresql_triggers() -> list[str]:
    """PostgreSQL: the same statements in PL/pgSQL functions called by row triggers."""
    refresh = _refresh("p_campaign", "p_author", "p_unit")
    changed = f"""
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status NOT IN {EXCLUDED} THEN
      IF TG_OP = 'DELETE' THEN
        PERFORM leaderboard_refresh(OLD.campaign_key, OLD.author_id, coalesce(OLD.unit_id, 0));
      ELSIF {_key_changed("OLD", "NEW")} THEN
        PERFORM leaderboard_refresh(OLD.campaign_key, OLD.author_id, coalesce(OLD.unit_id, 0));
      END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
      IF NEW.status NOT IN {EXCLUDED} THEN
        PERFORM leaderboard_refresh(NEW.campaign_key, NEW.author_id, coalesce(NEW.unit_id, 0));
      END IF;
    ELSIF TG_OP = 'UPDATE' THEN
      IF {_counts_changed("OLD", "NEW")} THEN
        PERFORM leaderboard_refresh(NEW.campaign_key, NEW.author_id, coalesce(NEW.unit_id, 0));
      END IF;
    END IF;
    RETURN NULL;
    """
    return [
        "CREATE FUNCTION leaderboard_refresh(p_campaign varchar, p_author integer, p_unit integer)"
        f" RETURNS void LANGUAGE plpgsql AS $$ BEGIN {refresh} END $$",
        f"CREATE FUNCTION leaderboard_initiative_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {changed} END $$",
        f"CREATE FUNCTION leaderboard_user_forgotten() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {_forgotten('NEW')} RETURN NULL; END $$",
        "CREATE TRIGGER leaderboard_initiative_changed AFTER INSERT OR UPDATE OR DELETE ON initiative"
        " FOR EACH ROW EXECUTE FUNCTION leaderboard_initiative_changed()",
        "CREATE TRIGGER leaderboard_user_forgotten AFTER UPDATE OF deleted ON app_user"
        " FOR EACH ROW WHEN (OLD.deleted IS DISTINCT FROM NEW.deleted)"
        " EXECUTE FUNCTION leaderboard_user_forgotten()",
    ]


def _backfill() -> list[str]:
    """Fill the tallies from the initiatives already stored."""
    return [
        "INSERT INTO leaderboard_part (campaign_key, author_id, unit_id, points, reached_at)"
        f" SELECT campaign_key, author_id, unit_id, sum(pts), max(happened_at) FROM ({_events('1 = 1')}) e"
        " WHERE pts > 0 AND happened_at IS NOT NULL GROUP BY campaign_key, author_id, unit_id",
        "INSERT INTO leaderboard_person (campaign_key, user_id, points, reached_at)"
        " SELECT p.campaign_key, p.author_id, sum(p.points), max(p.reached_at) FROM leaderboard_part p"
        " JOIN app_user u ON u.id = p.author_id WHERE NOT u.deleted GROUP BY p.campaign_key, p.author_id",
        "INSERT INTO leaderboard_unit (campaign_key, unit_id, points, reached_at)"
        " SELECT campaign_key, unit_id, sum(points), max(reached_at) FROM leaderboard_part"
        " WHERE unit_id <> 0 GROUP BY campaign_key, unit_id",
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "leaderboard_rule",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("grassroots", sa.Integer(), nullable=False),
        sa.Column("upper", sa.Integer(), nullable=False),
        sa.Column("city", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "leaderboard_part",
        sa.Column("campaign_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("author_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reached_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_key", "author_id", "unit_id"),
    )
    op.create_index("ix_leaderboard_part_unit", "leaderboard_part", ["campaign_key", "unit_id", "points", "reached_at"])
    for table, key in (("leaderboard_person", "user_id"), ("leaderboard_unit", "unit_id")):
        op.create_table(
            table,
            sa.Column("campaign_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column(key, sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("points", sa.Integer(), nullable=False),
            sa.Column("reached_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("campaign_key", key),
        )
        op.create_index(
            f"ix_{table}_rank",
            table,
            ["campaign_key", sa.text("points DESC"), "reached_at", key],
        )
    # Covering indexes: a week's events are read without touching the table.
    for kind, extra in (("submitted", []), ("decided", ["recognized_level"]), ("applied", [])):
        columns = ["campaign_key", f"{kind}_at", *extra, "author_id", "unit_id", "status"]
        op.create_index(f"ix_initiative_campaign_{kind}", "initiative", columns)
    op.execute(
        "INSERT INTO leaderboard_rule (id, submitted, grassroots, upper, city, applied) VALUES (1, 1, 3, 5, 5, 2)"
    )
    for statement in _backfill():
        op.execute(statement)
    dialect = op.get_bind().dialect.name
    triggers = _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers()
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision (the tallies are derived data, rebuilt on the next upgrade)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS leaderboard_initiative_changed ON initiative")
        op.execute("DROP TRIGGER IF EXISTS leaderboard_user_forgotten ON app_user")
        for function in ("leaderboard_initiative_changed()", "leaderboard_user_forgotten()"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.execute("DROP FUNCTION IF EXISTS leaderboard_refresh(varchar, integer, integer)")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for kind in ("applied", "decided", "submitted"):
        op.drop_index(f"ix_initiative_campaign_{kind}", table_name="initiative")
    for table in ("leaderboard_unit", "leaderboard_person"):
        op.drop_index(f"ix_{table}_rank", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_leaderboard_part_unit", table_name="leaderboard_part")
    op.drop_table("leaderboard_part")
    op.drop_table("leaderboard_rule")
