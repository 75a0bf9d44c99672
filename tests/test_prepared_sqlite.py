"""The SQLite fast path: prepared plans read and write what SQLAlchemy would, transactions and checkpoints hold."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InvalidRequestError, MultipleResultsFound, NoResultFound
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.domain import CoAuthor, Initiative, InitiativeType, RegStep, Status, UserRef
from storage.checkpoint import Checkpointer
from storage.engine import Database, InlineConnection
from storage.initiatives import COAUTHORS_OF, INITIATIVE_BY_ID, INSERT_INITIATIVE
from storage.people import INSERT_USER, USER_BY_ID, USER_BY_REF
from storage.prepared import PlanResult, is_prepared, utc_datetime, utc_text
from storage.rows import initiatives, setter_of, users
from storage.store import SqlStore, SqlTx

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2, microseconds=250)
HANOI = timezone(timedelta(hours=7))
CONSENT = datetime(2026, 11, 25, 10, 15, 30, 123456, tzinfo=HANOI)


class Boom(Exception):
    """An error raised on purpose inside a transaction."""


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """A store on a fresh migrated SQLite file."""
    s = SqlStore(Database(db_url))
    yield s
    await s.close()


@pytest.fixture
def db_path(db_url: str) -> Path:
    """The file of the test's database."""
    database = make_url(db_url).database
    assert database
    return Path(database)


def alchemy(tx: SqlTx) -> Connection:
    """The SQLAlchemy connection beside the prepared cursor, inside the same transaction."""
    assert isinstance(tx.conn, InlineConnection)
    return tx.conn.sqlite.connection


def user_params(external_id: str, **extra: Any) -> dict[str, Any]:
    """The fewest values a user row needs."""
    return {"channel": "telegram", "external_id": external_id, "created_at": NOW, "updated_at": NOW, **extra}


