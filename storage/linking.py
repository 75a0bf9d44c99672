"""Queries of account linking: identities of other apps, one-time codes, wrong tries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain import User, UserRef
from storage.outbox import utc
from storage.people import PeopleQueries
from storage.rows import metadata, users

links = metadata.tables["account_link"]
codes = metadata.tables["link_code"]
attempts = metadata.tables["link_attempt"]
INSERT_CODE = {
    "sqlite": sqlite_insert(codes).on_conflict_do_nothing(index_elements=["code"]),
    "postgresql": postgresql_insert(codes).on_conflict_do_nothing(index_elements=["code"]),
}


class LinkQueries(PeopleQueries):
    """Account links, link codes and the lock after wrong codes."""

    async def linked_user(self, ref: UserRef, *, for_update: bool = False) -> User | None:
        """The person whose account `ref` was linked to, if it was (their row locked until commit if
        asked: the person's row, the one every app's updates of that person lock, not the link's)."""
        stmt = (
            select(users)
            .join(links, links.c.user_id == users.c.id)
            .where(links.c.channel == ref.channel, links.c.external_id == ref.external_id)
        )
        if for_update:
            stmt = stmt.with_for_update(of=users)
        return self._read_user((await self.conn.execute(stmt)).first())

    async def link_identity(self, ref: UserRef, user_id: int, *, now: datetime) -> None:
        """Let `ref` act as the person `user_id` from now on."""
        await self.conn.execute(
            insert(links).values(channel=ref.channel, external_id=ref.external_id, user_id=user_id, created_at=now)
        )

    async def linked_channels(self, user_id: int) -> list[str]:
        """The other apps a person's account is linked to."""
        rows = await self.conn.execute(select(links.c.channel).where(links.c.user_id == user_id))
        return sorted({row[0] for row in rows})

    async def put_link_code(self, user_id: int, code: str, *, expires_at: datetime, now: datetime) -> bool:
        """Make `code` the person's one code (an older one is dropped, as are expired ones); False when
        another person's live code is the same (pick another)."""
        await self.conn.execute(delete(codes).where(or_(codes.c.user_id == user_id, codes.c.expires_at <= utc(now))))
        values = {"code": code, "user_id": user_id, "expires_at": expires_at}
        result = await self.conn.execute(INSERT_CODE[self.dialect], values)
        return bool(result.rowcount)

    async def link_code_owner(self, code: str, *, now: datetime) -> int | None:
        """Whose live code `code` is."""
        stmt = select(codes.c.user_id).where(codes.c.code == code, codes.c.expires_at > utc(now))
        return (await self.conn.execute(stmt)).scalar_one_or_none()

    async def drop_link_code(self, code: str) -> None:
        """A code is used once."""
        await self.conn.execute(delete(codes).where(codes.c.code == code))

    async def link_locked_until(self, user_id: int) -> datetime | None:
        """Until when the person may not type link codes (after too many wrong ones)."""
        stmt = select(attempts.c.locked_until).where(attempts.c.user_id == user_id)
        found = (await self.conn.execute(stmt)).scalar_one_or_none()
        return utc(found) if found is not None else None

    async def link_failed(self, user_id: int, *, now: datetime, limit: int, lock: timedelta) -> int:
        """Count a wrong code; at `limit` in a row, lock linking for `lock`. Returns the tries left."""
        row = (await self.conn.execute(select(attempts.c.failures).where(attempts.c.user_id == user_id))).first()
        failures = (row[0] if row is not None else 0) + 1
        locked = now + lock if failures >= limit else None
        values = {"failures": 0 if locked else failures, "locked_until": locked}
        if row is None:
            await self.conn.execute(insert(attempts).values(user_id=user_id, **values))
        else:
            await self.conn.execute(update(attempts).where(attempts.c.user_id == user_id).values(**values))
        return 0 if locked else limit - failures

    async def link_succeeded(self, user_id: int) -> None:
        """Forget the wrong tries of a person who typed a right code."""
        await self.conn.execute(delete(attempts).where(attempts.c.user_id == user_id))
