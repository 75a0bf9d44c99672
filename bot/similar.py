"""Duplicate hints for cards and authors: one in-memory index per campaign, topped up as it is used.

Inside an update's transaction the index is only read: rows found since its last load are scored
beside it and added once the transaction commits (a rolled-back submit leaves no phantom hint)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bot.domain import Initiative
from bot.duplicates import Candidate, DuplicateIndex, Hint, similarity_key
from bot.ports import Tx

PAGE = 10_000


class DuplicateFinder:
    """Finds earlier initiatives of the same campaign that look like a given one."""

    def __init__(self) -> None:
        self.indexes: dict[str, DuplicateIndex] = {}

    async def load(self, tx: Tx, campaign_key: str) -> DuplicateIndex:
        """The campaign's index, with every initiative submitted since the last look added (call
        with a transaction of its own, or one that only reads)."""
        index = self.indexes.setdefault(campaign_key, DuplicateIndex())
        index.extend(await self._fresh(tx, campaign_key, index.last_id))
        return index

    async def _fresh(self, tx: Tx, campaign_key: str, after_id: int) -> list[Candidate]:
        """Initiatives of the campaign submitted with an id above `after_id`."""
        found: list[Candidate] = []
        while rows := await tx.duplicate_candidates(campaign_key, after_id=after_id, limit=PAGE):
            found.extend(Candidate(i, code, status, similarity_key(t, s)) for i, code, status, t, s in rows)
            after_id = rows[-1][0]
        return found

    def add(self, item: Initiative) -> None:
        """Add a just-submitted initiative (its id may be lower than the index's last one); call it
        once the submit committed."""
        index = self.indexes.get(item.campaign_key)
        if index is not None and item.code:
            index.add(Candidate(item.id, item.code, item.status.value, similarity_key(item.title or "", item.solution)))

    async def hints(self, tx: Tx, item: Initiative, after_commit: list[Callable[[], None]]) -> list[Hint]:
        """Up to three look-alikes, with their current status read from the database; rows new to
        the index join it through `after_commit` (run once the transaction committed)."""
        if not item.title:
            return []
        index = self.indexes.setdefault(item.campaign_key, DuplicateIndex())
        key = similarity_key(item.title, item.solution)
        found = index.hints(key, exclude_id=item.id)
        fresh = await self._fresh(tx, item.campaign_key, index.last_id)
        if fresh:
            beside = DuplicateIndex()
            beside.extend(fresh)
            found = sorted([*found, *beside.hints(key, exclude_id=item.id)], key=lambda h: (-h.score, h.initiative_id))
            after_commit.append(partial(index.extend, fresh))
        current = []
        for hint in found[:3]:
            latest = await tx.initiative(hint.initiative_id)
            status = latest.status.value if latest is not None else hint.status
            current.append(Hint(hint.initiative_id, hint.code, status, hint.score))
        return current
