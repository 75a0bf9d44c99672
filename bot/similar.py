"""Duplicate hints for cards and authors: one in-memory index per campaign, loaded in the background.

Nothing here holds the event loop: the index loads after start, page by page, each page read in
its own short transaction and turned into similarity keys in a worker thread; scoring a new
initiative against the index (rapidfuzz, tens of milliseconds at 10⁶ initiatives) runs in a
worker thread too. Hints come from what is loaded: while a campaign's index is still loading
(seconds per 10⁶ after start) a submission is not kept waiting, its hints are found among the
initiatives loaded so far. Once loaded, each look reads what was submitted since (by another
process too: a few rows, in the update's own transaction) and scores it beside the index; those rows
join the index once the transaction commits (a rolled-back submit leaves no phantom hint).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from bot.domain import Initiative
from bot.duplicates import Candidate, DuplicateIndex, Hint, similarity_key
from bot.ports import Store, Tx

log = logging.getLogger(__name__)
PAGE = 2_000  # rows per read while loading: turning a page into rows takes a few ms on the loop
Row = tuple[int, str, str, str, str | None]


def candidates(rows: list[Row]) -> list[Candidate]:
    """Index entries of candidate rows (folding the text: run in a worker thread for big pages)."""
    return [Candidate(i, code, status, similarity_key(title, solution)) for i, code, status, title, solution in rows]


class DuplicateFinder:
    """Finds earlier initiatives of the same campaign that look like a given one."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self.indexes: dict[str, DuplicateIndex] = {}
        self.cursors: dict[str, int] = {}  # the last id read from the database per campaign
        self.loading: dict[str, asyncio.Task[None]] = {}

    def start(self, campaign_keys: list[str]) -> None:
        """Begin loading the indexes of these campaigns in the background (returns at once)."""
        for key in campaign_keys:
            if key not in self.loading and self.store is not None:
                self.loading[key] = asyncio.create_task(self._load(key), name=f"duplicate-index-{key}")

    async def loaded(self) -> None:
        """Wait until every index started has loaded (tests and benchmarks)."""
        await asyncio.gather(*self.loading.values())

    async def close(self) -> None:
        """Stop loading (before the database closes)."""
        for task in self.loading.values():
            task.cancel()
        await asyncio.gather(*self.loading.values(), return_exceptions=True)

    def ready(self, campaign_key: str) -> bool:
        """True once the campaign's index has been read to the end."""
        task = self.loading.get(campaign_key)
        return task is not None and task.done()

    async def _load(self, campaign_key: str) -> None:
        """Read the campaign's initiatives page by page (short transactions), keys made off the loop."""
        assert self.store is not None
        index = self.indexes.setdefault(campaign_key, DuplicateIndex())
        try:
            while True:
                async with self.store.read() as tx:
                    rows = await tx.duplicate_candidates(
                        campaign_key, after_id=self.cursors.get(campaign_key, 0), limit=PAGE
                    )
                if not rows:
                    return
                index.extend(await asyncio.to_thread(candidates, rows))
                self.cursors[campaign_key] = rows[-1][0]
        except Exception:
            log.exception("loading the duplicate index of %s failed; hints come from what was loaded", campaign_key)

    async def _since(self, tx: Tx, campaign_key: str) -> tuple[list[Candidate], int]:
        """Initiatives of a loaded campaign submitted since its index was last read, and the last id read."""
        found: list[Candidate] = []
        after = self.cursors.get(campaign_key, 0)
        while rows := await tx.duplicate_candidates(campaign_key, after_id=after, limit=PAGE):
            found += candidates(rows) if len(rows) < 50 else await asyncio.to_thread(candidates, rows)
            after = rows[-1][0]
        return found, after

    def _join(self, campaign_key: str, fresh: list[Candidate], last_id: int) -> None:
        """Add rows read since the last look (once the transaction that read them committed)."""
        self.indexes[campaign_key].extend(fresh)
        self.cursors[campaign_key] = max(self.cursors.get(campaign_key, 0), last_id)

    def add(self, item: Initiative) -> None:
        """Add a just-submitted initiative (its id may be lower than the index's last one); call it
        once the submit committed."""
        index = self.indexes.get(item.campaign_key)
        if index is not None and item.code:
            index.add(Candidate(item.id, item.code, item.status.value, similarity_key(item.title or "", item.solution)))

    async def hints(self, tx: Tx, item: Initiative, after_commit: list[Callable[[], None]]) -> list[Hint]:
        """Up to three look-alikes (scored in a worker thread), with their current status read from the
        database; rows new to a loaded index join it through `after_commit` (run once the transaction
        committed)."""
        if not item.title:
            return []
        campaign = item.campaign_key
        index = self.indexes.setdefault(campaign, DuplicateIndex())
        key = similarity_key(item.title, item.solution)
        found = await asyncio.to_thread(index.hints, key, exclude_id=item.id) if len(index) else []
        if not self.ready(campaign):
            self.start([campaign])  # hints come from what is loaded meanwhile
        else:
            fresh, last_id = await self._since(tx, campaign)
            if fresh:
                beside = DuplicateIndex()
                beside.extend(fresh)
                found = sorted(
                    [*found, *beside.hints(key, exclude_id=item.id)], key=lambda h: (-h.score, h.initiative_id)
                )
                after_commit.append(partial(self._join, campaign, fresh, last_id))
        current = []
        for hint in found[:3]:
            latest = await tx.initiative(hint.initiative_id)
            status = latest.status.value if latest is not None else hint.status
            current.append(Hint(hint.initiative_id, hint.code, status, hint.score))
        return current
