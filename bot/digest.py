"""The reviewer digest job: what waits for each reviewer, and escalation of items waiting too long."""

from __future__ import annotations

from datetime import timedelta

from bot import callbacks as cb
from bot.clock import local
from bot.i18n import Lines
from bot.jobs import JobContext, Outgoing
from bot.messages import Button, Notice, Reply, private_chat, rows
from bot.queue import waiting_line
from bot.reviewers import reviewed_units, reviewers_for

SHOWN = 10


async def reviewer_digest(ctx: JobContext) -> list[Outgoing]:
    """One digest per reviewer with something waiting, then escalations to upper units."""
    out: list[Outgoing] = []
    today = ctx.local_now.date()
    stamp = today.isoformat()
    reviewers = {g.user.id: g.user for g in await ctx.tx.grants()}
    for user in reviewers.values():
        units = await reviewed_units(ctx.tx, user)
        items, total = await ctx.tx.queue(units, offset=0, limit=SHOWN, exclude_author=user.id)
        if not total:
            continue
        tz = ctx.config.bot.timezone
        lines = [waiting_line(item, today, local(item.queued_at or ctx.now, tz).date()) for item in items]
        reply = Reply(
            "digest.text",
            {"total": total, "lines": Lines(tuple(lines)), "more": max(total - SHOWN, 0)},
            rows(Button("digest.open_queue", cb.PendingPage(0, 0, "all").encode())),
        )
        out.append(Outgoing(f"{stamp}:{user.id}", [Notice(private_chat(user.ref), user.locale, (reply,))]))
    out += await _escalations(ctx, stamp)
    return out


async def _escalations(ctx: JobContext, stamp: str) -> list[Outgoing]:
    """Tell the upper unit's reviewers about initiatives waiting longer than the configured days."""
    days = ctx.config.jobs.escalate_after_days
    out: list[Outgoing] = []
    since = ctx.now - timedelta(days=ctx.config.jobs.outbox_keep_days)  # older escalations may be pruned: no repeat
    for item in await ctx.tx.waiting_since(before=ctx.now - timedelta(days=days), since=since):
        chain = await ctx.tx.unit_chain(item.review_unit_id or 0)
        if len(chain) < 2:
            continue
        unit, upper = chain[0], chain[1]
        notices = []
        for grant in await reviewers_for(ctx.tx, upper.id):
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
    return out
