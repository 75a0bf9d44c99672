"""Leaderboard queries: the campaign from trigger-kept tallies, other windows from indexed events.

The rules are those of `bot/leaderboard.py`. For the campaign so far (`Window()`) the scores are
read from `leaderboard_person` / `leaderboard_unit`, which the triggers of migration 0009 keep
current and whose rank index gives the top rows and the reader's rank by counting index
entries. For a bounded window (the past week) the events are read through the
(campaign_key, submitted_at | decided_at | applied_at) indexes and added up here in SQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)

from bot.leaderboard import (
    EXCLUDED_STATUSES,
    LEVELS,
    Board,
    Points,
    Ranking,
    ReaderRank,
    Standing,
    Window,
)
from storage.rows import Queries, initiatives, units, users
from storage.tables import metadata

rule = metadata.tables["leaderboard_rule"]
parts = metadata.tables["leaderboard_part"]
person_scores = metadata.tables["leaderboard_person"]
unit_scores = metadata.tables["leaderboard_unit"]
POINT_KINDS = ("submitted", "grassroots", "upper", "city", "applied")
Order = list[tuple[int, int]]  # (id, points) in rank order
PAGE = 2000  # rows of a ranking fetched at a time


def events(campaign_key: str | None, window: Window, points: Points) -> Any:
    """The counted events (campaign_key, author_id, unit_id, happened_at, pts), rules 1–3."""
    i = initiatives
    base = (i.c.campaign_key, i.c.author_id, i.c.unit_id)
    counted: list[Any] = [i.c.status.not_in(sorted(EXCLUDED_STATUSES))]
    if campaign_key is not None:
        counted.append(i.c.campaign_key == campaign_key)

    def within(column: Any) -> list[Any]:
        conditions = [column.is_not(None)]
        if window.start is not None:
            conditions.append(column >= window.start)
        if window.end is not None:
            conditions.append(column < window.end)
        return conditions

    selects = []
    if points.submitted > 0:
        worth = literal(points.submitted, Integer).label("pts")
        selects.append(
            select(*base, i.c.submitted_at.label("happened_at"), worth).where(*counted, *within(i.c.submitted_at))
        )
    levels = {level: points.for_level(level) for level in LEVELS if points.for_level(level) > 0}
    if levels:
        worth = case(levels, value=i.c.recognised_level, else_=0).label("pts")
        selects.append(
            select(*base, i.c.decided_at.label("happened_at"), worth).where(
                *counted, i.c.recognised_level.in_(list(levels)), *within(i.c.decided_at)
            )
        )
    if points.applied > 0:
        worth = literal(points.applied, Integer).label("pts")
        selects.append(
            select(*base, i.c.applied_at.label("happened_at"), worth).where(*counted, *within(i.c.applied_at))
        )
    if not selects:  # every kind is worth 0: no event counts
        selects.append(select(*base, i.c.submitted_at.label("happened_at"), literal(0).label("pts")).where(false()))
    return union_all(*selects).subquery("events")


def ranked(query: Any, key: Any, score: Any) -> Any:
    """`query` ordered as the rules rank: points high first, reached earlier, lower id."""
    return query.order_by(score.c.points.desc(), score.c.reached_at, key)


def ahead_of(score: Any, key: Any, points: int, reached_at: Any, own_id: int) -> Any:
    """SQL: the row ranks before a row with (points, reached_at, own_id)."""
    return or_(
        score.c.points > points,
        and_(
            score.c.points == points,
            or_(score.c.reached_at < reached_at, and_(score.c.reached_at == reached_at, key < own_id)),
        ),
    )


async def ranks(order: Order) -> dict[int, int]:
    """Ranks from an order (position 1 first), a page at a time so the event loop runs in between."""
    result: dict[int, int] = {}
    for start in range(0, len(order), 5 * PAGE):
        result.update((key, rank) for rank, (key, _) in enumerate(order[start : start + 5 * PAGE], start=start + 1))
        await asyncio.sleep(0)
    return result


def place(people: Order, units: Order, user_id: int, unit_id: int | None) -> ReaderRank:
    """One reader's rank read off the orders (without building every rank)."""

    def position(order: Order, key: int | None) -> int | None:
        return next((i for i, (k, _) in enumerate(order, start=1) if k == key), None)

    return ReaderRank(position(people, user_id), len(people), position(units, unit_id), len(units))


