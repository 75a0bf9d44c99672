"""Queries that join two accounts of one person into one (linking Telegram and Zalo)."""

from __future__ import annotations

from sqlalchemy import and_, delete, func, select, update

from bot.domain import Initiative, Status
from bot.ports import Merged
from storage.rows import Queries, actions, initiatives, metadata, reviewers, to_initiative, votes

links = metadata.tables["account_link"]
outbox = metadata.tables["outbox"]
codes = metadata.tables["link_code"]
attempts = metadata.tables["link_attempt"]


class MergeQueries(Queries):
    """Move everything of one account to another of the same person, in the caller's transaction."""

    async def open_drafts(self, user_ids: list[int]) -> list[Initiative]:
        """The unsent drafts of these people (one each at most)."""
        stmt = select(initiatives).where(
            initiatives.c.author_id.in_(user_ids), initiatives.c.status == Status.DRAFT.value
        )
        return [to_initiative(row) for row in await self.conn.execute(stmt)]

    async def both_voted(self, keep: int, drop: int) -> bool:
        """True when both accounts voted in the same round of one initiative (one person, two votes)."""
        mine, theirs = votes.alias("mine"), votes.alias("theirs")
        joined = mine.join(theirs, and_(mine.c.initiative_id == theirs.c.initiative_id, mine.c.round == theirs.c.round))
        stmt = select(func.count()).select_from(joined).where(mine.c.user_id == keep, theirs.c.user_id == drop)
        return bool((await self.conn.execute(stmt)).scalar_one())

    async def merge_person(self, keep: int, drop: int) -> Merged:
        """Give `keep` the initiatives (a draft only if `keep` has none), decisions, votes, audit
        entries, reviewer rights (one per unit), linked apps and waiting messages of `drop`."""
        filed = select(func.count()).where(initiatives.c.author_id == drop, initiatives.c.status != Status.DRAFT.value)
        moved = (await self.conn.execute(filed)).scalar_one()
        await self.conn.execute(update(initiatives).where(initiatives.c.author_id == drop).values(author_id=keep))
        await self.conn.execute(update(initiatives).where(initiatives.c.decided_by == drop).values(decided_by=keep))
        await self.conn.execute(update(votes).where(votes.c.user_id == drop).values(user_id=keep))
        await self.conn.execute(update(actions).where(actions.c.actor_id == drop).values(actor_id=keep))
        await self.conn.execute(update(reviewers).where(reviewers.c.granted_by == drop).values(granted_by=keep))
        held = select(reviewers.c.unit_id).where(reviewers.c.user_id == keep, reviewers.c.revoked_at.is_(None))
        rights = await self.conn.execute(
            update(reviewers)
            .where(reviewers.c.user_id == drop, reviewers.c.revoked_at.is_(None), reviewers.c.unit_id.not_in(held))
            .values(user_id=keep)
        )
        await self.conn.execute(update(links).where(links.c.user_id == drop).values(user_id=keep))
        await self.conn.execute(update(outbox).where(outbox.c.user_id == drop).values(user_id=keep))
        await self.conn.execute(delete(codes).where(codes.c.user_id == drop))
        await self.conn.execute(delete(attempts).where(attempts.c.user_id == drop))
        return Merged(int(moved), rights.rowcount or 0)
