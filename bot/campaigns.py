"""The campaigns in force, read from the database and kept for a minute between reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot.config import Campaign
from bot.ports import Tx

REFRESH = timedelta(seconds=60)


class CampaignBook:
    """The list of campaigns and the rules of which one a submission belongs to."""

    def __init__(self, campaigns: Sequence[Campaign] = ()) -> None:
        self.items = list(campaigns)

    def campaign_for(self, day: date) -> Campaign | None:
        """The campaign a submission made on `day` belongs to: the first active one, else the latest."""
        active = [c for c in self.items if c.active_on(day)]
        if active:
            return active[0]
        return max(self.items, key=lambda c: c.end, default=None)

    def campaign(self, key: str) -> Campaign | None:
        """The campaign with `key`."""
        return next((c for c in self.items if c.key == key), None)

    def category_keys(self) -> set[str]:
        """Every category key of every campaign."""
        return {category.key for campaign in self.items for category in campaign.categories}


class CampaignCache:
    """Reloads the book from the database at most once a minute (or at once after a change)."""

    def __init__(self) -> None:
        self.book = CampaignBook()
        self.loaded_at: datetime | None = None

    async def get(self, tx: Tx, now: datetime) -> CampaignBook:
        """The current book, reloaded if stale."""
        if self.loaded_at is None or now - self.loaded_at > REFRESH:
            self.book = CampaignBook(await tx.campaigns())
            self.loaded_at = now
        return self.book

    def invalidate(self) -> None:
        """Reload on the next use (after an admin changed a campaign)."""
        self.loaded_at = None