class LeaderboardQueries(Queries):
    """The leaderboard: top people and units, totals, and ranks."""

    async def leaderboard(
        self, campaign_key: str, *, window: Window, points: Points, top_n: int, reader_id: int | None = None
    ) -> Board:
        """The top `top_n` people and units of `window`, their totals, and `reader_id`'s rank if given."""
        reader = None
        if window.whole:
            await self.use_points(points)
            people = await self._tally_top(person_scores, person_scores.c.user_id, campaign_key, top_n)
            top_units = await self._tally_top(unit_scores, unit_scores.c.unit_id, campaign_key, top_n)
            total_people = await self._count(person_scores, campaign_key)
            total_units = await self._count(unit_scores, campaign_key)
            if reader_id is not None:
                reader = await self.reader_rank(campaign_key, reader_id, window=window, points=points)
        else:  # one pass over the window's events serves the board and the reader
            people_order, unit_order = await self._window_orders(campaign_key, window, points)
            people, top_units = people_order[:top_n], unit_order[:top_n]
            total_people, total_units = len(people_order), len(unit_order)
            if reader_id is not None:
                reader = place(people_order, unit_order, reader_id, await self._unit_of(reader_id))
        return Board(
            await self._people_standings(people),
            await self._unit_standings(top_units),
            total_people,
            total_units,
            reader,
        )

    async def reader_rank(self, campaign_key: str, user_id: int, *, window: Window, points: Points) -> ReaderRank:
        """The reader's rank among people with points, and their (current) unit's rank."""
        unit_id = await self._unit_of(user_id)
        if not window.whole:
            return (await self.ranking(campaign_key, window=window, points=points)).reader(user_id, unit_id)
        await self.use_points(points)
        rank = await self._tally_rank(person_scores, person_scores.c.user_id, campaign_key, user_id)
        unit_rank = None
        if unit_id is not None:
            unit_rank = await self._tally_rank(unit_scores, unit_scores.c.unit_id, campaign_key, unit_id)
        return ReaderRank(
            rank,
            await self._count(person_scores, campaign_key),
            unit_rank,
            await self._count(unit_scores, campaign_key),
        )

    async def ranking(self, campaign_key: str, *, window: Window, points: Points) -> Ranking:
        """Everyone's rank, for telling each reader of a broadcast their own place."""
        if window.whole:
            await self.use_points(points)
            people_order = await self._tally_order(person_scores, person_scores.c.user_id, campaign_key)
            unit_order = await self._tally_order(unit_scores, unit_scores.c.unit_id, campaign_key)
        else:
            people_order, unit_order = await self._window_orders(campaign_key, window, points)
        return Ranking(await ranks(people_order), await ranks(unit_order))

    async def _unit_of(self, user_id: int) -> int | None:
        """A person's current unit."""
        return (await self.conn.execute(select(users.c.unit_id).where(users.c.id == user_id))).scalar()

    async def use_points(self, points: Points) -> None:
        """Make the tallies count `points`: store them and rebuild if they changed."""
        row = (await self.conn.execute(select(rule).where(rule.c.id == 1))).first()
        wanted = points.model_dump()
        if row is not None and all(getattr(row, k) == wanted[k] for k in POINT_KINDS):
            return
        if row is None:
            await self.conn.execute(insert(rule).values(id=1, **wanted))
        else:
            await self.conn.execute(update(rule).where(rule.c.id == 1).values(**wanted))
        await self.rebuild_leaderboard(points)

    async def rebuild_leaderboard(self, points: Points) -> None:
        """Recompute every tally from the initiatives (after the points changed)."""
        for table in (unit_scores, person_scores, parts):
            await self.conn.execute(delete(table))
        ev = events(None, Window(), points)
        unit = func.coalesce(ev.c.unit_id, 0)
        await self.conn.execute(
            insert(parts).from_select(
                ["campaign_key", "author_id", "unit_id", "points", "reached_at"],
                select(
                    ev.c.campaign_key, ev.c.author_id, unit, func.sum(ev.c.pts), func.max(ev.c.happened_at)
                ).group_by(ev.c.campaign_key, ev.c.author_id, unit),
            )
        )
        await self.conn.execute(
            insert(person_scores).from_select(
                ["campaign_key", "user_id", "points", "reached_at"],
                select(parts.c.campaign_key, parts.c.author_id, func.sum(parts.c.points), func.max(parts.c.reached_at))
                .join(users, users.c.id == parts.c.author_id)
                .where(users.c.deleted == false())
                .group_by(parts.c.campaign_key, parts.c.author_id),
            )
        )
        await self.conn.execute(
            insert(unit_scores).from_select(
                ["campaign_key", "unit_id", "points", "reached_at"],
                select(parts.c.campaign_key, parts.c.unit_id, func.sum(parts.c.points), func.max(parts.c.reached_at))
                .where(parts.c.unit_id != 0)
                .group_by(parts.c.campaign_key, parts.c.unit_id),
            )
        )

    async def _tally_top(self, score: Any, key: Any, campaign_key: str, limit: int) -> Order:
        """The first `limit` rows of a tally in rank order."""
        query = select(key, score.c.points).where(score.c.campaign_key == campaign_key)
        rows = await self.conn.execute(ranked(query, key, score).limit(limit))
        return [(row[0], row[1]) for row in rows.all()]

    async def _tally_order(self, score: Any, key: Any, campaign_key: str) -> Order:
        """Every row of a tally in rank order."""
        query = select(key, score.c.points).where(score.c.campaign_key == campaign_key)
        return await self._order(ranked(query, key, score))

    async def _order(self, query: Any) -> Order:
        """The (id, points) rows of `query`, fetched a page at a time: the event loop runs between
        pages, so a ranking of 10⁵ people never holds it for more than a page's few milliseconds."""
        order: Order = []
        result = await self.conn.stream(query)
        async for rows in result.partitions(PAGE):
            order.extend((row[0], row[1]) for row in rows)
        return order

    async def _count(self, score: Any, campaign_key: str) -> int:
        """How many rows (all with points) a tally has in the campaign."""
        query = select(func.count()).select_from(score).where(score.c.campaign_key == campaign_key)
        return int((await self.conn.execute(query)).scalar_one())

    async def _tally_rank(self, score: Any, key: Any, campaign_key: str, own_id: int) -> int | None:
        """1 + the rows ranked before `own_id`'s row, or None when it has no points."""
        own = (
            await self.conn.execute(
                select(score.c.points, score.c.reached_at).where(score.c.campaign_key == campaign_key, key == own_id)
            )
        ).first()
        if own is None:
            return None
        ahead = (
            select(func.count())
            .select_from(score)
            .where(score.c.campaign_key == campaign_key, ahead_of(score, key, own.points, own.reached_at, own_id))
        )
        return 1 + int((await self.conn.execute(ahead)).scalar_one())

    async def _window_orders(self, campaign_key: str, window: Window, points: Points) -> tuple[Order, Order]:
        """People and units with points in a bounded window, in rank order."""
        ev = events(campaign_key, window, points)
        totals = (
            select(
                ev.c.author_id.label("id"),
                func.sum(ev.c.pts).label("points"),
                func.max(ev.c.happened_at).label("reached_at"),
            )
            .group_by(ev.c.author_id)
            .subquery()
        )
        people = (  # forgotten people are left out after adding up (fewer lookups)
            select(totals).join(users, users.c.id == totals.c.id).where(users.c.deleted == false()).subquery()
        )
        unit_rows = (
            select(
                ev.c.unit_id.label("id"),
                func.sum(ev.c.pts).label("points"),
                func.max(ev.c.happened_at).label("reached_at"),
            )
            .where(ev.c.unit_id.is_not(None))
            .group_by(ev.c.unit_id)
            .subquery()
        )
        orders = []
        for score in (people, unit_rows):
            query = ranked(select(score.c.id, score.c.points).where(score.c.points > 0), score.c.id, score)
            orders.append(await self._order(query))
        return orders[0], orders[1]

    async def _people_standings(self, order: Order) -> list[Standing]:
        """Standings of people, with their names and their current unit's name."""
        ids = [key for key, _ in order]
        rows = await self.conn.execute(
            select(users.c.id, users.c.full_name, units.c.name)
            .outerjoin(units, units.c.id == users.c.unit_id)
            .where(users.c.id.in_(ids))
        )
        names = {row[0]: (row[1], row[2]) for row in rows}
        return [
            Standing(rank, key, *names.get(key, (None, None)), points)
            for rank, (key, points) in enumerate(order, start=1)
        ]

    async def _unit_standings(self, order: Order) -> list[Standing]:
        """Standings of units, with their names."""
        ids = [key for key, _ in order]
        rows = await self.conn.execute(select(units.c.id, units.c.name).where(units.c.id.in_(ids)))
        names = {row[0]: row[1] for row in rows}
        return [Standing(rank, key, names.get(key), None, points) for rank, (key, points) in enumerate(order, start=1)]