def read_file(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows read by a separate sqlite3 connection (WAL included)."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def assert_same_row(got: Any, expected: Any) -> None:
    """Same column names, values, Python types and time zones."""
    assert tuple(got._fields) == tuple(expected._fields)
    assert dict(got._mapping) == dict(expected._mapping)
    assert tuple(got) == tuple(expected)
    assert [type(v) for v in got] == [type(v) for v in expected]
    assert [getattr(v, "tzinfo", None) for v in got] == [getattr(v, "tzinfo", None) for v in expected]


async def a_unit(store: SqlStore) -> int:
    """The id of a unit (user and initiative rows refer to one)."""
    async with store.transaction() as tx:
        await tx.upsert_unit("MAY10", {"name": "Công đoàn Công ty May 10"}, None)
        unit = await tx.unit_by_code("MAY10")
    assert unit is not None
    return unit.id


async def a_user(store: SqlStore, external_id: str = "42", *, full_name: str = "Nguyễn Thị Lan") -> int:
    """The id of a registered person with a phone."""
    async with store.transaction() as tx:
        user = await tx.create_user(UserRef("telegram", external_id), locale="vi", now=NOW)
        user.full_name, user.phone, user.reg_step = full_name, "+84912345678", RegStep.DONE
        await tx.save_user(user, now=NOW)
    return user.id


async def test_a_prepared_select_reads_a_user_row_exactly_as_sqlalchemy_does(store: SqlStore) -> None:
    """Every user column (aware datetimes, booleans, None) equals SQLAlchemy's value and type."""
    unit_id = await a_unit(store)
    async with store.transaction() as tx:
        user = await tx.create_user(UserRef("telegram", "42"), locale="en", now=NOW)
        user.reg_step = RegStep.DONE
        user.full_name = "Nguyễn Thị Lan"
        user.phone = "+84912345678"
        user.unit_id = unit_id
        user.consent_at = CONSENT
        user.editing_profile = True
        user.reminders_off = True
        user.awaiting = "phone"
        await tx.save_user(user, now=LATER)
    async with store.transaction() as tx:
        result = await tx.conn.execute(USER_BY_ID, {"id": user.id})
        assert is_prepared(USER_BY_ID) and isinstance(result, PlanResult)
        by_plan = result.one()
        by_ref = (await tx.conn.execute(USER_BY_REF, {"channel": "telegram", "external_id": "42"})).one()
        same_statement = alchemy(tx).execute(USER_BY_ID, {"id": user.id}).one()
        inline = await tx.conn.execute(select(users).where(users.c.id == user.id))
        assert not isinstance(inline, PlanResult)
        built_inline = inline.one()
    for other in (by_ref, same_statement, built_inline):
        assert_same_row(by_plan, other)
    row = by_plan._mapping
    assert row["consent_at"] == CONSENT and row["consent_at"].tzinfo == UTC
    assert row["created_at"] == NOW and row["updated_at"] == LATER and row["updated_at"].tzinfo == UTC
    assert row["editing_profile"] is True and row["reminders_off"] is True and row["deleted"] is False
    assert row["blocked_at"] is None and row["username"] is None and row["pending_unit_code"] is None
    assert (row["full_name"], row["phone"], row["unit_id"], row["locale"]) == (
        "Nguyễn Thị Lan",
        "+84912345678",
        unit_id,
        "en",
    )
    assert row["reg_step"] == "done" and row["name_folded"] == "nguyen thi lan"


async def test_a_prepared_select_reads_an_initiative_row_exactly_as_sqlalchemy_does(store: SqlStore) -> None:
    """Every initiative column (dates, big integers, JSON text, None, booleans) equals SQLAlchemy's."""
    unit_id = await a_unit(store)
    author_id = await a_user(store)
    snapshot = json.dumps({"title": "Máy cắt vải", "coauthors": [["Bình", 30]], "ok": True}, ensure_ascii=False)
    item = Initiative(
        id=0,
        author_id=author_id,
        unit_id=unit_id,
        campaign_key="c2026",
        status=Status.SUBMITTED,
        step="done",
        editing=True,
        code="SK-2026-000001",
        title="Máy cắt vải tự động",
        category="productivity",
        kind=InitiativeType.TECHNICAL,
        problem="Cắt thủ công,\nchậm",
        solution="Cảm biến quang",
        benefit="Năng suất tăng 20 %",
        benefit_vnd=5_000_000_000,
        applied_since=date(2026, 2, 1),
        author_percent=50,
        submitted_at=CONSENT,
        decision_due=date(2026, 12, 25),
        version=3,
        review_unit_id=unit_id,
        review_level="grassroots",
        queued_at=LATER,
        review_round=1,
        decided_by=author_id,
        snapshot=snapshot,
        changed_fields="title,problem",
    )
    async with store.transaction() as tx:
        await tx.create_draft(item, now=NOW)
    async with store.transaction() as tx:
        result = await tx.conn.execute(INITIATIVE_BY_ID, {"id": item.id})
        assert is_prepared(INITIATIVE_BY_ID) and isinstance(result, PlanResult)
        by_plan = result.one()
        same_statement = alchemy(tx).execute(INITIATIVE_BY_ID, {"id": item.id}).one()
        built_inline = (await tx.conn.execute(select(initiatives).where(initiatives.c.id == item.id))).one()
        loaded = await tx.initiative(item.id)
    assert_same_row(by_plan, same_statement)
    assert_same_row(by_plan, built_inline)
    row = by_plan._mapping
    assert type(row["applied_since"]) is date and row["applied_since"] == date(2026, 2, 1)
    assert type(row["decision_due"]) is date and row["decision_due"] == date(2026, 12, 25)
    assert row["submitted_at"] == CONSENT and row["submitted_at"].tzinfo == UTC
    assert row["queued_at"] == LATER and row["created_at"] == NOW and row["updated_at"] == NOW
    assert row["editing"] is True and row["benefit_vnd"] == 5_000_000_000
    assert json.loads(row["snapshot"]) == json.loads(snapshot) and row["problem"] == "Cắt thủ công,\nchậm"
    assert row["decided_at"] is None and row["applied_at"] is None and row["conditions"] is None
    assert row["title_folded"] == "may cat vai tu dong"
    assert loaded is not None
    assert (loaded.status, loaded.kind, loaded.version, loaded.review_round) == (
        Status.SUBMITTED,
        InitiativeType.TECHNICAL,
        3,
        1,
    )


async def test_prepared_results_are_read_like_sqlalchemy_results(store: SqlStore) -> None:
    """first/all/one/scalar and friends, iteration and rowcount behave as on a SQLAlchemy result."""
    author_id = await a_user(store)
    async with store.transaction() as tx:
        draft = await tx.create_draft(Initiative(id=0, author_id=author_id, unit_id=None, campaign_key="c"), now=NOW)
        draft.coauthors = [CoAuthor("Bình", 30), CoAuthor("Cúc", 20)]
        await tx.replace_coauthors(draft)
    async with store.transaction() as tx:
        for params in ({"id": draft.id}, {"id": draft.id + 100}):
            plan = await tx.conn.execute(COAUTHORS_OF, params)
            assert isinstance(plan, PlanResult)
            alike = alchemy(tx)
            assert [tuple(r) for r in plan] == [tuple(r) for r in alike.execute(COAUTHORS_OF, params)]
            assert [tuple(r) for r in plan.all()] == [tuple(r) for r in alike.execute(COAUTHORS_OF, params).all()]
            first, expected = plan.first(), alike.execute(COAUTHORS_OF, params).first()
            assert (tuple(first) if first else None) == (tuple(expected) if expected else None)
            assert plan.scalar() == alike.execute(COAUTHORS_OF, params).scalar()
        many = await tx.conn.execute(COAUTHORS_OF, {"id": draft.id})
        assert [r.name for r in many] == ["Bình", "Cúc"]
        with pytest.raises(MultipleResultsFound):
            many.one()
        with pytest.raises(MultipleResultsFound):
            many.one_or_none()
        none = await tx.conn.execute(COAUTHORS_OF, {"id": draft.id + 100})
        assert none.first() is None and none.one_or_none() is None and none.scalar_one_or_none() is None
        with pytest.raises(NoResultFound):
            none.one()
        with pytest.raises(NoResultFound):
            none.scalar_one()
        single = await tx.conn.execute(USER_BY_ID, {"id": author_id})
        assert single.scalar_one() == author_id and single.scalar_one_or_none() == author_id
        change = setter_of(users, ("awaiting",))
        assert (await tx.conn.execute(change, {"_id": author_id, "awaiting": "x"})).rowcount == 1
        assert (await tx.conn.execute(change, {"_id": author_id + 100, "awaiting": "x"})).rowcount == 0


async def test_a_prepared_insert_fills_the_column_defaults_and_gives_the_new_id(store: SqlStore) -> None:
    """Columns left out get the table's defaults (or NULL), as SQLAlchemy fills them; the new id is returned."""
    async with store.transaction() as tx:
        first = await tx.conn.execute(INSERT_USER, user_params("1"))
        second = await tx.conn.execute(INSERT_USER, user_params("2"))
        explicit = await tx.conn.execute(INSERT_USER, user_params("3", locale="en", reminders_off=True))
        assert isinstance(first, PlanResult) and isinstance(explicit, PlanResult)
        by_alchemy = alchemy(tx).execute(INSERT_USER, user_params("4"))
        rows = {r.external_id: r for r in (await tx.conn.execute(select(users))).all()}
        draft = await tx.conn.execute(
            INSERT_INITIATIVE,
            {"author_id": rows["1"].id, "campaign_key": "c2026", "created_at": NOW, "updated_at": NOW},
        )
        assert isinstance(draft, PlanResult)
        draft_row = (await tx.conn.execute(select(initiatives))).one()
    assert first.inserted_primary_key == (rows["1"].id,)
    assert second.inserted_primary_key == (rows["2"].id,)
    assert explicit.inserted_primary_key == (rows["3"].id,)
    assert len({rows[k].id for k in "1234"}) == 4
    assert draft.inserted_primary_key == (draft_row.id,)
    assert (rows["3"].locale, rows["3"].reminders_off, rows["3"].deleted) == ("en", True, False)
    left_out = {k: v for k, v in rows["1"]._mapping.items() if k not in ("id", "external_id")}
    assert left_out == {k: v for k, v in rows["4"]._mapping.items() if k not in ("id", "external_id")}
    for table, row, given in (
        (users, rows["1"], user_params("1")),
        (initiatives, draft_row, {"author_id": 0, "campaign_key": "", "created_at": NOW, "updated_at": NOW}),
    ):
        defaulted = 0
        for column in table.c:
            if column.primary_key or column.name in given:
                continue
            default: Any = column.default
            expected = default.arg if default is not None else None
            defaulted += default is not None
            value = row._mapping[column.name]
            assert (value, type(value)) == (expected, type(expected)), column.name
        assert defaulted >= 5, table.name
    assert tuple(by_alchemy.inserted_primary_key or ()) == (rows["4"].id,)


async def test_a_unique_violation_raises_integrity_error_and_rolls_the_transaction_back(
    store: SqlStore, db_path: Path
) -> None:
    """A prepared INSERT breaking a unique key raises IntegrityError; nothing of its transaction persists."""
    await a_user(store, "1")
    with pytest.raises(IntegrityError) as caught:
        async with store.transaction() as tx:
            await tx.create_user(UserRef("telegram", "2"), locale="vi", now=NOW)
            fine = await tx.conn.execute(INSERT_USER, user_params("3"))
            assert isinstance(fine, PlanResult)
            await tx.conn.execute(INSERT_USER, user_params("1"))
    assert isinstance(caught.value.orig, sqlite3.IntegrityError)
    assert "UNIQUE" in str(caught.value.orig)
    assert read_file(db_path, "select external_id from app_user order by id") == [("1",)]
    async with store.transaction() as tx:
        assert await tx.user_by_ref(UserRef("telegram", "2")) is None
        await tx.create_user(UserRef("telegram", "2"), locale="vi", now=NOW)
    assert read_file(db_path, "select external_id from app_user order by id") == [("1",), ("2",)]


async def test_a_failed_savepoint_undoes_only_its_own_work(store: SqlStore, db_path: Path) -> None:
    """An error inside begin_nested() rolls back to the savepoint; the rest of the transaction commits."""
    await a_user(store, "1")
    async with store.transaction() as tx:
        await tx.create_user(UserRef("telegram", "before"), locale="vi", now=NOW)
        with pytest.raises(IntegrityError):
            async with tx.conn.begin_nested():
                await tx.create_user(UserRef("telegram", "inside"), locale="vi", now=NOW)
                await tx.conn.execute(update(users).where(users.c.external_id == "1").values(phone="000"))
                await tx.create_user(UserRef("telegram", "1"), locale="vi", now=NOW)
        with pytest.raises(Boom):
            async with tx.conn.begin_nested():
                await tx.create_user(UserRef("telegram", "boom"), locale="vi", now=NOW)
                raise Boom
        async with tx.conn.begin_nested():
            await tx.create_user(UserRef("telegram", "kept"), locale="vi", now=NOW)
        await tx.create_user(UserRef("telegram", "after"), locale="vi", now=NOW)
    assert read_file(db_path, "select external_id from app_user order by id") == [
        ("1",),
        ("before",),
        ("kept",),
        ("after",),
    ]
    assert read_file(db_path, "select phone from app_user where external_id = '1'") == [("+84912345678",)]


async def test_a_missing_or_null_required_value_is_refused(store: SqlStore, db_path: Path) -> None:
    """A missing bind parameter raises InvalidRequestError, a NOT NULL column left out IntegrityError."""
    async with store.transaction() as tx:
        with pytest.raises(InvalidRequestError):
            await tx.conn.execute(USER_BY_ID, {})
        with pytest.raises(InvalidRequestError):
            await tx.conn.execute(USER_BY_REF, {"channel": "telegram"})
        with pytest.raises(IntegrityError):
            await tx.conn.execute(INSERT_USER, {"channel": "telegram", "external_id": "9", "updated_at": NOW})
        await tx.conn.execute(INSERT_USER, user_params("10"))
    assert read_file(db_path, "select external_id from app_user") == [("10",)]


async def test_an_exception_rolls_back_everything_and_the_next_transaction_works(
    store: SqlStore, db_path: Path
) -> None:
    """Prepared and SQLAlchemy statements alike are undone when the transaction body raises."""
    unit_id = await a_unit(store)
    user_id = await a_user(store, "1", full_name="Trước")
    tables = ("app_user", "unit", "initiative", "domain_event", "coauthor")
    before = {t: read_file(db_path, f"select * from {t} order by 1") for t in tables}
    with pytest.raises(Boom):
        async with store.transaction() as tx:
            loaded = await tx.user(user_id)
            assert loaded is not None
            loaded.full_name = "Sau"
            await tx.save_user(loaded, now=LATER)
            await tx.create_user(UserRef("telegram", "2"), locale="vi", now=NOW)
            await tx.set_review_chat(unit_id, "telegram:-100")
            draft = await tx.create_draft(Initiative(0, user_id, unit_id, "c2026", title="Nháp"), now=NOW)
            draft.coauthors = [CoAuthor("Bình", 30)]
            await tx.replace_coauthors(draft)
            await tx.record_event("submitted", draft.id, {"x": 1}, now=NOW)
            assert (await tx.conn.execute(USER_BY_ID, {"id": user_id})).one().full_name == "Sau"
            raise Boom
    assert {t: read_file(db_path, f"select * from {t} order by 1") for t in tables} == before
    async with store.transaction() as tx:
        loaded = await tx.user(user_id)
        assert loaded is not None and loaded.full_name == "Trước"
        loaded.full_name = "Sau"
        await tx.save_user(loaded, now=LATER)
        await tx.create_user(UserRef("telegram", "2"), locale="vi", now=NOW)
    assert read_file(db_path, "select external_id, full_name from app_user order by id") == [
        ("1", "Sau"),
        ("2", None),
    ]


async def test_a_cancelled_transaction_rolls_back_and_releases_the_database(store: SqlStore, db_path: Path) -> None:
    """A task cancelled inside a transaction leaves nothing behind and does not block the next one."""
    started = asyncio.Event()

    async def slow() -> None:
        async with store.transaction() as tx:
            await tx.create_user(UserRef("telegram", "cancelled"), locale="vi", now=NOW)
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(slow())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], timeout=5, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    assert started.is_set() and not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5), store.transaction() as tx:
        await tx.create_user(UserRef("telegram", "next"), locale="vi", now=NOW)
    assert read_file(db_path, "select external_id from app_user") == [("next",)]


