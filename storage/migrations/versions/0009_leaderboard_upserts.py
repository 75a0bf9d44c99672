"""Leaderboard tallies kept by upserts that concurrent transactions cannot collide on.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

The triggers of 0004 deleted a unit's (and the author's) tally row and inserted it again,
recomputed from `leaderboard_part`. On PostgreSQL two approvals in one unit then collided:
the second transaction's DELETE found the row already replaced by the first, and its INSERT
failed on `leaderboard_unit_pkey` (about 12 % of approvals under load); and a recomputation
could not see the other transaction's uncommitted part, so even without the error a tally
could miss a point.

Now each change of an initiative adds what it changed to the three tallies (part, person,
unit) with `INSERT … ON CONFLICT DO UPDATE SET points = points + excluded.points`: the row
is locked for the rest of the transaction, a concurrent one waits and then adds its own
difference, and both count. `reached_at` moves forward the same way (the later of the two);
only when an event is taken away or moved earlier (withdrawn, moved to another unit, deleted)
is it recomputed, from the author's initiatives (part) and from the parts (person, unit),
after the row lock is held, so it sees every committed change. Rows left at 0 points are
deleted. The tallies themselves (filled by 0004) stay as they are.

Note for later revisions (as for 0004): a SQLite batch operation that recreates `initiative`
drops these triggers; such a revision must create them again.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EXCLUDED = "('draft', 'withdrawn')"
OLD_SQLITE_TRIGGERS = (
    "leaderboard_initiative_insert",
    "leaderboard_initiative_update",
    "leaderboard_initiative_rekey",
    "leaderboard_initiative_delete",
)
SQLITE_TRIGGERS = (
    "leaderboard_initiative_enter",
    "leaderboard_initiative_leave",
    "leaderboard_initiative_change",
    "leaderboard_initiative_added",
    "leaderboard_initiative_removed",
)
LEVEL = (
    "CASE {r}.recognized_level WHEN 'grassroots' THEN p.grassroots WHEN 'upper' THEN p.upper"
    " WHEN 'city' THEN p.city ELSE 0 END"
)
RULE = "FROM leaderboard_rule p WHERE p.id = 1"


def _points(r: str) -> str:
    """SQL: the points the initiative row `r` (NEW or OLD) is worth, if it counts (rules 1–2)."""
    level = LEVEL.format(r=r)
    return (
        f"(SELECT CASE WHEN {r}.submitted_at IS NULL THEN 0 ELSE p.submitted END"
        f" + CASE WHEN {r}.decided_at IS NULL THEN 0 ELSE {level} END"
        f" + CASE WHEN {r}.applied_at IS NULL THEN 0 ELSE p.applied END {RULE})"
    )


def _reached(r: str) -> str:
    """SQL: the time of the row's latest event worth points (NULL when none)."""
    level = LEVEL.format(r=r)
    return (
        f"(SELECT max(e.t) FROM (SELECT CASE WHEN p.submitted > 0 THEN {r}.submitted_at END AS t {RULE}"
        f" UNION ALL SELECT CASE WHEN {level} > 0 THEN {r}.decided_at END {RULE}"
        f" UNION ALL SELECT CASE WHEN p.applied > 0 THEN {r}.applied_at END {RULE}) e)"
    )


def _part_events(c: str, a: str, u: str) -> str:
    """SQL: (time, points) of every event of the author's counted initiatives of (campaign, unit)."""
    level = LEVEL.format(r="i")
    where = f"i.author_id = {a} AND i.campaign_key || '' = {c} AND coalesce(i.unit_id, 0) = {u}"
    return (
        "SELECT CASE k.kind WHEN 1 THEN i.submitted_at WHEN 2 THEN i.decided_at ELSE i.applied_at END AS happened_at,"
        f" CASE k.kind WHEN 1 THEN p.submitted WHEN 2 THEN {level} ELSE p.applied END AS pts"
        " FROM initiative i CROSS JOIN (SELECT 1 AS kind UNION ALL SELECT 2 UNION ALL SELECT 3) k"
        f" JOIN leaderboard_rule p ON p.id = 1 WHERE {where} AND i.status NOT IN {EXCLUDED}"
    )


def _later(table: str) -> str:
    """SQL of an upsert's SET: the later of the stored and the proposed `reached_at`."""
    return (
        f"reached_at = CASE WHEN excluded.reached_at > {table}.reached_at"
        f" THEN excluded.reached_at ELSE {table}.reached_at END"
    )


