"""Changing campaigns, the same words in chat (`/campaign …`) and on the CLI (`sangkien campaigns …`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from bot.config import Campaign
from bot.errors import InvalidInput
from bot.messages import Reply
from bot.parsing import parse_day
from bot.ports import Tx
from bot.report import campaign_progress

FIELDS = ("name", "start", "end", "target")


async def overview(tx: Tx) -> list[Reply]:
    """Every campaign with its progress."""
    campaigns = await tx.campaigns()
    if not campaigns:
        return [Reply("campaigns.none")]
    return [await campaign_progress(tx, c) for c in campaigns] + [Reply("campaigns.usage")]


def _count(word: str) -> int:
    """A non-negative whole number."""
    if not word.replace(".", "").isdigit():
        raise InvalidInput("error.campaign_number", word=word[:20])
    return int(word.replace(".", ""))


async def change(tx: Tx, words: list[str], *, now: datetime) -> Reply:
    """Apply `new KEY START END NAME…`, `KEY FIELD VALUE…` or `KEY target N UNIT [SECTOR]`."""
    if len(words) >= 5 and words[0] == "new":
        try:
            campaign = Campaign(
                key=words[1], start=parse_day(words[2]), end=parse_day(words[3]), name=" ".join(words[4:])
            )
        except ValidationError as exc:
            raise InvalidInput("error.campaign_usage") from exc
        if campaign.end < campaign.start or not await tx.add_campaign(campaign, now=now):
            raise InvalidInput("error.campaign_exists" if campaign.end >= campaign.start else "error.campaign_dates")
        return Reply("campaigns.created", {"name": campaign.name})
    if len(words) < 3 or words[1] not in FIELDS:
        raise InvalidInput("error.campaign_usage")
    key, field, rest = words[0], words[1], words[2:]
    current = next((c for c in await tx.campaigns() if c.key == key), None)
    if current is None:
        raise InvalidInput("error.campaign_unknown", campaign=key[:32])
    if field == "target" and len(rest) >= 2:
        unit = await tx.unit_by_code(rest[1])
        if unit is None:
            raise InvalidInput("error.unknown_unit_code", code=rest[1][:32])
        sector = rest[2] if len(rest) > 2 else None
        if sector not in (None, "enterprise", "public"):
            raise InvalidInput("error.campaign_usage")
        await tx.set_target(key, unit.id, sector, _count(rest[0]))
        return Reply("campaigns.target_set", {"name": current.name, "unit": unit.name, "target": _count(rest[0])})
    values: dict[str, object] = {}
    start, end = current.start, current.end
    if field == "name":
        values["name"] = " ".join(rest)
    elif field == "target":
        values["target"] = _count(rest[0])
    elif field == "start":
        values["start"] = start = parse_day(rest[0])
    else:
        values["end"] = end = parse_day(rest[0])
    if end < start:
        raise InvalidInput("error.campaign_dates")
    await tx.update_campaign(key, values, now=now)
    return Reply("campaigns.changed", {"name": values.get("name", current.name)})
