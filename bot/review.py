"""Reviewing in chat: decisions, council votes, forwarding upward, telling everyone concerned."""

from __future__ import annotations

import json
import re

from bot import callbacks as cb
from bot.admin import is_admin
from bot.cards import REASONS, audit_lines, card, comment_arg
from bot.domain import Initiative, Status
from bot.errors import InvalidInput
from bot.i18n import Msg, Vnd
from bot.messages import Button, Reply, private_chat, rows
from bot.parsing import parse_money
from bot.reviewers import is_own_work, may_review, reviewers_for
from bot.textnorm import clean, display_name
from bot.turn import Turn
from bot.workflow import Action, council_outcome, next_status

SNAPSHOT_FIELDS = (
    "title",
    "category",
    "kind",
    "problem",
    "solution",
    "benefit",
    "benefit_vnd",
    "applied_since",
    "conditions",
    "confidential",
    "coauthors",  # with the author's own share: one step, one field on the card
    "attachments",
)
PROMPTS = {
    "as": "review.ask_scored",
    "rj": "review.ask_reason",
    "ch": "review.ask_changes",
    "apl": "review.ask_applied",
}
ASKED = {
    "as": Action.APPROVE,
    "rj": Action.REJECT,
    "ch": Action.REQUEST_CHANGES,
    "apl": Action.MARK_APPLIED,
}
_SCORES = re.compile(r"^\s*([1-5])\s*[/,; ]\s*([1-5])\s*[/,; ]\s*([1-5])\b[\s,.;:-]*(.*)$", re.S)


async def route(turn: Turn, item: Initiative) -> None:
    """Send the card to every reviewer of the initiative's review unit, and to its review group."""
    assert item.review_unit_id is not None
    await turn.tx.load_children(item)
    for grant in await reviewers_for(turn.tx, item.review_unit_id):
        if not is_own_work(grant.user, item):
            turn.notify(
                private_chat(grant.user.ref),
                grant.user.locale,
                await card(turn, item, grant.user.locale, media=True),
            )
    unit = await turn.tx.unit(item.review_unit_id)
    if unit and unit.review_chat:
        locale = turn.config.bot.locale
        turn.notify(unit.review_chat, locale, await card(turn, item, locale, media=True))


async def tell_author(turn: Turn, item: Initiative, comment: str | None, *, key: str = "notify.status") -> None:
    """Tell the author at once that the status changed (or that the initiative was recorded as
    applied, `key="notify.applied"`), with the reviewer's comment."""
    author = await turn.tx.user(item.author_id)
    if author is None or author.deleted:
        return
    buttons = [Button("button.open", cb.OpenInitiative(item.id).encode())]
    if item.status is Status.CHANGES_REQUESTED:
        buttons.insert(0, Button("button.revise", cb.Revise(item.id).encode()))
    unit = await turn.tx.unit(item.review_unit_id) if item.review_unit_id else None
    args = {
        "code": item.code or "",
        "title": item.title or "",
        "status": Msg(f"status.{item.status.value}"),
        "level": Msg(f"level.{item.recognised_level}") if item.recognised_level else "—",
        "unit": unit.name if unit else "—",
        "who": display_name(turn.user.full_name) or "—",
        "comment": Msg("notify.comment", {"comment": comment_arg(comment)}) if comment else "",
        "value": Msg("common.unquantified") if item.applied_benefit_vnd is None else Vnd(item.applied_benefit_vnd),
    }
    if key == "notify.status" and item.status is Status.APPROVED:
        key = "notify.recognised"  # congratulations
    turn.notify(private_chat(author.ref), author.locale, Reply(key, args, rows(*buttons)))


async def _item(turn: Turn, initiative_id: int) -> Initiative:
    """Load an initiative with its children (its row locked: decisions and votes serialise), or refuse."""
    item = await turn.tx.initiative(initiative_id, for_update=True)
    if item is None or item.status is Status.DRAFT:
        raise InvalidInput("error.stale_button")
    await turn.tx.load_children(item)
    return item


async def _guard(turn: Turn, item: Initiative) -> None:
    """Refuse anyone who may not review this initiative now."""
    if not await may_review(turn.tx, turn.user, item):
        key = "error.own_initiative" if is_own_work(turn.user, item) else "error.not_reviewer"
        turn.alert = key
        raise InvalidInput(key)


# what a reviewer holding an old card is told: the author's own moves are not "handled by" anyone
STALE_BY_ACTION = {
    Action.RESUBMIT.value: "review.stale_resubmitted",
    Action.WITHDRAW.value: "review.stale_withdrawn",
}


async def stale(turn: Turn, item: Initiative) -> list[Reply]:
    """Say who changed the initiative last and when, and refresh the card."""
    entries = await turn.tx.audit(item.id)
    last = entries[-1] if entries else None
    args = {
        "who": display_name(last.actor_name if last else None) or Msg("common.system"),
        "when": turn.local_time(last.created_at) if last else "—",
        "status": Msg(f"status.{item.status.value}"),
    }
    key = STALE_BY_ACTION.get(last.action if last else "", "review.stale")
    turn.alert = "review.stale_alert" if key == "review.stale" else "review.stale_alert_author"
    return [Reply(key, args), await card(turn, item, turn.user.locale, edit=True)]


