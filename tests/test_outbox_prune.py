"""Pruning the outbox: old finished messages go in chunks; pending, recent and unreported ones stay."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql

from bot.app import housekeeping
from bot.config import JobsSection
from bot.delivery import Delivery
from bot.i18n import Msg
from bot.messages import FileOut, Notice, Reply
from storage.engine import Database
from storage.outbox import OutboxQueries
from storage.store import SqlStore, SqlTx
from tests.conftest import NOW, FakeClock, Harness, register, submit
from tests.fake_telegram import Person, TelegramDriver, button
from tests.outbox_support import notice

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

KEEP = timedelta(days=30)
LAN = Person(501, first_name="Lan")
HUNG = Person(601, first_name="Hùng", username="hung")
ADMIN = Person(900, first_name="Admin")


@dataclass
class Box:
    """A store and a delivery on a clock the test moves."""

    store: SqlStore
    delivery: Delivery
    clock: FakeClock

    async def enqueue(self, *notices: Notice, prefix: str = "run1", run: int | None = None) -> None:
        """Write notices into the outbox in one transaction."""
        async with self.store.transaction() as tx:
            await self.delivery.enqueue_notices(tx, list(notices), job_run_id=run, key_prefix=prefix)

    async def finish(self, outcomes: dict[str, str]) -> None:
        """Give each due message (by chat) its outcome: sent, failed (for good) or blocked."""
        for item in await self.delivery.next_batch(1000):
            outcome = outcomes.get(item.chat)
            if outcome == "sent":
                await self.delivery.sent(item.id)
            elif outcome == "failed":
                await self.delivery.failed(item.id, "Bad Request: chat not found", item.attempts, permanent=True)
            elif outcome == "blocked":
                await self.delivery.blocked(item.id, item.user_id)

    async def run(self, job: str, *, finished: bool = True, reported: bool = False) -> int:
        """A job run, finished and reported (as `report_deliveries` marks it) when asked."""
        async with self.store.transaction() as tx:
            run_id = await tx.claim_run(job, self.clock(), now=self.clock(), owner="test", lease_until=self.clock())
            assert run_id is not None
            if finished:
                await tx.finish_run(run_id, {"job": job, "queued": 1}, now=self.clock())
            if reported:
                await tx.mark_reported(run_id, {"job": job, "queued": 1})
        return run_id

    async def rows(self) -> list[tuple[str, str]]:
        """(chat, status) of every message (shared files left out), by id."""
        async with self.store.transaction() as tx:
            result = await tx.conn.execute(text("select chat, status from outbox where status != 'blob' order by id"))
            return [(r[0], r[1]) for r in result.all()]


@pytest.fixture
async def box(db_url: str) -> AsyncIterator[Box]:
    """An outbox on a fresh database, at NOW."""
    clock = FakeClock(NOW)
    store = SqlStore(Database(db_url))
    yield Box(store, Delivery(store, clock), clock)
    await store.close()


async def test_old_finished_messages_go_and_pending_and_recent_ones_stay(box: Box) -> None:
    await box.enqueue(notice(1), notice(2), notice(3), notice(4), prefix="old")
    await box.finish({"telegram:1": "sent", "telegram:2": "failed", "telegram:3": "blocked"})  # 4 stays pending
    box.clock.now += timedelta(days=20)
    await box.enqueue(notice(5), notice(6), prefix="recent")
    await box.finish({"telegram:5": "sent", "telegram:6": "failed"})
    box.clock.now += timedelta(days=11)  # the first messages are 31 days old, the others 11
    assert await box.delivery.prune(KEEP) == 3
    assert await box.rows() == [("telegram:4", "pending"), ("telegram:5", "sent"), ("telegram:6", "failed")]
    assert await box.delivery.prune(KEEP) == 0


async def test_age_counts_from_when_a_message_was_last_due_not_when_it_was_written(box: Box) -> None:
    delivery = Delivery(box.store, box.clock, backoff=timedelta(days=5))
    await box.enqueue(notice(1), prefix="retried")
    [item] = await delivery.next_batch(10)
    assert await delivery.failed(item.id, "timed out", item.attempts) == NOW + timedelta(days=5)
    box.clock.now += timedelta(days=5)
    await box.finish({"telegram:1": "sent"})
    box.clock.now = NOW + timedelta(days=33)  # written 33 days ago, last due 28 days ago
    assert await delivery.prune(KEEP) == 0
    assert await box.rows() == [("telegram:1", "sent")]
    box.clock.now = NOW + timedelta(days=36)
    assert await delivery.prune(KEEP) == 1
    assert await box.rows() == []


async def test_messages_of_a_run_stay_until_its_delivery_report_went_out(box: Box) -> None:
    reported = await box.run("leaderboard", reported=True)
    unreported = await box.run("reminders")
    unfinished = await box.run("reviewer_digest", finished=False)
    await box.enqueue(notice(1), prefix="a", run=reported)
    await box.enqueue(notice(2), prefix="b", run=unreported)
    await box.enqueue(notice(3), prefix="c", run=unfinished)
    await box.finish({"telegram:1": "sent", "telegram:2": "sent", "telegram:3": "sent"})
    box.clock.now += timedelta(days=31)
    assert await box.delivery.prune(KEEP) == 1
    assert await box.rows() == [("telegram:2", "sent"), ("telegram:3", "sent")]
    async with box.store.transaction() as tx:
        await tx.mark_reported(unreported, {"job": "reminders", "queued": 1})
    assert await box.delivery.prune(KEEP) == 1
    assert await box.rows() == [("telegram:3", "sent")]


async def test_pruning_deletes_chunk_by_chunk_each_in_its_own_transaction(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    await box.enqueue(*[notice(chat) for chat in range(1, 11)], prefix="many")
    await box.finish({f"telegram:{chat}": "sent" for chat in range(1, 11)})
    await box.enqueue(notice(99), prefix="waiting")
    chunks: list[tuple[SqlTx, int, int]] = []
    original = OutboxQueries.prune_outbox

    async def counted(self: SqlTx, **kwargs: Any) -> int:
        removed = await original(self, **kwargs)
        chunks.append((self, kwargs["limit"], removed))
        return removed

    monkeypatch.setattr(SqlTx, "prune_outbox", counted)
    box.clock.now += timedelta(days=31)
    assert await box.delivery.prune(KEEP, chunk=3) == 10
    assert [(limit, removed) for _tx, limit, removed in chunks] == [(3, 3), (3, 3), (3, 3), (3, 1)]
    assert len({id(tx) for tx, _limit, _removed in chunks}) == 4  # one transaction per chunk
    assert await box.rows() == [("telegram:99", "pending")]


@pytest.mark.sqlite_only  # SQLite's query plan
async def test_the_prune_searches_the_due_index(box: Box, db_url: str) -> None:
    await box.enqueue(notice(1), prefix="a")
    await box.finish({"telegram:1": "sent"})
    seen: list[tuple[str, Any]] = []
    engine = box.store.database.engine.sync_engine

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM OUTBOX"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    box.clock.now += timedelta(days=31)
    assert await box.delivery.prune(KEEP) == 1
    [(statement, parameters)] = seen
    with sqlite3.connect(db_url.removeprefix("sqlite+aiosqlite:///")) as conn:
        plan = " | ".join(row[-1] for row in conn.execute(f"explain query plan {statement}", parameters))
    assert "ix_outbox_due (status=? AND not_before<?)" in plan, plan
    assert "SCAN outbox" not in plan, plan


class Capture:
    """A connection that keeps the statement it is given instead of running it."""

    statement: Any = None

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Keep the statement; nothing was deleted."""
        self.statement = statement
        return SimpleNamespace(rowcount=0)


