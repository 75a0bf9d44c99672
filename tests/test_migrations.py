"""Alembic migrations: they build exactly the schema of the tables, repeat safely, keep data."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from storage.migrate import MIGRATIONS, alembic_config, upgrade, upgrade_sync
from storage.tables import metadata


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "fresh.db"


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def schema(path: Path) -> list[tuple[object, ...]]:
    """Every table, index and trigger definition, and the Alembic revision."""
    with sqlite3.connect(path) as conn:
        objects = conn.execute(
            "select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name"
        ).fetchall()
        return [*objects, *conn.execute("select version_num from alembic_version").fetchall()]


def differences(path: Path) -> list[object]:
    """What autogenerate would still want to change to reach storage.tables.metadata."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_yields_exactly_the_tables_of_the_code(
    database: Path,
) -> None:
    upgrade_sync(url(database))
    assert {row[1] for row in schema(database) if row[0] == "table"} == {
        *metadata.tables,
        "alembic_version",
    }
    assert differences(database) == []


def test_the_comparison_notices_a_schema_that_differs(database: Path) -> None:
    upgrade_sync(url(database))
    with sqlite3.connect(database) as conn:
        conn.execute("drop index ix_app_user_phone")
        conn.execute("alter table unit add column extra text")
    found = differences(database)
    assert any(d[0] == "add_index" for d in found if isinstance(d, tuple))
    assert any(d[0] == "remove_column" for d in found if isinstance(d, tuple))


def test_the_database_is_at_the_single_head(database: Path) -> None:
    upgrade_sync(url(database))
    heads = ScriptDirectory.from_config(alembic_config(url(database))).get_heads()
    assert len(heads) == 1
    assert schema(database)[-1] == (heads[0],)


async def test_upgrading_twice_changes_nothing(database: Path) -> None:
    upgrade_sync(url(database))
    before = schema(database)
    upgrade_sync(url(database))
    await upgrade(url(database))
    assert schema(database) == before


def test_upgrading_keeps_existing_rows(database: Path) -> None:
    config = alembic_config(url(database))
    first = ScriptDirectory.from_config(config).get_base()
    assert first is not None
    command.upgrade(config, first)
    rows = [
        "insert into unit (code, name, name_folded, sector, level, headcount, parent_id)"
        " values ('MAY10', 'Công đoàn Công ty May 10', 'cong doan cong ty may 10',"
        " 'enterprise', 'grassroots', 1200, null)",
        "insert into app_user (channel, external_id, locale, reg_step, full_name, phone,"
        " unit_id, editing_profile, deleted, created_at, updated_at)"
        " values ('telegram', '501', 'vi', 'done', 'Nguyễn Thị Lan', '+84912345678', 1,"
        " 0, 0, '2026-11-25 03:00:00', '2026-11-25 03:00:00')",
        "insert into processed_update (channel, seq, created_at) values ('telegram', 777, '2026-11-25 03:00:00')",
    ]
    with sqlite3.connect(database) as conn:
        for sql in rows:
            conn.execute(sql)
    upgrade_sync(url(database))
    upgrade_sync(url(database))
    with sqlite3.connect(database) as conn:
        assert conn.execute("select code, name, headcount from unit").fetchall() == [
            ("MAY10", "Công đoàn Công ty May 10", 1200)
        ]
        assert conn.execute("select external_id, full_name, phone from app_user").fetchall() == [
            ("501", "Nguyễn Thị Lan", "+84912345678")
        ]
        assert conn.execute("select channel, seq from processed_update").fetchall() == [("telegram", 777)]
        table = conn.execute("select sql from sqlite_master where name = 'processed_update'").fetchone()[0]
        assert "WITHOUT ROWID" in table  # clustered on (channel, seq) since 0006


def upgrade_calls(path: Path) -> set[str]:
    """The names of the `op.`/`batch_op.` functions called inside a revision's upgrade()."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    return {
        node.func.attr for node in ast.walk(body) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def test_no_revision_drops_tables_or_columns_on_upgrade() -> None:
    revisions = sorted((MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert revisions
    for path in revisions:
        calls = upgrade_calls(path)
        assert calls, f"{path.name} has an empty upgrade()"
        assert not calls & {"drop_table", "drop_column"}, f"{path.name} drops data"


def test_later_revisions_keep_the_leaderboard_triggers(database: Path) -> None:
    """A batch operation on SQLite copies the table and silently drops its triggers (0010 did)."""
    command.upgrade(alembic_config(url(database)), "0009")
    created = {row[1] for row in schema(database)[:-1] if row[0] == "trigger"}
    assert len(created) >= 5
    upgrade_sync(url(database))
    assert {row[1] for row in schema(database)[:-1] if row[0] == "trigger"} == created
