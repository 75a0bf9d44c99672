"""Queries about campaigns: the campaigns themselves (seeded from bot.toml) and units' targets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from bot.config import Campaign, Category
from storage.rows import Queries, metadata, units

campaigns = metadata.tables["campaign"]
targets = metadata.tables["campaign_target"]


def _campaign(row: Any) -> Campaign:
    """Map a campaign row to the configuration model."""
    categories = [Category.model_validate(c) for c in json.loads(row.categories)]
    return Campaign(key=row.key, name=row.name, start=row.start, end=row.end, target=row.target, categories=categories)


class CampaignQueries(Queries):
    """Campaigns and targets."""

    async def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest start first."""
        rows = await self.conn.execute(select(campaigns).order_by(campaigns.c.start, campaigns.c.key))
        return [_campaign(r) for r in rows]

    async def add_campaign(self, campaign: Campaign, *, now: datetime) -> bool:
        """Create a campaign (and its unit targets) unless one with its key exists; True if created."""
        if (await self.conn.execute(select(campaigns.c.key).where(campaigns.c.key == campaign.key))).first():
            return False
        categories = json.dumps([c.model_dump(exclude_none=True) for c in campaign.categories], ensure_ascii=False)
        await self.conn.execute(
            insert(campaigns).values(
                key=campaign.key,
                name=campaign.name,
                start=campaign.start,
                end=campaign.end,
                target=campaign.target,
                categories=categories,
                created_at=now,
                updated_at=now,
            )
        )
        for goal in campaign.targets:
            unit = (await self.conn.execute(select(units.c.id).where(units.c.code == goal.unit))).scalar()
            if unit is not None:
                await self.set_target(campaign.key, unit, goal.sector, goal.target)
        return True

    async def update_campaign(self, key: str, values: dict[str, Any], *, now: datetime) -> bool:
        """Change a campaign's name, dates or target; False if there is no such campaign."""
        stmt = update(campaigns).where(campaigns.c.key == key).values(**values, updated_at=now)
        return bool((await self.conn.execute(stmt)).rowcount)

    async def set_target(self, campaign_key: str, unit_id: int, sector: str | None, target: int) -> None:
        """Set (replace) a unit's target in a campaign, optionally for one sector."""
        same_sector = targets.c.sector.is_(None) if sector is None else targets.c.sector == sector
        where = (targets.c.campaign_key == campaign_key, targets.c.unit_id == unit_id, same_sector)
        await self.conn.execute(delete(targets).where(*where))
        await self.conn.execute(
            insert(targets).values(campaign_key=campaign_key, unit_id=unit_id, sector=sector, target=target)
        )

    async def targets(self, campaign_key: str) -> list[tuple[int, str | None, int]]:
        """(unit id, sector or None, target) of a campaign."""
        stmt = select(targets.c.unit_id, targets.c.sector, targets.c.target).where(
            targets.c.campaign_key == campaign_key
        )
        return [(r.unit_id, r.sector, r.target) for r in await self.conn.execute(stmt)]