async def test_on_postgresql_the_reported_flag_is_read_from_the_report_as_jsonb() -> None:
    conn = Capture()
    assert await SqlTx(conn, "postgresql").prune_outbox(before=NOW, limit=5) == 0
    sql = " ".join(str(conn.statement.compile(dialect=postgresql.dialect())).split())
    assert "CAST(job_run.report AS JSONB) ->> " in sql and "json_extract" not in sql, sql
    assert "outbox.status IN (" in sql and "LIMIT" in sql, sql


async def blob_keys(box: Box) -> list[str]:
    """The keys of the shared files kept in the outbox."""
    async with box.store.transaction() as tx:
        return [r[0] for r in (await tx.conn.execute(text("select key from outbox where status = 'blob'"))).all()]


async def test_a_shared_file_goes_once_old_and_no_message_to_be_sent_uses_it(box: Box) -> None:
    chart = FileOut("leaderboard.png", b"\x89PNG chart of week 1")
    picture = (Reply("t.chart", {"rank": 1}, file=chart),)
    await box.enqueue(Notice("telegram:1", "vi", picture), Notice("telegram:2", "vi", picture), prefix="lb1")
    [key] = await blob_keys(box)
    digest = key.removeprefix("blob:")
    await box.finish({"telegram:1": "sent"})  # telegram:2 is still to be sent (its chat was rate limited)
    box.clock.now += timedelta(days=31)
    assert await box.delivery.prune(KEEP) == 1
    assert await box.delivery.prune_blobs(KEEP) == 0  # telegram:2 still needs the chart
    [item] = await box.delivery.next_batch(10)
    assert [r.file for r in await box.delivery.replies(item)] == [chart]
    await box.finish({"telegram:2": "sent"})
    assert await box.delivery.prune_blobs(KEEP) == 1
    assert await blob_keys(box) == []
    async with box.store.transaction() as tx:
        assert await tx.load_blob(digest) is None


async def test_a_pictures_text_is_kept_while_a_message_to_be_sent_uses_it(box: Box) -> None:
    chart = FileOut("leaderboard.png", b"\x89PNG chart of week 2", alt=Msg("leaderboard.board", {"campaign": "C"}))
    picture = (Reply("t.chart", {"rank": 1}, file=chart),)
    await box.enqueue(Notice("zalo:1", "vi", picture), prefix="lb2")
    assert len(await blob_keys(box)) == 2  # the chart and its text
    box.clock.now += timedelta(days=31)
    assert await box.delivery.prune_blobs(KEEP) == 0  # zalo:1 still needs both
    [item] = await box.delivery.next_batch(10, channel="zalo")
    assert [r.file for r in await box.delivery.replies(item)] == [chart]
    await box.finish({"zalo:1": "sent"})
    assert await box.delivery.prune_blobs(KEEP) == 2
    assert await blob_keys(box) == []


