"""A worker's own initiatives: the paginated list, one initiative in full, withdrawal."""

from __future__ import annotations

from bot import callbacks as cb
from bot import live_cards
from bot.cards import scores_block
from bot.domain import Initiative, Status
from bot.errors import InvalidInput
from bot.i18n import Msg
from bot.messages import Button, Reply, rows
from bot.turn import Turn
from bot.views import draft_args, initiative_args, short_title
from bot.workflow import Action, may, next_status

WITHDRAWN_EVENT = "initiative_withdrawn"


async def listing(turn: Turn, page: int, *, edit: bool = False) -> list[Reply]:
    """Show one page of the person's initiatives, newest first."""
    size = turn.config.bot.page_size
    items, total = await turn.tx.initiatives_of(turn.user.id, offset=page * size, limit=size)
    draft = await turn.tx.draft_of(turn.user.id) if page == 0 else None
    if draft is not None and draft.status is not Status.DRAFT:
        draft = None  # a revision under way is listed with the initiatives
    unfinished = [Button("my.draft", cb.ResumeDraft(draft.id).encode(), draft_args(draft))] if draft else []
    if total == 0 and draft is not None:
        return [Reply("my.only_draft", {}, rows(*unfinished), edit=edit)]
    if total == 0:
        return [Reply("my.empty", {}, rows(Button("menu.new", cb.MenuChoice("new").encode())), edit=edit)]
    if not items:
        raise InvalidInput("error.stale_button")
    pages = (total + size - 1) // size
    buttons = [
        Button(
            "my.item",
            cb.OpenInitiative(item.id).encode(),
            {
                "code": item.code or "",
                "title": short_title(item.title),
                "status": Msg(f"status.{item.status.value}"),
            },
        )
        for item in items
    ]
    nav = []
    if page > 0:
        nav.append(Button("button.prev", cb.MyPage(page - 1).encode()))
    if page + 1 < pages:
        nav.append(Button("button.next", cb.MyPage(page + 1).encode()))
    return [
        Reply(
            "my.list",
            {"page": page + 1, "pages": pages, "total": total},
            (*rows(*unfinished, *buttons), tuple(nav)),
            edit=edit,
        )
    ]


async def _own(turn: Turn, initiative_id: int) -> Initiative:
    """Return one of the person's own (non-draft) initiatives, or refuse."""
    item = await turn.tx.initiative(initiative_id)
    if item is None or item.author_id != turn.user.id or item.status is Status.DRAFT:
        raise InvalidInput("error.not_yours")
    return item


async def open_one(turn: Turn, initiative_id: int) -> list[Reply]:
    """Show one initiative with every field and its attachments."""
    item = await _own(turn, initiative_id)
    await turn.tx.load_children(item)
    args = {
        **initiative_args(turn, item),
        "submitted": turn.local_time(item.submitted_at) if item.submitted_at else "—",
        "due": item.decision_due or "—",
        "scored": await scores_block(turn.tx, item),
    }
    buttons = [Button("button.back_to_list", cb.MyPage(0).encode())]
    if may(item.status, Action.WITHDRAW):
        buttons.insert(0, Button("button.withdraw", cb.AskWithdraw(item.id).encode()))
    if item.status is Status.CHANGES_REQUESTED:
        buttons.insert(0, Button("button.revise", cb.Revise(item.id).encode()))
    return [Reply("my.detail", args, rows(*buttons), media=tuple(item.attachments))]


async def ask_withdraw(turn: Turn, initiative_id: int) -> list[Reply]:
    """Ask the author to confirm withdrawing an initiative."""
    item = await _own(turn, initiative_id)
    if not may(item.status, Action.WITHDRAW):
        raise InvalidInput("error.cannot_withdraw", status=Msg(f"status.{item.status.value}"))
    buttons = rows(
        Button("button.confirm_withdraw", cb.ConfirmWithdraw(item.id, item.version).encode()),
        Button("button.keep", cb.OpenInitiative(item.id).encode()),
    )
    unit = await turn.tx.unit(item.review_unit_id) if item.review_unit_id else None
    key = "my.confirm_withdraw_council" if unit and unit.council else "my.confirm_withdraw"
    return [Reply(key, {"code": item.code or ""}, buttons)]


async def withdraw(turn: Turn, initiative_id: int, version: int) -> list[Reply]:
    """Withdraw an initiative that is still waiting for a decision."""
    item = await _own(turn, initiative_id)
    if not may(item.status, Action.WITHDRAW) or item.version != version:
        raise InvalidInput("error.cannot_withdraw", status=Msg(f"status.{item.status.value}"))
    before, item.status = item.status, next_status(item.status, Action.WITHDRAW)
    item.version += 1
    await turn.tx.save_initiative(item, now=turn.now)
    await turn.log_action(item, Action.WITHDRAW.value, before.value)
    await turn.tx.record_event(WITHDRAWN_EVENT, item.id, {"code": item.code}, now=turn.now)
    await live_cards.settle(turn, item, await turn.tx.unit(item.review_unit_id or 0), in_group=False)
    return [Reply("my.withdrawn", {"code": item.code or ""}, edit=True)]
