"""The admin progress report: each campaign's progress against targets, per unit, with the two rates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bot.config import Campaign
from bot.i18n import Lines, Msg
from bot.jobs import JobContext, Outgoing
from bot.messages import Notice, Reply
from bot.ports import Tx
from bot.progress import Totals, rollup
from bot.textnorm import sort_key

MAX_LINES = 40


def _percent(value: float | None) -> str:
    """A share as a whole percent, or a dash."""
    return "—" if value is None else f"{round(value * 100)}%"


def _line(total: Totals, depth: int) -> Msg:
    """One unit's line of the report, indented by its depth in the hierarchy."""
    target = (
        Msg("report.of_target", {"target": total.target, "share": _percent(total.target_share)}) if total.target else ""
    )
    args = {
        "indent": "  " * depth,
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


def _tree(totals: dict[int, Totals]) -> list[tuple[Totals, int]]:
    """Units with something to report (submissions, a target, units below), each after the unit above
    it and siblings in Vietnamese alphabetical order, with their depth."""
    shown = {u for u, t in totals.items() if t.submitted or t.target is not None or t.sector_targets or t.children}
    by_name = sorted(totals.values(), key=lambda t: sort_key(t.name))
    stack = [(t, 0) for t in reversed(by_name) if t.parent_id not in totals]
    ordered: list[tuple[Totals, int]] = []
    seen: set[int] = set()
    while stack:
        total, depth = stack.pop()
        if total.unit_id in seen:
            continue
        seen.add(total.unit_id)
        if total.unit_id in shown:
            ordered.append((total, depth))
        children = sorted((totals[c] for c in total.children), key=lambda t: sort_key(t.name), reverse=True)
        stack.extend((child, depth + 1) for child in children)
    return ordered


async def campaign_progress(tx: Tx, campaign: Campaign) -> Reply:
    """The progress of one campaign: read in `tx`, added up and written out in a worker thread."""
    units, counts = await tx.all_units(), await tx.progress_counts(campaign.key)
    return await asyncio.to_thread(progress_reply, campaign, units, counts, await tx.targets(campaign.key))


def progress_reply(
    campaign: Campaign,
    units: list[tuple[int, str, str, int | None, str, int]],
    counts: dict[int, dict[str, int]],
    targets: list[tuple[int, str | None, int]],
) -> Reply:
    """The progress of one campaign: the whole, then every unit with something to report, in hierarchy order."""
    totals = rollup(units, counts, targets)
    roots = [t for t in totals.values() if t.parent_id not in totals]
    overall = sum(t.submitted for t in roots)
    shown = _tree(totals)
    lines = tuple(_line(t, depth) for t, depth in shown[:MAX_LINES])
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


async def admin_report(ctx: JobContext) -> AsyncIterator[Outgoing]:
    """The weekly report to every admin, one message per campaign running or ended this past month
    (each campaign read in its own read transaction)."""
    today = ctx.local_now.date()
    campaigns = [c for c in ctx.book.items if c.start <= today and (today - c.end).days <= 31]
    replies = []
    for campaign in campaigns:
        async with ctx.read() as tx:
            replies.append(await campaign_progress(tx, campaign))
    if not replies:
        return
    chats = ctx.config.bot.admins  # `channel:id`, the key of the admin's private chat
    stamp = today.isoformat()
    yield Outgoing(stamp, [Notice(chat, ctx.config.bot.locale, tuple(replies)) for chat in chats])
