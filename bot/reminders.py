"""The worker reminders job: campaign launch, drafts left unfinished, the monthly nudge, deadlines."""

from __future__ import annotations

from datetime import timedelta

from bot import callbacks as cb
from bot.config import Campaign
from bot.domain import Status, User
from bot.jobs import JobContext, Outgoing
from bot.messages import Button, Notice, Reply, private_chat, rows
from bot.views import step_args

BATCH = 2000
COUNTDOWN_DAYS = (7, 1)


def _to(user: User, *replies: Reply) -> Notice:
    """A notice to a person's private chat in their language."""
    return Notice(private_chat(user.ref), user.locale, replies)


async def _everyone(ctx: JobContext) -> list[User]:
    """Every reachable person accepting reminders, read in batches."""
    people: list[User] = []
    after = 0
    while batch := await ctx.tx.reachable_users(after_id=after, limit=BATCH, reminders=True):
        people += batch
        after = batch[-1].id
    return people


async def reminders(ctx: JobContext) -> list[Outgoing]:
    """Everything the reminders job sends today (each message keyed so it goes once)."""
    today = ctx.local_now.date()
    out: list[Outgoing] = []
    new = rows(Button("menu.new", cb.MenuChoice("new").encode()))
    for campaign in ctx.book.items:
        if campaign.start == today:
            reply = Reply(
                "remind.launch", {"campaign": campaign.name, "start": campaign.start, "end": campaign.end}, new
            )
            out.append(Outgoing(f"launch:{campaign.key}", [_to(u, reply) for u in await _everyone(ctx)], quiet=True))
        days_left = (campaign.end - today).days
        if days_left in COUNTDOWN_DAYS:
            reply = Reply("remind.deadline", {"campaign": campaign.name, "days": days_left, "end": campaign.end}, new)
            people = await _everyone(ctx)
            out.append(Outgoing(f"deadline:{campaign.key}:{days_left}", [_to(u, reply) for u in people], quiet=True))
        if campaign.active_on(today) and today.day == ctx.config.jobs.nudge_day:
            out.append(await _nudge(ctx, campaign, today.strftime("%Y-%m")))
    cutoff = ctx.now - timedelta(hours=ctx.config.jobs.draft_idle_hours)
    since = ctx.now - timedelta(days=ctx.config.jobs.outbox_keep_days)  # older reminders may be pruned: no repeat
    for draft, author in await ctx.tx.idle_drafts(before=cutoff, since=since):
        resume = rows(Button("button.resume", cb.ResumeDraft(draft.id).encode()))
        reply = Reply("remind.draft", {**step_args(draft), "title": draft.title or "…"}, resume)
        out.append(Outgoing(f"draft:{draft.id}:{draft.version}", [_to(author, reply)], quiet=True))
    for item, author in await ctx.tx.idle_drafts(before=cutoff, since=since, status=Status.CHANGES_REQUESTED):
        revise = rows(Button("button.revise", cb.Revise(item.id).encode()))
        reply = Reply("remind.revision", {"code": item.code or "", "title": item.title or "…"}, revise)
        out.append(Outgoing(f"revision:{item.id}:{item.version}", [_to(author, reply)], quiet=True))
    return out


async def _nudge(ctx: JobContext, campaign: Campaign, month: str) -> Outgoing:
    """This month's nudge to people with nothing submitted to the campaign this month."""
    since = ctx.local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    reply = Reply("remind.nudge", {"campaign": campaign.name}, rows(Button("menu.new", cb.MenuChoice("new").encode())))
    people: list[User] = []
    after = 0
    while batch := await ctx.tx.idle_authors(campaign.key, since=since, after_id=after, limit=BATCH):
        people += batch
        after = batch[-1].id
    return Outgoing(f"nudge:{campaign.key}:{month}", [_to(u, reply) for u in people], quiet=True)
