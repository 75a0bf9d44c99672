"""The reviewer digest job: what waits for each reviewer, and escalation of items waiting too long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from bot import callbacks as cb
from bot.clock import local
from bot.domain import Grant, Unit
from bot.i18n import Lines
from bot.jobs import JobContext, Outgoing
from bot.messages import Button, Notice, Reply, private_chat, rows
from bot.queue import waiting_line
from bot.reviewers import reviewed_units, reviewers_for

SHOWN = 10
GROUP = 50  # reviewers (or escalated initiatives) read per read transaction


async def reviewer_digest(ctx: JobContext) -> AsyncIterator[Outgoing]:
    """One digest per reviewer with something waiting, then escalations to upper units (read in
    short read transactions of a few dozen reviewers or initiatives each)."""
    today = ctx.local_now.date()
    stamp = today.isoformat()
    async with ctx.read() as tx:
        reviewers = list({g.user.id: g.user for g in await tx.grants()}.values())
    tz = ctx.config.bot.timezone
    for start in range(0, len(reviewers), GROUP):
        found: list[Outgoing] = []
        async with ctx.read() as tx:
            for user in reviewers[start : start + GROUP]:
                units = await reviewed_units(tx, user)
                items, total = await tx.queue(units, offset=0, limit=SHOWN, exclude_author=user.id)
                if not total:
                    continue
                lines = [waiting_line(item, today, local(item.queued_at or ctx.now, tz).date()) for item in items]
                reply = Reply(
                    "digest.text",
                    {"total": total, "lines": Lines(tuple(lines)), "more": max(total - SHOWN, 0)},
                    rows(Button("digest.open_queue", cb.PendingPage(0, 0, "all").encode())),
                )
                found.append(Outgoing(f"{stamp}:{user.id}", [Notice(private_chat(user.ref), user.locale, (reply,))]))
        for item in found:  # outside the read transaction
            yield item
    async for item in _escalations(ctx):
        yield item


async def _escalations(ctx: JobContext) -> AsyncIterator[Outgoing]:
    """Tell the upper unit's reviewers about initiatives waiting longer than the configured days."""
    days = ctx.config.jobs.escalate_after_days
    since = ctx.now - timedelta(days=ctx.config.jobs.outbox_keep_days)  # older escalations may be pruned: no repeat
    before = ctx.now - timedelta(days=days)
    async with ctx.read() as tx:
        waiting = await tx.waiting_since(before=before, since=since)
    chains: dict[int, list[Unit]] = {}
    reviewers: dict[int, list[Grant]] = {}
    for start in range(0, len(waiting), GROUP):
        out: list[Outgoing] = []
        async with ctx.read() as tx:
            for item in waiting[start : start + GROUP]:
                unit_id = item.review_unit_id or 0
                if unit_id not in chains:
                    chains[unit_id] = await tx.unit_chain(unit_id)
                chain = chains[unit_id]
                if len(chain) < 2:
                    continue
                unit, upper = chain[0], chain[1]
                if upper.id not in reviewers:
                    reviewers[upper.id] = await reviewers_for(tx, upper.id)
                notices = []
                for grant in reviewers[upper.id]:
                    args = {
                        "code": item.code or "",
                        "title": item.title or "",
                        "unit": unit.name,
                        "days": days,
                        "due": item.decision_due or "—",
                    }
                    reply = Reply("digest.escalated", args)
                    notices.append(Notice(private_chat(grant.user.ref), grant.user.locale, (reply,)))
                if notices:
                    out.append(Outgoing(f"escalate:{item.id}:{item.review_unit_id}", notices))
        for outgoing in out:
            yield outgoing