async def test_a_save_writes_only_the_columns_that_changed_since_the_read(store: SqlStore, db_path: Path) -> None:
    """A column changed by another statement after the read keeps its value when the object is saved."""
    user_id = await a_user(store, "1")
    async with store.transaction() as tx:
        user = await tx.user(user_id)
        assert user is not None
        await tx.conn.execute(update(users).where(users.c.id == user_id).values(phone="0999"))
        user.full_name = "Trần Thị Cúc"
        await tx.save_user(user, now=LATER)
        await tx.conn.execute(update(users).where(users.c.id == user_id).values(full_name="Khác", awaiting="x"))
        await tx.save_user(user, now=LATER)  # as last written: only updated_at goes out
    assert read_file(db_path, "select phone, full_name, name_folded, awaiting, updated_at from app_user") == [
        ("0999", "Khác", "tran thi cuc", "x", "2026-11-25 05:00:00.000250")
    ]


async def test_a_save_of_an_initiative_keeps_columns_changed_by_other_statements(
    store: SqlStore, db_path: Path
) -> None:
    """Saving an initiative read in this transaction leaves a column another statement changed alone."""
    author_id = await a_user(store)
    async with store.transaction() as tx:
        await tx.create_draft(Initiative(0, author_id, None, "c2026", title="Cũ", problem="p"), now=NOW)
    async with store.transaction() as tx:
        draft = await tx.draft_of(author_id)
        assert draft is not None
        await tx.conn.execute(update(initiatives).where(initiatives.c.id == draft.id).values(problem="mới"))
        draft.title = "Máy cắt"
        await tx.save_initiative(draft, now=LATER)
    assert read_file(db_path, "select title, title_folded, problem from initiative") == [("Máy cắt", "may cat", "mới")]


