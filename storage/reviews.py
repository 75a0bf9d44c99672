"""Queries of the review workflow: the queue, council votes and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.domain import AuditEntry, Initiative, Tally, Vote
from bot.workflow import OPEN
from storage.rows import Queries, actions, initiatives, to_initiative, units, users, votes

OPEN_VALUES = [status.value for status in OPEN]


class ReviewQueries(Queries):
    """The review queue, votes and the audit log."""

    async def queue(
        self,
        unit_ids: list[int],
        *,
        offset: int,
        limit: int,
        category: str | None = None,
        unit_id: int | None = None,
        exclude_author: int | None = None,
    ) -> tuple[list[Initiative], int]:
        """Initiatives waiting at these units, oldest first, and their number (not the reader's own)."""
        scope = [unit_id] if unit_id is not None and unit_id in unit_ids else unit_ids
        where: list[Any] = [
            initiatives.c.review_unit_id.in_(scope),
            initiatives.c.status.in_(OPEN_VALUES),
        ]
        if category:
            where.append(initiatives.c.category == category)
        if exclude_author is not None:
            where.append(initiatives.c.author_id != exclude_author)
        total = (await self.conn.execute(select(func.count()).select_from(initiatives).where(*where))).scalar_one()
        stmt = select(initiatives).where(*where).order_by(initiatives.c.queued_at, initiatives.c.id)
        rows = await self.conn.execute(stmt.offset(offset).limit(limit))
        return [to_initiative(r) for r in rows], int(total)

    async def add_vote(
        self,
        initiative_id: int,
        round_: int,
        user_id: int,
        vote: str,
        comment: str | None,
        *,
        scores: str | None = None,
        now: datetime,
    ) -> bool:
        """Record a council member's vote (with the scores of an approving one); False if they
        already voted in this round."""
        try:
            async with self.savepoint():
                await self.conn.execute(
                    insert(votes).values(
                        initiative_id=initiative_id,
                        round=round_,
                        user_id=user_id,
                        vote=vote,
                        comment=comment,
                        scores=scores,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def votes_of(self, initiative_id: int, round_: int) -> list[Vote]:
        """The votes cast in one round, in order."""
        stmt = (
            select(votes.c.user_id, users.c.full_name, votes.c.vote, votes.c.comment, votes.c.scores)
            .join(users, users.c.id == votes.c.user_id)
            .where(votes.c.initiative_id == initiative_id, votes.c.round == round_)
            .order_by(votes.c.id)
        )
        return [Vote(r.user_id, r.full_name or "—", r.vote, r.comment, r.scores) for r in await self.conn.execute(stmt)]

    async def record_action(
        self,
        item: Initiative,
        *,
        actor_id: int | None,
        action: str,
        from_status: str,
        comment: str | None,
        scores: str | None,
        tally: Tally | None = None,
        now: datetime,
    ) -> None:
        """Append a line to the audit log (a council's decision with its `tally`)."""
        await self.conn.execute(
            insert(actions).values(
                initiative_id=item.id,
                actor_id=actor_id,
                action=action,
                from_status=from_status,
                to_status=item.status.value,
                level=item.review_level,
                unit_id=item.review_unit_id,
                comment=comment,
                scores=scores,
                council_unit_id=tally.unit_id if tally else None,
                votes_for=tally.votes_for if tally else None,
                votes_cast=tally.votes_cast if tally else None,
                votes_scored=tally.scored if tally else None,
                created_at=now,
            )
        )

    async def audit(self, initiative_id: int) -> list[AuditEntry]:
        """The audit log of an initiative, oldest first."""
        council, at = units.alias("council"), units.alias("at_unit")
        stmt = (
            select(actions, users.c.full_name, council.c.name.label("council_name"), at.c.name.label("unit_name"))
            .outerjoin(users, users.c.id == actions.c.actor_id)
            .outerjoin(council, council.c.id == actions.c.council_unit_id)
            .outerjoin(at, at.c.id == actions.c.unit_id)
            .where(actions.c.initiative_id == initiative_id)
            .order_by(actions.c.id)
        )
        return [
            AuditEntry(
                r.action,
                r.from_status,
                r.to_status,
                r.full_name,
                r.level,
                r.comment,
                r.scores,
                r.created_at,
                by_council=r.actor_id is None,  # only a council's decision has no one person's name on it
                actor_id=r.actor_id,
                unit_id=r.unit_id,
                unit_name=r.unit_name,
                tally=_tally(r),
            )
            for r in await self.conn.execute(stmt)
        ]


def _tally(row: Any) -> Tally | None:
    """The count stored with a council's decision (None for anything else, and for decisions
    recorded before counts were kept)."""
    if row.council_unit_id is None or row.votes_for is None or row.votes_cast is None:
        return None
    return Tally(row.council_unit_id, row.council_name or "—", row.votes_for, row.votes_cast, row.votes_scored or 0)
