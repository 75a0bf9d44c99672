"""The row cache: the person and their draft are read once, and every change is seen afterwards."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from bot.domain import Initiative, RegStep, Status, UserRef
from storage.engine import Database, InlineConnection, SqliteSession
from storage.people import USER_BY_ID, USER_BY_REF
from storage.prepared import prepared
from storage.rowcache import Lookup, RowCache, StaleRow
from storage.rows import users
from storage.store import SqlStore, SqlTx
from tests.conftest import Harness, register
from tests.fake_telegram import Person, TelegramDriver, texts

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))
REF = UserRef("telegram", "42")


class Boom(Exception):
    """An error raised on purpose inside a transaction."""


@pytest.fixture
def db_path(db_url: str) -> Path:
    """The file of the test's database."""
    database = make_url(db_url).database
    assert database
    return Path(database)


@pytest.fixture
async def store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqlStore]:
    """A store whose cache serves rows without reading them again (as in production)."""
    monkeypatch.setenv("SANGKIEN_CHECK_ROW_CACHE", "0")
    s = SqlStore(Database(db_url))
    yield s
    await s.close()


def session(tx: SqlTx) -> SqliteSession:
    """The connection behind a transaction."""
    assert isinstance(tx.conn, InlineConnection)
    return tx.conn.sqlite


@contextmanager
def selects_of(tx: SqlTx, table: str) -> Iterator[list[str]]:
    """The SELECTs SQLite runs on `table` meanwhile."""
    seen: list[str] = []
    raw = session(tx).raw

    def trace(sql: str) -> None:
        if sql.startswith("SELECT") and f"FROM {table}" in sql:
            seen.append(sql)

    raw.set_trace_callback(trace)
    try:
        yield seen
    finally:
        raw.set_trace_callback(None)


async def a_person(store: SqlStore) -> int:
    """A registered person; their row is cached by the lookup."""
    async with store.transaction() as tx:
        user = await tx.create_user(REF, locale="vi", now=NOW)
        user.full_name, user.reg_step = "Nguyễn Thị Lan", RegStep.DONE
        await tx.save_user(user, now=NOW)
        assert await tx.user_by_ref(REF) is not None
    return user.id


async def a_draft(store: SqlStore, author_id: int, title: str, *, now: datetime = NOW) -> Initiative:
    """A new draft of `author_id`."""
    async with store.transaction() as tx:
        item = Initiative(id=0, author_id=author_id, unit_id=None, campaign_key="c2026", title=title)
        return await tx.create_draft(item, now=now)


async def move(store: SqlStore, initiative_id: int, status: Status, step: str, *, now: datetime = NOW) -> None:
    """Save an initiative read by id (not through its author's lookup) with a new status."""
    async with store.transaction() as tx:
        item = await tx.initiative(initiative_id)
        assert item is not None
        item.status, item.step = status, step
        await tx.save_initiative(item, now=now)


async def test_a_person_read_once_is_served_from_the_cache_with_every_save_applied(store: SqlStore) -> None:
    """The second lookup runs no SELECT and returns exactly what a new read returns (types, time zones)."""
    user_id = await a_person(store)
    async with store.transaction() as tx:
        user = await tx.user_by_ref(REF)
        assert user is not None
        user.locale, user.editing_profile, user.phone = "en", True, "+84912345678"
        user.consent_at = datetime(2026, 11, 25, 10, tzinfo=HANOI)
        await tx.save_user(user, now=NOW + timedelta(microseconds=250))
    async with store.transaction() as tx:
        with selects_of(tx, "app_user") as selects:
            cached_row = (await tx.conn.execute(USER_BY_REF, {"channel": "telegram", "external_id": "42"})).one()
        fresh = (await tx.conn.execute(USER_BY_ID, {"id": user_id})).one()
    assert selects == []
    assert tuple(cached_row) == tuple(fresh)
    assert [type(v) for v in cached_row] == [type(v) for v in fresh]
    assert [getattr(v, "tzinfo", None) for v in cached_row] == [getattr(v, "tzinfo", None) for v in fresh]
    assert cached_row.consent_at == datetime(2026, 11, 25, 3, tzinfo=UTC) and cached_row.editing_profile is True


async def test_a_commit_by_another_connection_is_seen_by_the_next_transaction(store: SqlStore, db_path: Path) -> None:
    """A `sangkien` command or another process changes the row: the next lookup reads it again."""
    await a_person(store)
    with closing(sqlite3.connect(db_path)) as other:
        other.execute("update app_user set locale = 'en', full_name = 'Trần Văn Bình'")
        other.commit()
    async with store.transaction() as tx:
        user = await tx.user_by_ref(REF)
    assert user is not None and (user.locale, user.full_name) == ("en", "Trần Văn Bình")


@pytest.mark.parametrize("undone_by", ["transaction", "savepoint"])
async def test_a_save_that_is_rolled_back_is_not_served(store: SqlStore, undone_by: str) -> None:
    """After a rollback the lookup returns the stored row, not the one saved and undone."""
    await a_person(store)
    with pytest.raises(Boom):
        async with store.transaction() as tx:
            user = await tx.user_by_ref(REF)
            assert user is not None
            user.locale = "en"
            if undone_by == "savepoint":
                try:
                    async with tx.conn.begin_nested():
                        await tx.save_user(user, now=NOW)
                        raise Boom
                except Boom:
                    assert (await tx.user_by_ref(REF)).locale == "vi"  # type: ignore[union-attr]
            else:
                await tx.save_user(user, now=NOW)
            raise Boom
    async with store.transaction() as tx:
        user = await tx.user_by_ref(REF)
    assert user is not None and user.locale == "vi"


