"""The weekly leaderboard job: a chart of the week and of the campaign so far, each reader's own rank."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.clock import local
from bot.config import Campaign
from bot.domain import User
from bot.i18n import LANGUAGES, Catalog, Lines, Msg, format_date
from bot.jobs import JobContext, Outgoing
from bot.leaderboard import Board, Ranking, Window
from bot.messages import FileOut, Notice, Reply, private_chat
from bot.painter import paint

PAGE = 200  # people read per read transaction (their messages made between two turns of the loop)
_catalog: Catalog | None = None


def catalog() -> Catalog:
    """The message catalogues (loaded once) for the chart's labels."""
    global _catalog
    _catalog = _catalog or Catalog()
    return _catalog


def week_span(window: Window, timezone: str) -> str:
    """The days a weekly window covers, local: 17/11–24/11/2026 (both years when they differ)."""
    assert window.start is not None and window.end is not None
    start, end = local(window.start, timezone).date(), local(window.end, timezone).date()
    first = start.strftime("%d/%m") if start.year == end.year else format_date(start)
    return f"{first}–{format_date(end)}"


def board_text(board: Board, campaign: Campaign) -> Msg:
    """What the chart of `board` shows, as a message: the top people (with their unit) and units with
    their points, for a chat the chart cannot be shown in (Zalo without a public URL)."""
    people = tuple(
        Msg(
            "leaderboard.person_line",
            {"rank": s.rank, "name": s.name or "—", "unit": s.unit_name or "—", "points": s.points},
        )
        for s in board.people
    )
    units = tuple(
        Msg("leaderboard.unit_line", {"rank": s.rank, "name": s.name or "—", "points": s.points}) for s in board.units
    )
    return Msg(
        "leaderboard.board",
        {
            "campaign": campaign.name,
            "people_label": Msg("leaderboard.people"),
            "people": Lines(people),
            "units_label": Msg("leaderboard.units"),
            "units": Lines(units),
        },
    )


async def chart(board: Board, campaign: Campaign, period: str, locale: str, week: str) -> FileOut:
    """The chart of one board in one language, drawn in the worker process (`bot/painter.py`), with
    its text for chats that cannot show it."""
    text = catalog()
    png = await paint(
        board,
        title=text.render(locale, f"leaderboard.title_{period}", {"campaign": campaign.name, "week": week}),
        people_label=text.render(locale, "leaderboard.people"),
        units_label=text.render(locale, "leaderboard.units"),
        points_label=text.render(locale, "leaderboard.points"),
        thousands="." if locale == "vi" else ",",
    )
    return FileOut(f"leaderboard-{campaign.key}-{period}.png", png, alt=board_text(board, campaign))


def caption(week: Ranking, whole: Ranking, person: User, span: str, *, worker: bool) -> Reply:
    """A reader's own places this week and in the campaign so far, only those they hold (no "—/2");
    a worker with no points this week is invited to submit."""
    mine, overall = week.reader(person.id, person.unit_id), whole.reader(person.id, person.unit_id)
    lines: list[Msg] = []
    if mine.rank:
        lines.append(Msg("leaderboard.rank_week", {"rank": mine.rank, "of": mine.of}))
    elif worker:
        lines.append(Msg("leaderboard.nudge"))
    if mine.unit_rank:
        lines.append(Msg("leaderboard.rank_unit", {"rank": mine.unit_rank, "of": mine.units}))
    if overall.rank:
        lines.append(Msg("leaderboard.rank_total", {"rank": overall.rank, "of": overall.of}))
    block = Msg("leaderboard.lines", {"lines": Lines(tuple(lines))}) if lines else ""
    return Reply("leaderboard.caption", {"week": span, "lines": block})


async def leaderboard(ctx: JobContext) -> AsyncIterator[Outgoing]:
    """Post each running campaign's boards to the configured chats and to every participant.

    Read in short read transactions (the boards, each ranking streamed, the readers a page at a
    time), the charts drawn in a worker process after the data is read."""
    settings, today = ctx.config.leaderboard, ctx.local_now.date()
    async with ctx.write() as tx:  # rebuilds the tallies only when bot.toml's points changed
        await tx.use_points(settings.points)
    for campaign in [c for c in ctx.book.items if c.active_on(today)]:
        windows = {"week": Window.week_before(ctx.now), "campaign": Window()}
        span = week_span(windows["week"], ctx.config.bot.timezone)
        boards: dict[str, Board] = {}
        rankings: dict[str, Ranking] = {}
        for period, window in windows.items():
            async with ctx.read() as tx:
                boards[period] = await tx.leaderboard(
                    campaign.key, window=window, points=settings.points, top_n=settings.top_n
                )
            async with ctx.read() as tx:
                rankings[period] = await tx.ranking(campaign.key, window=window, points=settings.points)
        charts = {(p, lang): await chart(boards[p], campaign, p, lang, span) for p in boards for lang in LANGUAGES}
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
            yield Outgoing(f"{stamp}:groups", groups)
        week, whole = rankings["week"], rankings["campaign"]
        async with ctx.read() as tx:
            officers = {g.user.id for g in await tx.grants()}  # reviewers and admins are not urged to submit
        after = 0
        while True:
            async with ctx.read() as tx:
                people = await tx.reachable_users(after_id=after, limit=PAGE, reminders=True)
            if not people:
                break
            batch = []
            for person in people:
                worker = person.id not in officers and private_chat(person.ref) not in ctx.config.bot.admins
                reply = caption(week, whole, person, span, worker=worker)
                picture = charts[("week", person.locale if person.locale in LANGUAGES else default)]
                batch.append(
                    Notice(private_chat(person.ref), person.locale, (Reply(reply.key, reply.args, file=picture),))
                )
            after = people[-1].id
            yield Outgoing(stamp, batch, quiet=True, topic="leaderboard")