async def press(turn: Turn, call: cb.ReviewAction, *, in_group: bool) -> list[Reply]:
    """A button on a card (in a private chat or the unit's review group)."""
    item = await _item(turn, call.initiative)
    await _guard(turn, item)
    act, version = call.act, call.version
    if act == "dt":
        entries = await turn.tx.audit(item.id)
        back = Button("review.back_to_card", cb.ShowCard(item.id).encode())
        return [
            Reply(
                "card.details",
                {"code": item.code or "", "lines": audit_lines(entries, turn)},
                rows(back),
            )
        ]
    if version != item.version:
        return await stale(turn, item)
    if act == "ap":
        return await decide(turn, item, Action.APPROVE, comment=None, scores=None)
    if act == "fw":
        return await forward(turn, item)
    if act not in PROMPTS:
        raise InvalidInput("error.stale_button")
    next_status(item.status, ASKED[act])  # refuse now, not after the reviewer has typed
    turn.user.awaiting = f"{act}:{item.id}:{item.version}"
    ask = question(item, act)
    if in_group:
        turn.notify(private_chat(turn.user.ref), turn.user.locale, ask)
        turn.alert = "review.answer_in_private"
        return []
    return [ask]


def question(item: Initiative, act: str) -> Reply:
    """The question a reviewer answers by typing (with the common reasons for a rejection)."""
    buttons: tuple[tuple[Button, ...], ...] = ()
    if act == "rj":
        buttons = rows(
            *(Button(f"reason.{r}", cb.RejectReason(item.id, item.version, i).encode()) for i, r in enumerate(REASONS))
        )
    return Reply(PROMPTS[act], {"code": item.code or ""}, buttons)


async def ask_again(turn: Turn) -> list[Reply]:
    """Repeat the reviewer's pending question after an answer that was refused; forget a
    question whose card has moved on or that the person may no longer answer."""
    act, _, rest = (turn.user.awaiting or "").partition(":")
    item_id, _, version = rest.partition(":")
    item = await turn.tx.initiative(int(item_id)) if item_id.isdigit() else None
    if item is not None:
        await turn.tx.load_children(item)
    if (
        item is None
        or act not in PROMPTS
        or str(item.version) != version
        or not await may_review(turn.tx, turn.user, item)
    ):
        turn.user.awaiting = None
        return []
    return [question(item, act)]


async def press_reason(turn: Turn, call: cb.RejectReason) -> list[Reply]:
    """A common rejection reason picked from the buttons."""
    item = await _item(turn, call.initiative)
    await _guard(turn, item)
    index = call.reason
    if index >= len(REASONS):
        raise InvalidInput("error.stale_button")
    if call.version != item.version:
        return await stale(turn, item)
    turn.user.awaiting = None
    return await decide(turn, item, Action.REJECT, comment=f"#{REASONS[index]}", scores=None)


async def answer(turn: Turn, text: str) -> list[Reply]:
    """The text a reviewer was asked for: scores and comment, a reason, changes, a benefit."""
    act, item_id, version = (turn.user.awaiting or "::").split(":")
    item = await _item(turn, int(item_id))
    await _guard(turn, item)
    if int(version) != item.version:
        turn.user.awaiting = None
        return await stale(turn, item)
    value = clean(text)
    if not value:
        raise InvalidInput("error.empty")
    if len(value) > turn.config.bot.field_max:
        raise InvalidInput("error.too_long", limit=turn.config.bot.field_max, length=len(value))
    if act == "apl":
        return await mark_applied(turn, item, parse_money(value).vnd)
    scores = None
    if act == "as":
        match = _SCORES.match(value)
        if not match:
            raise InvalidInput("error.scores")
        scores, value = "/".join(match.groups()[:3]), clean(match.group(4))
    turn.user.awaiting = None
    action = {"as": Action.APPROVE, "rj": Action.REJECT, "ch": Action.REQUEST_CHANGES}[act]
    return await decide(turn, item, action, comment=value or None, scores=scores)