async def test_a_submitted_draft_stops_being_the_work_item_and_the_next_draft_becomes_it(store: SqlStore) -> None:
    """Submitting drops the cached draft; a new draft inserted afterwards is found."""
    author_id = await a_person(store)
    first = await a_draft(store, author_id, "Đồ gá cắt vải")
    async with store.transaction() as tx:
        draft = await tx.draft_of(author_id)
        assert draft is not None and draft.id == first.id
        draft.status, draft.step, draft.code = Status.SUBMITTED, "done", "SK-2026-000001"
        await tx.save_initiative(draft, now=NOW)
    async with store.transaction() as tx:
        assert await tx.draft_of(author_id) is None
    second = await a_draft(store, author_id, "Băng tải tự động")
    async with store.transaction() as tx:
        draft = await tx.draft_of(author_id)
    assert draft is not None and (draft.id, draft.title) == (second.id, "Băng tải tự động")


async def test_an_initiative_sent_back_for_changes_becomes_the_work_item_over_a_cached_older_draft(
    store: SqlStore,
) -> None:
    """A reviewer's save of another row (not cached) can change which row answers: the author sees it."""
    author_id = await a_person(store)
    sent = await a_draft(store, author_id, "Đồ gá cắt vải")
    await move(store, sent.id, Status.SUBMITTED, "done")
    draft = await a_draft(store, author_id, "Băng tải tự động", now=NOW + timedelta(minutes=1))
    async with store.transaction() as tx:
        assert (await tx.draft_of(author_id)).id == draft.id  # type: ignore[union-attr]
    await move(store, sent.id, Status.CHANGES_REQUESTED, "summary", now=NOW + timedelta(minutes=2))
    async with store.transaction() as tx:
        work = await tx.draft_of(author_id)
    assert work is not None and (work.id, work.status) == (sent.id, Status.CHANGES_REQUESTED)


async def test_a_new_draft_inserted_over_a_cached_work_item_is_found(store: SqlStore) -> None:
    """The author revising an initiative sent back starts a new draft: the new draft answers."""
    author_id = await a_person(store)
    sent = await a_draft(store, author_id, "Đồ gá cắt vải")
    await move(store, sent.id, Status.CHANGES_REQUESTED, "summary")
    async with store.transaction() as tx:
        assert (await tx.draft_of(author_id)).id == sent.id  # type: ignore[union-attr]
    new = await a_draft(store, author_id, "Băng tải tự động", now=NOW + timedelta(minutes=1))
    async with store.transaction() as tx:
        work = await tx.draft_of(author_id)
    assert work is not None and work.id == new.id


async def test_a_change_the_cache_cannot_follow_drops_the_table_entries(store: SqlStore) -> None:
    """An UPDATE that is not a save by id (here marking people blocked) makes the next lookup read."""
    await a_person(store)
    async with store.transaction() as tx:
        await tx.conn.execute(update(users).values(blocked_at=NOW))
    async with store.transaction() as tx:
        user = await tx.user_by_ref(REF)
    assert user is not None and user.blocked


async def test_an_insert_or_replace_over_a_cached_row_is_not_taken_for_a_plain_insert(store: SqlStore) -> None:
    """INSERT OR REPLACE deletes the row it collides with (here on its id, under another key): the
    cached person is gone, and the lookup says so."""
    user_id = await a_person(store)
    replace = prepared(insert(users).prefix_with("OR REPLACE"))
    other = {"channel": "telegram", "external_id": "43", "created_at": NOW, "updated_at": NOW}
    async with store.transaction() as tx:
        await tx.conn.execute(replace, {"id": user_id, **other})
    async with store.transaction() as tx:
        assert await tx.user_by_ref(REF) is None
        assert (await tx.user_by_ref(UserRef("telegram", "43"))).id == user_id  # type: ignore[union-attr]


async def test_checking_catches_a_write_made_behind_the_cache(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With checking on (the test suite), a row changed without the cache knowing fails loudly."""
    monkeypatch.setenv("SANGKIEN_CHECK_ROW_CACHE", "1")
    checked = SqlStore(Database(db_url))
    try:
        await a_person(checked)
        async with checked.transaction() as tx:
            session(tx).cursor.execute("update app_user set locale = 'en'")
            with pytest.raises(StaleRow, match="locale='vi'"):
                await tx.user_by_ref(REF)
    finally:
        await checked.close()


def test_the_cache_keeps_the_most_recently_used_rows_up_to_its_size() -> None:
    """Past its size a lookup forgets the row used longest ago."""

    class Row(tuple[int, str]):
        @property
        def id(self) -> int:
            return self[0]

    lookup = Lookup("test", "t", ("k",), size=2)
    cache = RowCache(check=False)
    for k in (1, 2):
        cache.put(lookup, {"k": k}, [Row((k, "x"))], {})
    assert cache.get(lookup, {"k": 1}) == (1, "x")
    cache.put(lookup, {"k": 3}, [Row((3, "x"))], {})
    assert [cache.get(lookup, {"k": k}) for k in (1, 2, 3)] == [(1, "x"), None, (3, "x")]


async def test_a_language_changed_by_another_process_is_used_in_the_next_reply(
    tg: TelegramDriver, harness: Harness, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through real dispatch, the cache serving rows unchecked: the person's row was cached by
    their last update; a command run beside the bot switches their language, the next reply is
    in English."""
    monkeypatch.setenv("SANGKIEN_CHECK_ROW_CACHE", "0")
    lan = Person(501)
    await register(tg, lan)
    assert "Sáng kiến bot làm được gì" in texts(await tg.text(lan, "/help"))[0]
    with closing(sqlite3.connect(db_path)) as other:
        other.execute("update app_user set locale = 'en' where external_id = ?", (str(lan.id),))
        other.commit()
    assert "What the Initiative bot can do" in texts(await tg.text(lan, "/help"))[0]