async def test_a_recent_shared_file_stays_and_one_sent_again_is_stored_again(box: Box) -> None:
    chart = FileOut("leaderboard.png", b"\x89PNG the same chart")
    picture = (Reply("t.chart", {"rank": 1}, file=chart),)
    await box.enqueue(Notice("telegram:1", "vi", picture), prefix="lb1")
    await box.finish({"telegram:1": "sent"})
    box.clock.now += timedelta(days=29)
    assert await box.delivery.prune_blobs(KEEP) == 0  # unused, but not 30 days old
    box.clock.now += timedelta(days=2)
    assert await box.delivery.prune_blobs(KEEP) == 1
    await box.enqueue(Notice("telegram:2", "vi", picture), prefix="lb2")  # the same bytes, a later broadcast
    [item] = await box.delivery.next_batch(10)
    assert [r.file for r in await box.delivery.replies(item)] == [chart]
    assert len(await blob_keys(box)) == 1


async def test_on_postgresql_the_file_prune_looks_for_the_digest_in_pending_payloads() -> None:
    conn = Capture()
    assert await SqlTx(conn, "postgresql").prune_blobs(before=NOW) == 0
    sql = " ".join(str(conn.statement.compile(dialect=postgresql.dialect())).split())
    assert sql.startswith("DELETE FROM outbox WHERE outbox.status = "), sql
    assert "NOT (EXISTS (SELECT waiting.id FROM outbox AS waiting WHERE waiting.status = " in sql, sql
    assert "waiting.payload LIKE '%%' || substr(outbox.key, " in sql, sql


def test_outbox_retention_must_outlast_the_draft_and_escalation_look_back() -> None:
    assert JobsSection().outbox_keep_days == 30
    assert JobsSection(outbox_keep_days=21).outbox_keep_days == 21  # escalate_after_days 14 + a week
    with pytest.raises(ValidationError, match="outbox_keep_days"):
        JobsSection(outbox_keep_days=20)
    with pytest.raises(ValidationError, match="outbox_keep_days"):
        JobsSection(outbox_keep_days=30, draft_idle_hours=24 * 24)


async def deliver_and_report(harness: Harness) -> None:
    """Mark every pending message sent and the finished runs reported, as the running bot would."""
    assert harness.runtime is not None
    for item in await harness.runtime.delivery.next_batch(1000):
        await harness.runtime.delivery.sent(item.id)
    await harness.runtime.jobs.report_deliveries()
    for item in await harness.runtime.delivery.next_batch(1000):  # the delivery reports to admins
        await harness.runtime.delivery.sent(item.id)


async def test_a_pruned_draft_reminder_is_not_sent_again(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, LAN)
    await tg.text(LAN, "/new")
    await tg.text(LAN, "Đồ gá cắt vải")
    assert harness.runtime is not None
    harness.clock.now += timedelta(hours=25)
    first = await harness.runtime.jobs.run("reminders")
    assert first is not None and first["queued"] == 1
    await deliver_and_report(harness)
    harness.clock.now += timedelta(days=40)
    removed = await housekeeping(harness.runtime)
    assert removed["outbox"] == 2  # the reminder and the delivery report to the admin
    assert await harness.query("select count(*) from outbox where key like 'reminders:draft:%'") == [(0,)]
    later = await harness.runtime.jobs.run("reminders")
    assert later is not None and later["queued"] == 0
    assert await harness.query("select count(*) from outbox where key like 'reminders:draft:%'") == [(0,)]


async def test_a_pruned_escalation_is_not_sent_again(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, HUNG, name="Trần Văn Hùng")
    await register(tg, ADMIN, unit_query="dien co", name="Quản Trị")
    for unit in ("May 10", "Khu công nghiệp"):
        calls = await tg.text(ADMIN, "/grant @hung")
        await tg.press(ADMIN, button(calls, unit))
    await register(tg, LAN)
    await submit(tg, LAN)
    assert harness.runtime is not None
    harness.clock.now += timedelta(days=15)
    await harness.runtime.jobs.run("reviewer_digest")
    assert await harness.query("select count(*) from outbox where key like '%:escalate:%'") == [(1,)]
    await deliver_and_report(harness)
    harness.clock.now += timedelta(days=40)
    # digest, escalation, delivery report; and what updates wrote: two grant notices, the card, the receipt
    assert (await housekeeping(harness.runtime))["outbox"] == 7
    assert await harness.query("select count(*) from outbox where key like '%:escalate:%'") == [(0,)]
    harness.clock.now += timedelta(days=1)
    await harness.runtime.jobs.run("reviewer_digest")
    digests = await harness.query("select key from outbox where status = 'pending' and key not like 'delivery:%'")
    assert digests and all(":escalate:" not in key for (key,) in digests)
