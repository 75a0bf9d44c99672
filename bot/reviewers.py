"""Who reviews what: reviewer rights resolved through the unit hierarchy, and the own-work rule."""

from __future__ import annotations

from bot.domain import Grant, Initiative, Unit, User
from bot.i18n import Msg
from bot.messages import Notice, Reply, private_chat
from bot.ports import Tx
from bot.textnorm import fold


async def reviewers_for(tx: Tx, unit_id: int) -> list[Grant]:
    """The reviewers of a unit: its own, plus those of upper units configured to cover it."""
    return await reviewers_of_chain(tx, unit_id, await tx.unit_chain(unit_id))


async def reviewers_of_chain(tx: Tx, unit_id: int, chain: list[Unit]) -> list[Grant]:
    """The reviewers of unit `unit_id` whose chain (the unit, then its ancestors) was read already."""
    covering = [unit.id for unit in chain[1:] if unit.covers_below]
    grants = await tx.grants(unit_ids=[unit_id, *covering])
    seen: set[int] = set()
    unique = []
    for grant in grants:
        if grant.user.id not in seen:
            seen.add(grant.user.id)
            unique.append(grant)
    return unique


async def reviewed_units(tx: Tx, user: User) -> list[int]:
    """The units whose initiatives a person reviews (with the units below where configured)."""
    grants = await tx.grants(user_id=user.id)
    ids = [grant.unit.id for grant in grants]
    covering = [grant.unit.id for grant in grants if grant.unit.covers_below]
    if covering:
        ids += await tx.descendants(covering)
    return sorted(set(ids))


def rights_notice(person: User, unit: Unit, *, granted: bool) -> Notice:
    """What a person is told when reviewer rights on `unit` are given (or taken away), from chat or the CLI."""
    if granted:
        reply = Reply("admin.you_are_reviewer", {"unit": unit.name, "level": Msg(f"level.{unit.level}")})
    else:
        reply = Reply("admin.you_are_no_longer_reviewer", {"unit": unit.name})
    return Notice(private_chat(person.ref), person.locale, (reply,))


def is_own_work(user: User, item: Initiative) -> bool:
    """True when the person is the author or (by name) a co-author; children must be loaded."""
    if item.author_id == user.id:
        return True
    name = fold(user.full_name or "")
    return bool(name) and any(fold(c.name) == name for c in item.coauthors)


async def may_review(tx: Tx, user: User, item: Initiative) -> bool:
    """True when the person may act on the initiative at its current review unit."""
    if item.review_unit_id is None or is_own_work(user, item):
        return False
    return any(grant.user.id == user.id for grant in await reviewers_for(tx, item.review_unit_id))
