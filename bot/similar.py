"""Duplicate hints for cards and authors: one in-memory index per campaign, topped up as it is used."""

from __future__ import annotations

from bot.domain import Initiative
from bot.duplicates import Candidate, DuplicateIndex, Hint, similarity_key
from bot.ports import Tx

PAGE = 10_000


class DuplicateFinder:
    """Finds earlier initiatives of the same campaign that look like a given one."""

    def __init__(self) -> None:
        self.indexes: dict[str, DuplicateIndex] = {}

    async def load(self, tx: Tx, campaign_key: str) -> DuplicateIndex:
        """The campaign's index, with every initiative submitted since the last look added."""
        index = self.indexes.setdefault(campaign_key, DuplicateIndex())
        while rows := await tx.duplicate_candidates(campaign_key, after_id=index.last_id, limit=PAGE):
            index.extend(
                Candidate(i, code, status, similarity_key(title, solution)) for i, code, status, title, solution in rows
            )
        return index

    def add(self, item: Initiative) -> None:
        """Add a just-submitted initiative at once (its id may be lower than the index's last one)."""
        index = self.indexes.get(item.campaign_key)
        if index is not None and item.code:
            index.add(Candidate(item.id, item.code, item.status.value, similarity_key(item.title or "", item.solution)))

    async def hints(self, tx: Tx, item: Initiative) -> list[Hint]:
        """Up to three look-alikes, with their current status read from the database."""
        if not item.title:
            return []
        index = await self.load(tx, item.campaign_key)
        found = index.hints(similarity_key(item.title, item.solution), exclude_id=item.id)
        current = []
        for hint in found:
            latest = await tx.initiative(hint.initiative_id)
            status = latest.status.value if latest is not None else hint.status
            current.append(Hint(hint.initiative_id, hint.code, status, hint.score))
        return current