async def test_a_save_undone_by_a_savepoint_is_written_again_by_the_next_save(store: SqlStore, db_path: Path) -> None:
    """A save rolled back with its savepoint is not taken as written: the next save writes the column."""
    user_id = await a_user(store, "1", full_name="Cũ")
    async with store.transaction() as tx:
        user = await tx.user(user_id)
        assert user is not None
        user.full_name = "Mới"
        with pytest.raises(RuntimeError):
            async with tx.savepoint():
                await tx.save_user(user, now=LATER)
                raise RuntimeError("undo")
        await tx.save_user(user, now=LATER)
    assert read_file(db_path, "select full_name from app_user") == [("Mới",)]


async def test_a_save_of_an_object_not_read_in_the_transaction_writes_every_column(
    store: SqlStore, db_path: Path
) -> None:
    """Without a read in this transaction (or after forget_seen) a save writes all its columns."""
    user_id = await a_user(store, "1")
    async with store.transaction() as tx:
        user = await tx.user(user_id)
    assert user is not None
    async with store.transaction() as tx:
        await tx.conn.execute(update(users).where(users.c.id == user_id).values(phone="0999", awaiting="x"))
        user.full_name = "Lê Văn Dũng"
        await tx.save_user(user, now=LATER)
    assert read_file(db_path, "select phone, full_name, awaiting from app_user") == [
        ("+84912345678", "Lê Văn Dũng", None)
    ]
    async with store.transaction() as tx:
        again = await tx.user(user_id)
        assert again is not None
        tx.forget_seen(users, user_id)
        await tx.conn.execute(update(users).where(users.c.id == user_id).values(phone="0888"))
        await tx.save_user(again, now=LATER)
    assert read_file(db_path, "select phone from app_user") == [("+84912345678",)]


