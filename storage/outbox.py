"""Queries of the outbox: messages written before they are sent and marked when confirmed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.delivery import BLOB, BLOCKED, FAILED, FINISHED, PENDING, SENT, NewMessage, OutboxItem
from storage.jobs import reported_runs
from storage.rows import Queries, metadata, users

outbox = metadata.tables["outbox"]
ENQUEUE = {
    "sqlite": sqlite_insert(outbox).on_conflict_do_nothing(index_elements=["key"]),
    "postgresql": postgresql_insert(outbox).on_conflict_do_nothing(index_elements=["key"]),
}
LOOKUP_CHUNK = 500


def utc(moment: datetime) -> datetime:
    """An aware time in UTC (the database keeps UTC wall-clock times)."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def to_item(row: Any) -> OutboxItem:
    """Map an outbox row to the core's type."""
    return OutboxItem(row.id, row.key, row.chat, row.user_id, row.locale, row.payload, row.attempts, row.job_run_id)


class OutboxQueries(Queries):
    """The outbox: enqueue, pick what is due, record the outcome, report a job run, prune."""

    async def enqueue(
        self,
        key: str,
        chat: str,
        user_id: int | None,
        locale: str,
        payload: str,
        not_before: datetime,
        job_run_id: int | None,
        now: datetime,
    ) -> bool:
        """Add a message to send; False (and nothing changes) when `key` was enqueued before."""
        values = {
            "key": key,
            "job_run_id": job_run_id,
            "chat": chat,
            "user_id": user_id,
            "locale": locale,
            "payload": payload,
            "status": PENDING,
            "attempts": 0,
            "not_before": utc(not_before),
            "created_at": utc(now),
        }
        result = await self.conn.execute(ENQUEUE[self.dialect], values)
        return bool(result.rowcount)

    async def enqueue_many(self, messages: list[NewMessage], now: datetime) -> int:
        """Add many messages at once; returns how many were new (known keys are left as they are)."""
        created = utc(now)
        rows = [
            {
                "key": m.key,
                "job_run_id": m.job_run_id,
                "chat": m.chat,
                "user_id": m.user_id,
                "locale": m.locale,
                "payload": m.payload,
                "status": PENDING,
                "attempts": 0,
                "not_before": utc(m.not_before),
                "created_at": created,
            }
            for m in messages
        ]
        if not rows:
            return 0
        if self.dialect == "sqlite":  # one executemany; sqlite3 sums the rows each INSERT added
            return int((await self.conn.execute(ENQUEUE["sqlite"], rows)).rowcount)
        return sum([bool((await self.conn.execute(ENQUEUE[self.dialect], row)).rowcount) for row in rows])

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        owner: str,
        lease_until: datetime,
        exclude: list[int] | None = None,
        channel: str | None = None,
    ) -> list[OutboxItem]:
        """Claim pending messages whose time has come for `owner` until `lease_until`, oldest first:
        those nobody holds, those whose holder's lease ran out, and `owner`'s own (leaving out the
        `exclude` ids; only chats of `channel` when given). Rows another transaction is claiming at
        this moment are skipped (PostgreSQL), or wait for it (SQLite's one writer)."""
        moment = utc(now)
        chosen = select(outbox.c.id).where(
            outbox.c.status == PENDING,
            outbox.c.not_before <= moment,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until <= moment, outbox.c.claimed_by == owner),
        )
        if channel is not None:
            chosen = chosen.where(outbox.c.chat.startswith(f"{channel}:", autoescape=True))
        if exclude:
            chosen = chosen.where(outbox.c.id.not_in(exclude))
        chosen = chosen.order_by(outbox.c.not_before, outbox.c.id).limit(limit).with_for_update(skip_locked=True)
        claim = (
            update(outbox)
            .where(outbox.c.id.in_(chosen.scalar_subquery()))
            .values(claimed_by=owner, lease_until=utc(lease_until))
            .returning(*outbox.c)
        )
        rows = sorted((await self.conn.execute(claim)).all(), key=lambda r: (utc(r.not_before), r.id))
        return [to_item(r) for r in rows]

    async def renew_claims(self, ids: list[int], *, owner: str, lease_until: datetime) -> int:
        """Extend `owner`'s lease on these messages; returns how many it still holds."""
        held = 0
        for start in range(0, len(ids), LOOKUP_CHUNK):
            stmt = (
                update(outbox)
                .where(outbox.c.id.in_(ids[start : start + LOOKUP_CHUNK]), outbox.c.claimed_by == owner)
                .values(lease_until=utc(lease_until))
            )
            held += int((await self.conn.execute(stmt)).rowcount)
        return held

    async def release_claims(self, ids: list[int], *, owner: str) -> None:
        """Give back `owner`'s claims on these messages."""
        for start in range(0, len(ids), LOOKUP_CHUNK):
            stmt = (
                update(outbox)
                .where(outbox.c.id.in_(ids[start : start + LOOKUP_CHUNK]), outbox.c.claimed_by == owner)
                .values(claimed_by=None, lease_until=None)
            )
            await self.conn.execute(stmt)

    async def mark_sent(self, id: int, now: datetime, *, owner: str) -> bool:
        """Record that the channel confirmed the message `owner` claimed; False if another holds it now."""
        stmt = (
            update(outbox)
            .where(outbox.c.id == id, outbox.c.status == PENDING, outbox.c.claimed_by == owner)
            .values(status=SENT, sent_at=utc(now), attempts=outbox.c.attempts + 1, lease_until=None)
        )
        return bool((await self.conn.execute(stmt)).rowcount)

    async def mark_delivered(self, key: str, now: datetime) -> bool:
        """The channel delivered the message of `key` another way (as the direct answer to an update)
        before any sender took it: it is not sent again; False if a sender holds or sent it."""
        stmt = (
            update(outbox)
            .where(outbox.c.key == key, outbox.c.status == PENDING, outbox.c.claimed_by.is_(None))
            .values(status=SENT, sent_at=utc(now), attempts=outbox.c.attempts + 1)
        )
        return bool((await self.conn.execute(stmt)).rowcount)

    async def pending_keys(self, keys: list[str]) -> list[str]:
        """Which of these keys name a message still waiting to be sent."""
        stmt = select(outbox.c.key).where(outbox.c.key.in_(keys), outbox.c.status == PENDING)
        return [row.key for row in await self.conn.execute(stmt)] if keys else []

    async def mark_failed(self, id: int, error: str, retry_at: datetime | None, now: datetime, *, owner: str) -> None:
        """Count a failed attempt of `owner`'s claim: try again at `retry_at` (any process may), or
        give up (status failed) when None."""
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:300]}
        if retry_at is None:
            values.update(status=FAILED, lease_until=None)
        else:
            values.update(not_before=utc(retry_at), claimed_by=None, lease_until=None)
        await self.conn.execute(
            update(outbox)
            .where(outbox.c.id == id, outbox.c.status == PENDING, outbox.c.claimed_by == owner)
            .values(values)
        )

    async def mark_blocked(self, id: int, user_id: int | None, now: datetime, *, owner: str) -> None:
        """The recipient blocked the bot: drop `owner`'s message and remember the person as blocked."""
        await self.conn.execute(
            update(outbox)
            .where(outbox.c.id == id, outbox.c.status == PENDING, outbox.c.claimed_by == owner)
            .values(status=BLOCKED, attempts=outbox.c.attempts + 1, last_error="blocked by the user", lease_until=None)
        )
        if user_id is not None:
            await self.conn.execute(
                update(users).where(users.c.id == user_id, users.c.blocked_at.is_(None)).values(blocked_at=utc(now))
            )

    async def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        """How many messages are due and not sent yet, and since when the oldest is due."""
        stmt = select(func.count(), func.min(outbox.c.not_before)).where(
            outbox.c.status == PENDING, outbox.c.not_before <= utc(now)
        )
        count, oldest = (await self.conn.execute(stmt)).one()
        return int(count), utc(oldest) if oldest is not None else None

    async def delivery_report(self, job_run_id: int) -> dict[str, int]:
        """How many messages of a job run are pending, sent, failed or blocked."""
        report = dict.fromkeys((PENDING, SENT, FAILED, BLOCKED), 0)
        stmt = select(outbox.c.status, func.count()).where(outbox.c.job_run_id == job_run_id).group_by(outbox.c.status)
        for status, count in await self.conn.execute(stmt):
            report[status] = int(count)
        return report

    async def prune_outbox(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` finished messages last due before `before` whose run was reported; returns how many."""
        chosen = (
            select(outbox.c.id)
            .where(
                outbox.c.status.in_(FINISHED),  # ix_outbox_due (status, not_before, id): a range per status
                outbox.c.not_before < utc(before),
                or_(outbox.c.job_run_id.is_(None), outbox.c.job_run_id.in_(reported_runs(self.dialect))),
            )
            .limit(limit)
        )
        return int((await self.conn.execute(delete(outbox).where(outbox.c.id.in_(chosen)))).rowcount)

    async def prune_blobs(self, *, before: datetime) -> int:
        """Delete shared files stored before `before` that no message still to be sent uses; returns how many.

        A pending message names its file by digest in its payload; a sent one never reads it again.
        Files are few (one chart per broadcast), found through `ix_outbox_due` like pending messages."""
        waiting = outbox.alias("waiting")
        digest = func.substr(outbox.c.key, len(BLOB) + 2)  # the key is "blob:<sha256>"
        used = select(waiting.c.id).where(waiting.c.status == PENDING, waiting.c.payload.contains(digest))
        stale = delete(outbox).where(outbox.c.status == BLOB, outbox.c.not_before < utc(before), ~used.exists())
        return int((await self.conn.execute(stale)).rowcount)

    async def store_blob(self, digest: str, content: bytes, now: datetime) -> None:
        """Keep a file that many messages share, once per digest, as an outbox row never due."""
        values = {
            "key": f"{BLOB}:{digest}",
            "chat": BLOB,
            "locale": "",
            "payload": base64.b64encode(content).decode("ascii"),
            "status": BLOB,
            "attempts": 0,
            "not_before": utc(now),
            "created_at": utc(now),
        }
        await self.conn.execute(ENQUEUE[self.dialect], values)

    async def load_blob(self, digest: str) -> bytes | None:
        """Return a shared file by its SHA-256 digest."""
        stmt = select(outbox.c.payload).where(outbox.c.key == f"{BLOB}:{digest}", outbox.c.status == BLOB)
        text = (await self.conn.execute(stmt)).scalar()
        return base64.b64decode(text) if text is not None else None
