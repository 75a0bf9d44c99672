"""Review cards already sent, kept true: the review group's card follows the council's tally, and
cards that no longer lead to a decision lose their buttons."""

from __future__ import annotations

from bot.cards import card
from bot.domain import Initiative, Unit
from bot.messages import private_chat, strip_buttons
from bot.turn import Turn


async def show_in_group(turn: Turn, item: Initiative, unit: Unit | None) -> None:
    """Edit the review group's card of `item` to what it is now (its tally, its status, the
    buttons that still apply); a new card when it cannot be edited."""
    if unit is None or not unit.review_chat:
        return
    locale = turn.config.bot.locale
    acting = item.review_unit_id == unit.id  # forwarded up, the group may still read it
    turn.notify(unit.review_chat, locale, await card(turn, item, locale, private=False, edit=True, acting=acting))


async def settle(turn: Turn, item: Initiative, unit: Unit | None, *, in_group: bool) -> None:
    """A decision was taken on `item` (reviewed by `unit`): every card of it sent before loses its
    buttons, and the review group's card shows the decision. The card just pressed is the answer's
    to change (the decider's private one, or the group's when pressed there)."""
    group = unit.review_chat if unit is not None else None
    own = private_chat(turn.user.ref)
    stripped = []
    for chat, message_id in (await turn.tx.card_messages(item.id)).items():
        if chat == group:
            if not in_group:
                await show_in_group(turn, item, unit)
        elif chat != own or in_group:
            turn.notify(chat, turn.config.bot.locale, strip_buttons(message_id))
            stripped.append(chat)
    await turn.tx.forget_cards(item.id, stripped)