def checkpoint_threads() -> list[threading.Thread]:
    """The live checkpoint threads of this process."""
    return [t for t in threading.enumerate() if t.name == "sqlite-checkpoint" and t.is_alive()]


def rows_in_main_file(db_path: Path, copy: Path) -> int | None:
    """How many test rows a copy of the database file alone (no WAL) holds; None if the copy was torn."""
    shutil.copyfile(db_path, copy)
    for suffix in ("-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("select count(*) from app_user where channel = 'ckpt'").fetchone()[0])
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


async def test_the_checkpoint_thread_moves_commits_into_the_database_file(db_url: str, db_path: Path) -> None:
    """Commits reach the main file without a close (auto-checkpoint is off); dispose() stops the thread."""
    before = set(checkpoint_threads())
    store = SqlStore(Database(db_url))
    try:
        for i in range(300):
            async with store.transaction() as tx:
                await tx.conn.execute(INSERT_USER, {**user_params(str(i)), "channel": "ckpt"})
        started = [t for t in checkpoint_threads() if t not in before]
        assert len(started) == 1
        assert read_file(db_path, "select count(*) from app_user where channel = 'ckpt'") == [(300,)]
        copy = db_path.with_name("copy.db")
        deadline = time.monotonic() + 3
        found = rows_in_main_file(db_path, copy)
        while found != 300 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            found = rows_in_main_file(db_path, copy)
        assert found == 300
        async with store.transaction() as tx:
            await tx.create_user(UserRef("telegram", "x"), locale="vi", now=NOW)
        assert [t for t in checkpoint_threads() if t not in before] == started
    finally:
        await store.close()
    assert not started[0].is_alive()
    assert checkpoint_threads() == [t for t in before if t.is_alive()]


async def test_an_in_memory_database_starts_no_checkpoint_thread() -> None:
    """Only file databases get a checkpoint thread."""
    before = set(checkpoint_threads())
    store = SqlStore(Database("sqlite+aiosqlite://"))
    try:
        async with store.transaction() as tx:
            assert (await tx.conn.execute(select(1))).scalar() == 1
        assert set(checkpoint_threads()) <= before
    finally:
        await store.close()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 25, 14, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 11, 25, 21, 30, tzinfo=timezone(timedelta(hours=7))),
        datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_the_fast_datetime_conversions_store_and_read_what_sqlalchemy_does(moment: datetime) -> None:
    dialect = sqlite_dialect()
    alchemy_bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    alchemy_read = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert alchemy_bind is not None and alchemy_read is not None
    stored = alchemy_bind(moment)
    assert utc_text(moment) == stored
    assert utc_text(moment) == stored  # the last value is remembered
    assert utc_text(moment + timedelta(microseconds=1)) != stored
    back = utc_datetime(stored)
    assert back == alchemy_read(stored) == moment
    assert back is not None and back.tzinfo is UTC
    assert utc_datetime(stored[:19]) == alchemy_read(stored[:19])  # written without a fraction
    assert utc_datetime(stored[:10]) == alchemy_read(stored[:10])  # a date alone
    with_offset = moment.isoformat(" ")
    assert utc_datetime(with_offset) == alchemy_read(with_offset) == moment
    assert utc_text(None) is None and utc_datetime(None) is None
    with pytest.raises(ValueError):
        utc_text(moment.replace(tzinfo=None))


