"""The worker reminders job: campaign launch, drafts left unfinished, the monthly nudge, deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from bot import callbacks as cb
from bot.config import Campaign
from bot.domain import Status, User
from bot.jobs import JobContext, Outgoing
from bot.messages import Button, Notice, Reply, private_chat, rows
from bot.ports import Tx
from bot.views import step_args

BATCH = 1000  # people read per read transaction
COUNTDOWN_DAYS = (7, 1)


def _to(user: User, *replies: Reply) -> Notice:
    """A notice to a person's private chat in their language."""
    return Notice(private_chat(user.ref), user.locale, replies)


async def _pages(ctx: JobContext, read: Callable[[Tx, int], Awaitable[list[User]]]) -> AsyncIterator[list[User]]:
    """People a batch at a time (ascending ids), each batch read in its own read transaction."""
    after = 0
    while True:
        async with ctx.read() as tx:
            batch = await read(tx, after)
        if not batch:
            return
        yield batch
        after = batch[-1].id


def _everyone(ctx: JobContext) -> AsyncIterator[list[User]]:
    """Every reachable person accepting reminders, a batch at a time."""
    return _pages(ctx, lambda tx, after: tx.reachable_users(after_id=after, limit=BATCH, reminders=True))


async def reminders(ctx: JobContext) -> AsyncIterator[Outgoing]:
    """Everything the reminders job sends today (each message keyed so it goes once)."""
    today = ctx.local_now.date()
    new = rows(Button("menu.new", cb.MenuChoice("new").encode()))
    for campaign in ctx.book.items:
        if campaign.start == today:
            reply = Reply(
                "remind.launch", {"campaign": campaign.name, "start": campaign.start, "end": campaign.end}, new
            )
            async for people in _everyone(ctx):
                yield Outgoing(f"launch:{campaign.key}", [_to(u, reply) for u in people], quiet=True)
        days_left = (campaign.end - today).days
        if days_left in COUNTDOWN_DAYS:
            reply = Reply("remind.deadline", {"campaign": campaign.name, "days": days_left, "end": campaign.end}, new)
            async for people in _everyone(ctx):
                yield Outgoing(f"deadline:{campaign.key}:{days_left}", [_to(u, reply) for u in people], quiet=True)
        if campaign.active_on(today) and today.day == ctx.config.jobs.nudge_day:
            async for item in _nudge(ctx, campaign, today.strftime("%Y-%m")):
                yield item
    cutoff = ctx.now - timedelta(hours=ctx.config.jobs.draft_idle_hours)
    since = ctx.now - timedelta(days=ctx.config.jobs.outbox_keep_days)  # older reminders may be pruned: no repeat
    async with ctx.read() as tx:
        idle = await tx.idle_drafts(before=cutoff, since=since)
    for draft, author in idle:
        resume = rows(Button("button.resume", cb.ResumeDraft(draft.id).encode()))
        reply = Reply("remind.draft", {**step_args(draft), "title": draft.title or "…"}, resume)
        yield Outgoing(f"draft:{draft.id}:{draft.version}", [_to(author, reply)], quiet=True)
    async with ctx.read() as tx:
        revising = await tx.idle_drafts(before=cutoff, since=since, status=Status.CHANGES_REQUESTED)
    for revised, author in revising:
        revise = rows(Button("button.revise", cb.Revise(revised.id).encode()))
        reply = Reply("remind.revision", {"code": revised.code or "", "title": revised.title or "…"}, revise)
        yield Outgoing(f"revision:{revised.id}:{revised.version}", [_to(author, reply)], quiet=True)


async def _nudge(ctx: JobContext, campaign: Campaign, month: str) -> AsyncIterator[Outgoing]:
    """This month's nudge to people with nothing submitted to the campaign this month."""
    since = ctx.local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    reply = Reply("remind.nudge", {"campaign": campaign.name}, rows(Button("menu.new", cb.MenuChoice("new").encode())))
    idle = _pages(ctx, lambda tx, after: tx.idle_authors(campaign.key, since=since, after_id=after, limit=BATCH))
    async for people in idle:
        yield Outgoing(f"nudge:{campaign.key}:{month}", [_to(u, reply) for u in people], quiet=True)
