"""Receipts: answered at once, and kept in the outbox until the channel confirms they went out."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import Msg
from bot.messages import Reply, private_chat
from bot.turn import Turn

# A kept receipt goes out from the outbox this long after the submit unless the channel confirmed
# the direct answer first (longer than flood control can hold that answer: it must not go twice).
RECEIPT_GRACE = timedelta(minutes=5)


def receipt_prefix(initiative_id: int) -> str:
    """The outbox key of an initiative's receipt, before its chat."""
    return f"receipt:{initiative_id}"


def keep_receipt(turn: Turn, initiative_id: int, receipt: Reply) -> Reply:
    """Answer with `receipt` and keep it in the outbox with this update's changes; return it."""
    turn.kept.append((receipt_prefix(initiative_id), receipt))
    return receipt


async def filed_unseen(turn: Turn) -> list[Reply]:
    """Name the person's latest initiative if its receipt is not known to have reached them (the bot
    stopped, or Telegram failed, right after the submit): said first by /new and /my."""
    items, _ = await turn.tx.initiatives_of(turn.user.id, offset=0, limit=1)
    item = items[0] if items else None
    if item is None or item.submitted_at is None:
        return []
    if not await turn.tx.pending_keys([f"{receipt_prefix(item.id)}:{private_chat(turn.user.ref)}"]):
        return []
    args = {"code": item.code or "", "title": item.title or Msg("common.untitled")}
    return [Reply("receipt.filed_since", {**args, "submitted": turn.local_time(item.submitted_at)})]