def _apply(c: str, a: str, u: str, delta: str, reached: str, recompute: str) -> str:
    """Statements adding `delta` points (reached at `reached`) to the part, the person and the unit.

    `recompute` (SQL, true when an event was taken away or moved earlier) recomputes `reached_at`."""
    part_key = f"campaign_key = {c} AND author_id = {a} AND unit_id = {u}"
    person_key = f"campaign_key = {c} AND user_id = {a}"
    unit_key = f"campaign_key = {c} AND unit_id = {u}"
    return f"""
    INSERT INTO leaderboard_part (campaign_key, author_id, unit_id, points, reached_at)
      SELECT {c}, {a}, {u}, {delta}, {reached} WHERE {reached} IS NOT NULL
      ON CONFLICT (campaign_key, author_id, unit_id) DO UPDATE
      SET points = leaderboard_part.points + excluded.points, {_later("leaderboard_part")};
    DELETE FROM leaderboard_part WHERE {part_key} AND points <= 0;
    UPDATE leaderboard_part SET reached_at = coalesce((SELECT max(e.happened_at) FROM ({_part_events(c, a, u)}) e
      WHERE e.pts > 0), reached_at) WHERE {part_key} AND ({recompute});
    INSERT INTO leaderboard_person (campaign_key, user_id, points, reached_at)
      SELECT {c}, {a}, {delta}, {reached} WHERE {reached} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM app_user WHERE id = {a} AND deleted)
      ON CONFLICT (campaign_key, user_id) DO UPDATE
      SET points = leaderboard_person.points + excluded.points, {_later("leaderboard_person")};
    DELETE FROM leaderboard_person WHERE {person_key} AND points <= 0;
    UPDATE leaderboard_person SET reached_at = coalesce((SELECT max(reached_at) FROM leaderboard_part
      WHERE campaign_key = {c} AND author_id = {a}), reached_at) WHERE {person_key} AND ({recompute});
    INSERT INTO leaderboard_unit (campaign_key, unit_id, points, reached_at)
      SELECT {c}, {u}, {delta}, {reached} WHERE {reached} IS NOT NULL AND {u} <> 0
      ON CONFLICT (campaign_key, unit_id) DO UPDATE
      SET points = leaderboard_unit.points + excluded.points, {_later("leaderboard_unit")};
    DELETE FROM leaderboard_unit WHERE {unit_key} AND points <= 0;
    UPDATE leaderboard_unit SET reached_at = coalesce((SELECT max(reached_at) FROM leaderboard_part
      WHERE campaign_key = {c} AND unit_id = {u}), reached_at) WHERE {unit_key} AND ({recompute});
    """


def _key_changed() -> str:
    """SQL: the row moved to another (campaign, author, unit)."""
    cols = ("campaign_key", "author_id", "unit_id")
    return " OR ".join(f"OLD.{col} IS DISTINCT FROM NEW.{col}" for col in cols)


def _counts_changed() -> str:
    """SQL: a column the rules read changed (for a row counted before and after, same key)."""
    cols = ("submitted_at", "recognized_level", "decided_at", "applied_at")
    return " OR ".join(f"OLD.{col} IS DISTINCT FROM NEW.{col}" for col in cols)


def _key(r: str) -> tuple[str, str, str]:
    """SQL: the (campaign, author, unit or 0) of row `r`."""
    return f"{r}.campaign_key", f"{r}.author_id", f"coalesce({r}.unit_id, 0)"


def _enter(r: str = "NEW") -> str:
    """Statements counting row `r`."""
    return _apply(*_key(r), _points(r), _reached(r), "1 = 0")


def _leave(r: str = "OLD") -> str:
    """Statements no longer counting row `r`."""
    return _apply(*_key(r), f"-{_points(r)}", _reached(r), "1 = 1")


def _change() -> str:
    """Statements for a row counted before and after under the same key: the difference only."""
    later, earlier = _reached("NEW"), _reached("OLD")
    delta = f"{_points('NEW')} - {_points('OLD')}"
    recompute = f"coalesce({later} < {earlier}, {later} IS NULL)"
    return _apply(*_key("NEW"), delta, f"coalesce({later}, {earlier})", recompute)


