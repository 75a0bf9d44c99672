"""The weekly leaderboard job: a chart of the week and of the campaign so far, each reader's own rank."""

from __future__ import annotations

from bot.config import Campaign
from bot.i18n import LANGUAGES, Catalog, format_date
from bot.jobs import JobContext, Outgoing
from bot.leaderboard import Board, Ranking, Window
from bot.messages import FileOut, Notice, Reply, private_chat

BATCH = 5000
_catalog: Catalog | None = None


def catalog() -> Catalog:
    """The message catalogues (loaded once) for the chart's labels."""
    global _catalog
    _catalog = _catalog or Catalog()
    return _catalog


def chart(board: Board, campaign: Campaign, period: str, locale: str) -> FileOut:
    """The chart of one board in one language (matplotlib is imported only when a chart is drawn)."""
    from bot.charts import render_board

    text = catalog()
    png = render_board(
        board,
        title=text.render(locale, f"leaderboard.title_{period}", {"campaign": campaign.name}),
        people_label=text.render(locale, "leaderboard.people"),
        units_label=text.render(locale, "leaderboard.units"),
        points_label=text.render(locale, "leaderboard.points"),
        thousands="." if locale == "vi" else ",",
    )
    return FileOut(f"leaderboard-{campaign.key}-{period}.png", png)


def caption(week: Ranking, whole: Ranking, user_id: int, unit_id: int | None) -> Reply:
    """A reader's own place this week and in the campaign so far."""
    mine, overall = week.reader(user_id, unit_id), whole.reader(user_id, unit_id)
    args = {
        "rank": mine.rank or "—",
        "of": mine.of,
        "unit_rank": mine.unit_rank or "—",
        "units": mine.units,
        "total_rank": overall.rank or "—",
        "total_of": overall.of,
    }
    return Reply("leaderboard.caption" if mine.rank else "leaderboard.caption_none", args)


async def leaderboard(ctx: JobContext) -> list[Outgoing]:
    """Post each running campaign's boards to the configured chats and to every participant."""
    settings, today = ctx.config.leaderboard, ctx.local_now.date()
    out: list[Outgoing] = []
    for campaign in [c for c in ctx.book.items if c.active_on(today)]:
        windows = {"week": Window.week_before(ctx.now), "campaign": Window()}
        boards = {
            period: await ctx.tx.leaderboard(campaign.key, window=w, points=settings.points, top_n=settings.top_n)
            for period, w in windows.items()
        }
        charts = {(p, lang): chart(boards[p], campaign, p, lang) for p in boards for lang in LANGUAGES}
        stamp = f"{campaign.key}:{today.isoformat()}"
        default = ctx.config.bot.locale
        for_groups = tuple(
            Reply(
                "leaderboard.group", {"campaign": campaign.name, "day": format_date(today)}, file=charts[(p, default)]
            )
            for p in boards
        )
        groups = [Notice(chat, default, for_groups) for chat in ctx.config.jobs.leaderboard_chats]
        if groups:
            out.append(Outgoing(f"{stamp}:groups", groups))
        week = await ctx.tx.ranking(campaign.key, window=windows["week"], points=settings.points)
        whole = await ctx.tx.ranking(campaign.key, window=windows["campaign"], points=settings.points)
        after, batch = 0, []
        while people := await ctx.tx.reachable_users(after_id=after, limit=BATCH, reminders=True):
            for person in people:
                reply = caption(week, whole, person.id, person.unit_id)
                picture = charts[("week", person.locale if person.locale in LANGUAGES else default)]
                batch.append(
                    Notice(private_chat(person.ref), person.locale, (Reply(reply.key, reply.args, file=picture),))
                )
            after = people[-1].id
            out.append(Outgoing(stamp, batch, quiet=True))
            batch = []
    return out