async def decide(
    turn: Turn, item: Initiative, action: Action, *, comment: str | None, scores: str | None
) -> list[Reply]:
    """Record a decision (or a council vote), guarded so exactly one decision wins."""
    next_status(item.status, action)  # refused before a council vote is stored
    unit = await turn.tx.unit(item.review_unit_id or 0)
    taken = action
    if unit is not None and unit.council and action in (Action.APPROVE, Action.REJECT):
        if not await turn.tx.add_vote(item.id, item.review_round, turn.user.id, action.value, comment, now=turn.now):
            turn.alert = "error.already_voted"
            raise InvalidInput("error.already_voted")
        votes = await turn.tx.votes_of(item.id, item.review_round)
        approvals = sum(v.vote == Action.APPROVE.value for v in votes)
        await turn.tx.load_children(item)
        members = await reviewers_for(turn.tx, unit.id)
        council = sum(not is_own_work(grant.user, item) for grant in members)  # authors cannot vote
        taken = council_outcome(approvals, len(votes) - approvals, council=council, quorum=unit.quorum) or Action.VOTE
    if taken is Action.REJECT and item.recognised_level is not None:
        taken = Action.DECLINE  # forwarded up after recognition: the lower recognition stands
    before, expected = item.status, item.version
    item.status = next_status(item.status, taken)
    if taken is not Action.VOTE:  # a vote that decides nothing leaves the others' cards valid
        item.version += 1
    if taken in (Action.APPROVE, Action.REJECT):
        item.decided_at, item.decided_by = turn.now, turn.user.id
        if taken is Action.APPROVE:
            item.recognised_level = item.review_level
    if taken is Action.REQUEST_CHANGES:
        item.snapshot = json.dumps(await _snapshot(turn, item), ensure_ascii=False)
    recorded = action if taken is Action.VOTE else taken
    if not await _commit(turn, item, recorded, before, expected, comment=comment, scores=scores):
        return await stale(turn, await _item(turn, item.id))
    if taken is not Action.VOTE:
        await tell_author(turn, item, comment, key="notify.declined" if taken is Action.DECLINE else "notify.status")
    return [
        Reply(f"review.done_{taken.value}", {"code": item.code or ""}),
        await card(turn, item, turn.user.locale, edit=True),
    ]


async def _commit(
    turn: Turn,
    item: Initiative,
    action: Action,
    before: Status,
    expected: int,
    *,
    comment: str | None = None,
    scores: str | None = None,
) -> bool:
    """Store the initiative if nobody changed it since version `expected`, and log the action; else False."""
    if not await turn.tx.save_if_unchanged(item, expected_version=expected, now=turn.now):
        return False
    await turn.log_action(item, action.value, before.value, comment=comment, scores=scores)
    return True


async def forward(turn: Turn, item: Initiative) -> list[Reply]:
    """Send the initiative to the direct upper unit's reviewers."""
    chain = await turn.tx.unit_chain(item.review_unit_id or 0)
    if len(chain) < 2:
        raise InvalidInput("error.no_upper_unit")
    upper = chain[1]
    before, expected = item.status, item.version
    item.status = next_status(item.status, Action.FORWARD)
    item.review_unit_id, item.review_level = upper.id, upper.level
    item.queued_at, item.changed_fields = turn.now, None
    item.review_round += 1
    item.version += 1
    if not await _commit(turn, item, Action.FORWARD, before, expected):
        return await stale(turn, await _item(turn, item.id))
    await tell_author(turn, item, None)
    await route(turn, item)
    return [Reply("review.done_forward", {"code": item.code or "", "unit": upper.name})]


async def mark_applied(turn: Turn, item: Initiative, benefit_vnd: int | None) -> list[Reply]:
    """Record that a recognised initiative is applied, with the benefit measured."""
    before, expected = item.status, item.version
    item.status = next_status(item.status, Action.MARK_APPLIED)
    item.applied_at, item.applied_benefit_vnd = turn.now, benefit_vnd
    item.version += 1
    turn.user.awaiting = None
    comment = None if benefit_vnd is None else str(benefit_vnd)
    if not await _commit(turn, item, Action.MARK_APPLIED, before, expected, comment=comment):
        return await stale(turn, await _item(turn, item.id))
    await tell_author(turn, item, None, key="notify.applied")
    return [
        Reply("review.done_mark_applied", {"code": item.code or ""}),
        await card(turn, item, turn.user.locale),
    ]


async def _snapshot(turn: Turn, item: Initiative) -> dict[str, str]:
    """The fields an author may change during a revision, as text to compare (children included)."""
    await turn.tx.load_children(item)
    values = {name: getattr(item, name) for name in SNAPSHOT_FIELDS}
    values["coauthors"] = [item.author_percent, *((c.name, c.percent) for c in item.coauthors)]
    values["attachments"] = sorted(a.file_unique_id for a in item.attachments)
    return {name: str(value) for name, value in values.items()}


async def resubmit(turn: Turn, item: Initiative) -> list[Reply]:
    """The author sends a revised initiative back to the same reviewers, changes marked."""
    before = item.status
    previous, now = json.loads(item.snapshot or "{}"), await _snapshot(turn, item)
    item.changed_fields = ",".join(n for n in SNAPSHOT_FIELDS if previous.get(n) != now[n]) or None
    item.status = next_status(item.status, Action.RESUBMIT)
    item.step, item.editing, item.snapshot = "done", False, None
    item.review_round += 1
    item.version += 1
    await turn.tx.save_initiative(item, now=turn.now)
    await turn.log_action(item, Action.RESUBMIT.value, before.value)
    await route(turn, item)
    return [
        Reply(
            "review.resubmitted",
            {"code": item.code or ""},
            rows(Button("button.open", cb.OpenInitiative(item.id).encode())),
        )
    ]


async def open_card(turn: Turn, item: Initiative) -> list[Reply]:
    """Show an initiative's card to one of its reviewers, or to an admin (who sees every queue; the
    buttons still answer only its reviewers)."""
    await turn.tx.load_children(item)
    if not is_admin(turn):
        await _guard(turn, item)
    return [await card(turn, item, turn.user.locale, media=True)]
