"""The unit below learns what the upper unit decided on what it forwarded: its council (every
member and its review group) or the one reviewer who forwarded it."""

from __future__ import annotations

from typing import Any

from bot.cards import comment_arg
from bot.domain import AuditEntry, Initiative, Status
from bot.i18n import Msg
from bot.messages import Reply, private_chat
from bot.reviewers import is_own_work, reviewers_for
from bot.turn import Turn
from bot.workflow import Action

# what the unit below is told of, and how the decision reads
TOLD = {
    Action.APPROVE: "notify.upper_approve",
    Action.REJECT: "notify.upper_reject",
    Action.DECLINE: "notify.upper_decline",
    Action.REQUEST_CHANGES: "notify.upper_request_changes",
    Action.FORWARD: "notify.upper_forward",
}
ARRIVED = (Status.SUBMITTED.value, Status.NOMINATED.value)


def forwarding(entries: list[AuditEntry], unit_id: int) -> AuditEntry | None:
    """The decision that forwarded the initiative to `unit_id` (the first forward logged there:
    votes of that unit's own council to forward it further come after it), or None."""
    return next((e for e in entries if e.action == Action.FORWARD.value and e.unit_id == unit_id), None)


async def tell_below(
    turn: Turn, item: Initiative, taken: Action, *, decided_at: int, who: Any, comment: Any = None
) -> None:
    """Tell whoever forwarded `item` to the unit `decided_at` what it decided (through the outbox,
    with the decision): the council below (members and group) or the reviewer who forwarded it."""
    if taken not in TOLD:
        return
    entry = forwarding(await turn.tx.audit(item.id), decided_at)
    if entry is None or entry.to_status not in ARRIVED:
        return
    unit = await turn.tx.unit(decided_at)
    ahead = await turn.tx.unit(item.review_unit_id) if item.review_unit_id else None
    decision = Msg(
        TOLD[taken],
        {
            "level": Msg(f"level.{item.recognised_level or 'grassroots'}"),
            "unit": ahead.name if ahead else "—",
        },
    )
    if isinstance(comment, str):
        comment = comment_arg(comment)
    args = {
        "unit": unit.name if unit else "—",
        "code": item.code or "",
        "title": item.title or "",
        "decision": decision,
        "who": who,
        "comment": Msg("notify.comment", {"comment": comment}) if comment else "",
    }
    await turn.tx.load_children(item)
    if entry.tally is None:
        person = await turn.tx.user(entry.actor_id) if entry.actor_id else None
        if person and not person.deleted and person.id != turn.user.id and not is_own_work(person, item):
            told = Reply("notify.upper_decided", {**args, "below": Msg("notify.forwarded_by_you")})
            turn.notify(private_chat(person.ref), person.locale, told)
        return
    told = Reply("notify.upper_decided", {**args, "below": Msg("council.named", {"unit": entry.tally.unit_name})})
    for grant in await reviewers_for(turn.tx, entry.tally.unit_id):
        if grant.user.id != turn.user.id and not is_own_work(grant.user, item):
            turn.notify(private_chat(grant.user.ref), grant.user.locale, told)
    council = await turn.tx.unit(entry.tally.unit_id)
    if council and council.review_chat:
        turn.notify(council.review_chat, turn.config.bot.locale, told)
