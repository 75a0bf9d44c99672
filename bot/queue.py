"""The reviewer's queue: what waits, oldest first, with its age and the statutory deadline."""

from __future__ import annotations

from datetime import date

from bot import callbacks as cb
from bot.admin import is_admin
from bot.cards import DUE_SOON_DAYS
from bot.domain import Initiative
from bot.errors import InvalidInput
from bot.i18n import Lines, Msg
from bot.messages import Button, Reply, rows
from bot.reviewers import reviewed_units
from bot.textnorm import search_words
from bot.turn import Turn
from bot.views import literal

ALL = "all"
PICK = 8  # units offered when a name matches several


def waiting_line(item: Initiative, today: date, queued_on: date) -> Msg:
    """One line of a queue or digest: code, title, status, days waiting, deadline (flagged when close)."""
    days_left = (item.decision_due - today).days if item.decision_due else None
    soon = days_left is not None and days_left < DUE_SOON_DAYS
    args = {
        "code": item.code or "",
        "title": item.title or "",
        "age": (today - queued_on).days,
        "due": item.decision_due or "—",
        "status": Msg(f"status.{item.status.value}"),
    }
    return Msg("queue.line_due_soon" if soon else "queue.line", args)


async def pending(
    turn: Turn, page: int = 0, unit_id: int = 0, category: str = ALL, *, edit: bool = False
) -> list[Reply]:
    """Show one page of the queue, optionally filtered by unit and category (an admin's: every unit)."""
    units = await _queue_units(turn)
    if not units or (unit_id and unit_id not in units):  # never someone else's queue as his
        raise InvalidInput("error.not_reviewer")
    size = turn.config.bot.page_size
    items, total = await turn.tx.queue(
        units,
        offset=page * size,
        limit=size,
        category=None if category == ALL else category,
        unit_id=unit_id or None,
        exclude_author=turn.user.id,
    )
    if total == 0:
        return [Reply("queue.empty", edit=edit)]
    if not items:
        raise InvalidInput("error.stale_button")
    lines, buttons = [], []
    for item in items:
        lines.append(waiting_line(item, turn.today, turn.local_time(item.queued_at or turn.now).date()))
        buttons.append(Button("common.literal", cb.ShowCard(item.id).encode(), {"text": item.code or ""}))
    pages = (total + size - 1) // size
    nav = []
    if page > 0:
        nav.append(Button("button.prev", cb.PendingPage(page - 1, unit_id, category).encode()))
    if page + 1 < pages:
        nav.append(Button("button.next", cb.PendingPage(page + 1, unit_id, category).encode()))
    args = {"total": total, "page": page + 1, "pages": pages, "lines": Lines(tuple(lines))}
    return [Reply("queue.list", args, (*rows(*buttons, per_row=3), tuple(nav)), edit=edit)]


async def _queue_units(turn: Turn) -> list[int]:
    """The units whose queue the person sees: those they review, every unit for an admin."""
    if is_admin(turn):
        return sorted(unit[0] for unit in await turn.tx.all_units())
    return await reviewed_units(turn.tx, turn.user)


async def pending_command(turn: Turn, args: str) -> list[Reply]:
    """Answer /pending [UNIT-CODE | unit name | category]."""
    word = args.strip()
    if not word:
        return await pending(turn)
    unit = await turn.tx.unit_by_code(word)
    if unit is not None:
        return await pending(turn, unit_id=unit.id)
    keys = turn.book.category_keys()
    if word.lower() in keys:
        return await pending(turn, category=word.lower())
    mine = set(await _queue_units(turn))
    named = [u for u in await turn.tx.search_units(search_words(word), limit=50) if u.id in mine] if mine else []
    if len(named) == 1:
        return await pending(turn, unit_id=named[0].id)
    if named:
        buttons = (Button("common.literal", cb.PendingPage(0, u.id, ALL).encode(), {"text": u.name}) for u in named)
        return [Reply("queue.pick_unit", {"word": literal(word[:40])}, rows(*list(buttons)[:PICK]))]
    raise InvalidInput("error.pending_filter", word=literal(word[:40]))