async def test_the_wal_stays_bounded_while_commits_keep_coming(db_url: str, db_path: Path) -> None:
    """Back-to-back commits never give a passive checkpoint the moment it needs to start the WAL over;
    past `restart_frames` the bot's connection empties it between two transactions."""
    database = Database(db_url)
    database.checkpoint_options = {"interval": 0.002, "restart_frames": 200}
    store = SqlStore(database)
    wal = Path(f"{db_path}-wal")
    sizes = []
    try:
        for i in range(2000):  # each insert puts about five pages in the WAL (the row, its indexes)
            async with store.transaction() as tx:
                await tx.conn.execute(INSERT_USER, {**user_params(str(i)), "channel": "wal"})
            if i % 50 == 49:
                sizes.append(wal.stat().st_size)
                time.sleep(0.002)  # a turn for the checkpoint thread, as the bot's own work gives it
    finally:
        await store.close()
    assert any(later < earlier for earlier, later in itertools.pairwise(sizes)), sizes  # emptied
    assert max(sizes) < 12 * 1024 * 1024, sizes  # without the restart: +1.2 MB every 50 inserts, 50 MB in all
    assert read_file(db_path, "select count(*) from app_user where channel = 'wal'") == [(2000,)]


def test_a_wal_restart_gives_way_to_a_reader_in_another_process_at_once(tmp_path: Path) -> None:
    """A long read elsewhere (a `sangkien` command) makes the restart give up within its patience,
    not wait out the bot's 10 s busy timeout on the event loop; the next try, once it is gone, works."""
    path = tmp_path / "shared.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("PRAGMA busy_timeout=10000")
    writer.execute("create table note (id integer primary key, body text)")
    for i in range(50):
        writer.execute("insert into note (body) values (?)", (f"note {i}",))
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("select count(*) from note").fetchone() == (50,)  # holds its snapshot
    checkpointer = Checkpointer(str(path), interval=3600)
    wal = Path(f"{path}-wal")
    try:
        started = time.monotonic()
        assert checkpointer.restart(writer) is False
        assert time.monotonic() - started < 5  # far less than the writer's own 10 s
        assert writer.execute("PRAGMA busy_timeout").fetchone() == (10000,)
        assert wal.stat().st_size > 0
        reader.execute("COMMIT")
        assert checkpointer.restart(writer) is True
        assert wal.stat().st_size == 0
    finally:
        checkpointer.stop()
        reader.close()
        writer.close()
