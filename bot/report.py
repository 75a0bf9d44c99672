"""The admin progress report: each campaign's progress against targets, per unit, with the two rates."""

from __future__ import annotations

from bot.config import Campaign
from bot.i18n import Lines, Msg
from bot.jobs import JobContext, Outgoing
from bot.messages import Notice, Reply
from bot.ports import Tx
from bot.progress import Totals, rollup

MAX_LINES = 40


def _percent(value: float | None) -> str:
    """A share as a whole percent, or a dash."""
    return "—" if value is None else f"{round(value * 100)}%"


def _line(total: Totals) -> Msg:
    """One unit's line of the report."""
    target = (
        Msg("report.of_target", {"target": total.target, "share": _percent(total.target_share)}) if total.target else ""
    )
    args = {
        "name": total.name,
        "submitted": total.submitted,
        "recognised": total.recognised,
        "applied": total.applied,
        "target": target,
        "participation": _percent(total.participation),
        "application": _percent(total.application),
        "sectors": Lines(tuple(_sector(total, s, goal) for s, goal in sorted(total.sector_targets.items())))
        if total.sector_targets
        else "",
    }
    return Msg("report.line", args)


def _sector(total: Totals, sector: str, goal: int) -> Msg:
    """A unit's progress against its target for one sector (e.g. 100,000 from enterprises)."""
    done = total.by_sector.get(sector, 0)
    args = {"sector": Msg(f"sector.{sector}"), "submitted": done, "target": goal, "share": _percent(done / goal)}
    return Msg("report.sector", args)


async def campaign_progress(tx: Tx, campaign: Campaign) -> Reply:
    """The progress of one campaign: the whole, then units with a target and the upper levels."""
    totals = rollup(await tx.all_units(), await tx.progress_counts(campaign.key), await tx.targets(campaign.key))
    roots = [t for t in totals.values() if t.parent_id is None]
    overall = sum(t.submitted for t in roots)
    shown = [t for t in totals.values() if t.target is not None or t.sector_targets or t.children]
    shown.sort(key=lambda t: (-(t.target_share or 0), -t.submitted))
    lines = tuple(_line(t) for t in shown[:MAX_LINES])
    args = {
        "campaign": campaign.name,
        "start": campaign.start,
        "end": campaign.end,
        "submitted": overall,
        "target": campaign.target or "—",
        "share": _percent(overall / campaign.target if campaign.target else None),
        "lines": Lines(lines, empty="report.no_units"),
        "more": max(len(shown) - MAX_LINES, 0),
    }
    return Reply("report.text", args)


async def admin_report(ctx: JobContext) -> list[Outgoing]:
    """The weekly report to every admin, one message per campaign running or ended this past month."""
    today = ctx.local_now.date()
    campaigns = [c for c in ctx.book.items if c.start <= today and (today - c.end).days <= 31]
    replies = tuple([await campaign_progress(ctx.tx, c) for c in campaigns])
    if not replies:
        return []
    chats = ctx.config.bot.admins  # `channel:id`, the key of the admin's private chat
    stamp = today.isoformat()
    return [Outgoing(stamp, [Notice(chat, ctx.config.bot.locale, replies) for chat in chats])]