def _sqlite_triggers() -> list[str]:
    """SQLite: one trigger per case (IS DISTINCT FROM is written IS NOT there)."""

    def fix(sql: str) -> str:
        return sql.replace("IS DISTINCT FROM", "IS NOT")

    counted_old, counted_new = f"OLD.status NOT IN {EXCLUDED}", f"NEW.status NOT IN {EXCLUDED}"
    moved = fix(_key_changed())
    return [
        f"CREATE TRIGGER leaderboard_initiative_added AFTER INSERT ON initiative"
        f" WHEN {counted_new} BEGIN {_enter()} END",
        f"CREATE TRIGGER leaderboard_initiative_removed AFTER DELETE ON initiative"
        f" WHEN {counted_old} BEGIN {_leave()} END",
        f"CREATE TRIGGER leaderboard_initiative_leave AFTER UPDATE ON initiative"
        f" WHEN {counted_old} AND (NEW.status IN {EXCLUDED} OR {moved}) BEGIN {_leave()} END",
        f"CREATE TRIGGER leaderboard_initiative_enter AFTER UPDATE ON initiative"
        f" WHEN {counted_new} AND (OLD.status IN {EXCLUDED} OR {moved}) BEGIN {_enter()} END",
        f"CREATE TRIGGER leaderboard_initiative_change AFTER UPDATE ON initiative"
        f" WHEN {counted_old} AND {counted_new} AND NOT ({moved}) AND ({fix(_counts_changed())})"
        f" BEGIN {_change()} END",
    ]


def _postgresql_triggers() -> list[str]:
    """PostgreSQL: the same statements in a PL/pgSQL function called by one row trigger."""
    apply = _apply("p_campaign", "p_author", "p_unit", "p_delta", "p_reached", "p_recompute")
    changed = f"""
    IF TG_OP = 'UPDATE' AND OLD.status NOT IN {EXCLUDED} AND NEW.status NOT IN {EXCLUDED}
        AND NOT ({_key_changed()}) THEN
      IF {_counts_changed()} THEN
        PERFORM leaderboard_apply(NEW.campaign_key, NEW.author_id, coalesce(NEW.unit_id, 0),
          {_points("NEW")} - {_points("OLD")}, coalesce({_reached("NEW")}, {_reached("OLD")}),
          coalesce({_reached("NEW")} < {_reached("OLD")}, {_reached("NEW")} IS NULL));
      END IF;
      RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status NOT IN {EXCLUDED} THEN
      PERFORM leaderboard_apply(OLD.campaign_key, OLD.author_id, coalesce(OLD.unit_id, 0),
        -{_points("OLD")}, {_reached("OLD")}, true);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status NOT IN {EXCLUDED} THEN
      PERFORM leaderboard_apply(NEW.campaign_key, NEW.author_id, coalesce(NEW.unit_id, 0),
        {_points("NEW")}, {_reached("NEW")}, false);
    END IF;
    RETURN NULL;
    """
    return [
        "CREATE FUNCTION leaderboard_apply(p_campaign varchar, p_author integer, p_unit integer,"
        " p_delta integer, p_reached timestamptz, p_recompute boolean)"
        f" RETURNS void LANGUAGE plpgsql AS $$ BEGIN {apply} END $$",
        f"CREATE FUNCTION leaderboard_initiative_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {changed} END $$",
        "CREATE TRIGGER leaderboard_initiative_changed AFTER INSERT OR UPDATE OR DELETE ON initiative"
        " FOR EACH ROW EXECUTE FUNCTION leaderboard_initiative_changed()",
    ]


def _drop_postgresql(functions: tuple[str, ...]) -> None:
    """Drop the initiative trigger and the functions behind it."""
    op.execute("DROP TRIGGER IF EXISTS leaderboard_initiative_changed ON initiative")
    for function in functions:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "postgresql":
        _drop_postgresql(("leaderboard_initiative_changed()", "leaderboard_refresh(varchar, integer, integer)"))
        triggers = _postgresql_triggers()
    else:
        for name in OLD_SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        triggers = _sqlite_triggers()
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision: the recomputing triggers of 0004 again."""
    earlier = importlib.import_module("storage.migrations.versions.0004_leaderboard")
    if op.get_bind().dialect.name == "postgresql":
        _drop_postgresql(
            (
                "leaderboard_initiative_changed()",
                "leaderboard_apply(varchar, integer, integer, integer, timestamptz, boolean)",
            )
        )
        op.execute("DROP TRIGGER IF EXISTS leaderboard_user_forgotten ON app_user")
        op.execute("DROP FUNCTION IF EXISTS leaderboard_user_forgotten()")
        triggers = earlier._postgresql_triggers()
    else:
        for name in (*SQLITE_TRIGGERS, "leaderboard_user_forgotten"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        triggers = earlier._sqlite_triggers()
    for statement in triggers:
        op.execute(statement)
