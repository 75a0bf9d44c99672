"""Reviewing in chat: decisions, council votes, forwarding upward, telling everyone concerned."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from bot import callbacks as cb
from bot import council, live_cards
from bot.admin import is_admin
from bot.cards import REASONS, applied_comment, audit_lines, card, comment_arg, who
from bot.domain import Initiative, Status, Tally, Unit
from bot.errors import InvalidInput
from bot.forwarders import tell_below
from bot.i18n import Msg, Vnd
from bot.messages import Button, Reply, private_chat, rows
from bot.parsing import AppliedSince, parse_applied_since, parse_money
from bot.reviewers import is_own_work, may_review, reviewers_for, reviewers_of_chain
from bot.textnorm import clean, display_name
from bot.turn import Turn
from bot.views import applied_arg
from bot.workflow import Action, next_status, refusal

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
    "apl": "review.ask_applied_since",
    "apv": "review.ask_applied",
}
ASKED = {
    "as": Action.APPROVE,
    "rj": Action.REJECT,
    "ch": Action.REQUEST_CHANGES,
    "apl": Action.MARK_APPLIED,
    "apv": Action.MARK_APPLIED,
}
VOTED = ("as", "rj", "ch")  # questions whose answer is a council member's vote
_SCORES = re.compile(r"^\s*([1-5])\s*[/,; ]\s*([1-5])\s*[/,; ]\s*([1-5])\b[\s,.;:-]*(.*)$", re.S)
NOTICES = {
    Action.APPROVE: "notify.recognised",
    Action.DECLINE: "notify.declined",
    Action.FORWARD: "notify.forwarded",
    Action.MARK_APPLIED: "notify.applied",
}


async def route(turn: Turn, item: Initiative) -> None:
    """Send the card to every reviewer of the initiative's review unit, and to its review group."""
    assert item.review_unit_id is not None
    await turn.tx.load_children(item)
    chain = await turn.tx.unit_chain(item.review_unit_id)
    for grant in await reviewers_of_chain(turn.tx, item.review_unit_id, chain):
        if not is_own_work(grant.user, item):
            turn.notify(
                private_chat(grant.user.ref),
                grant.user.locale,
                await card(turn, item, grant.user.locale, media=True),
            )
    unit = chain[0] if chain else None
    if unit and unit.review_chat:
        locale = turn.config.bot.locale
        turn.notify(unit.review_chat, locale, await card(turn, item, locale, media=True, private=False))


async def tell_author(
    turn: Turn, item: Initiative, taken: Action, *, who: Any = None, comment: Any = None, scored: Any = ""
) -> None:
    """Tell the author at once what happened (`who`: the council and its tally, else this person;
    `scored`: the council's scores)."""
    author = await turn.tx.user(item.author_id)
    if author is None or author.deleted:
        return
    buttons = [Button("button.open", cb.OpenInitiative(item.id).encode())]
    if item.status is Status.CHANGES_REQUESTED:
        buttons.insert(0, Button("button.revise", cb.Revise(item.id).encode()))
    unit = await turn.tx.unit(item.review_unit_id) if item.review_unit_id else None
    if isinstance(comment, str):
        comment = comment_arg(comment)
    level = Msg(f"level.{item.recognised_level}") if item.recognised_level else None
    args = {
        "code": item.code or "",
        "title": item.title or "",
        "status": Msg(f"status.{item.status.value}"),
        "level": level or "—",
        "unit": unit.name if unit else "—",
        "who": who or display_name(turn.user.full_name) or "—",
        "comment": Msg("notify.comment", {"comment": comment}) if comment else "",
        "kept": Msg("notify.kept", {"level": level}) if level else "",
        "since": applied_arg(item),
        "value": Msg("common.unquantified") if item.applied_benefit_vnd is None else Vnd(item.applied_benefit_vnd),
        "scored": scored,
    }
    key = NOTICES.get(taken, "notify.status")
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


async def _may_act(turn: Turn, item: Initiative) -> bool:
    """True when this person may act on the initiative; False when they may only read it (a
    reviewer of the author's unit once it went up); refused otherwise."""
    if await may_review(turn.tx, turn.user, item):
        return True
    home = await reviewers_for(turn.tx, item.unit_id) if item.unit_id and not is_own_work(turn.user, item) else []
    if any(grant.user.id == turn.user.id for grant in home):
        return False
    await _guard(turn, item)  # raises
    return False


async def stale(turn: Turn, item: Initiative) -> list[Reply]:
    """Say who changed the initiative last and when, and refresh the card."""
    entries = await turn.tx.audit(item.id)
    last = entries[-1] if entries else None
    args = {
        "who": who(last) if last else Msg("common.system"),
        "when": turn.local_time(last.created_at) if last else "—",
        "status": Msg(f"status.{item.status.value}"),
    }
    key = STALE_BY_ACTION.get(last.action if last else "", "review.stale")
    turn.alert = "review.stale_alert" if key == "review.stale" else "review.stale_alert_author"
    acting = await may_review(turn.tx, turn.user, item)
    return [Reply(key, args), await card(turn, item, turn.user.locale, edit=True, acting=acting)]


async def press(turn: Turn, call: cb.ReviewAction, *, in_group: bool) -> list[Reply]:
    """A button on a card (in a private chat or the unit's review group)."""
    item = await _item(turn, call.initiative)
    act, version = call.act, call.version
    if act == "dt":
        await _may_act(turn, item)
        entries = await turn.tx.audit(item.id)
        back = Button("review.back_to_card", cb.ShowCard(item.id).encode())
        return [Reply("card.details", {"code": item.code or "", "lines": audit_lines(entries, turn)}, rows(back))]
    await _guard(turn, item)
    if version != item.version:
        return await stale(turn, item)
    if act == "ap":
        return await decide(turn, item, Action.APPROVE, comment=None, scores=None, in_group=in_group)
    if act == "fw":
        return await decide(turn, item, Action.FORWARD, comment=None, scores=None, in_group=in_group)
    if act not in PROMPTS:
        raise InvalidInput("error.stale_button")
    action = ASKED[act]
    next_status(item.status, refusal(item.status) if action is Action.REJECT else action)  # refuse before typing
    if act in VOTED and await _council(turn, item) and await council.has_voted(turn, item):
        council.refuse_second_vote(turn)
    turn.user.awaiting = f"{act}:{item.id}:{item.version}"
    ask = question(item, act)
    if in_group:
        turn.notify(private_chat(turn.user.ref), turn.user.locale, ask)
        turn.alert = "review.answer_in_private"
        return []
    return [ask]


def question(item: Initiative, act: str) -> Reply:
    """The question a reviewer answers by typing (with the common reasons for a rejection, the
    author's date to confirm for an application), always with a way back to the card."""
    buttons: list[Button] = []
    given = item.applied_since
    if act == "rj":
        buttons = [
            Button(f"reason.{r}", cb.RejectReason(item.id, item.version, i).encode()) for i, r in enumerate(REASONS)
        ]
    if act == "apl" and given:
        data = cb.AppliedAsGiven(item.id, item.version, int(f"{given:%Y%m%d}")).encode()
        buttons = [Button("review.applied_as_given", data, {"when": applied_arg(item)})]
    buttons.append(Button("review.cancel_question", cb.CancelQuestion(item.id).encode()))
    key = f"{PROMPTS[act]}_given" if act == "apl" and given else PROMPTS[act]
    return Reply(key, {"code": item.code or "", "when": applied_arg(item)}, rows(*buttons), question=True)


def _pending(awaiting: str | None) -> tuple[str, int, int, str]:
    """The reviewer's pending question: what was asked, of which initiative and card version, and
    what was already answered (the date applied, before its benefit is asked)."""
    act, item_id, version, given, *_ = (*(awaiting or "").split(":"), "", "", "", "")
    if not (item_id.isdigit() and version.isdigit()) or act not in PROMPTS:
        return "", 0, 0, ""
    return act, int(item_id), int(version), given


async def ask_again(turn: Turn) -> list[Reply]:
    """Repeat the reviewer's pending question after an answer that was refused; forget a
    question whose card has moved on or that the person may no longer answer."""
    act, item_id, version, _ = _pending(turn.user.awaiting)
    item = await turn.tx.initiative(item_id) if act else None
    if item is not None:
        await turn.tx.load_children(item)
    if item is None or item.version != version or not await may_review(turn.tx, turn.user, item):
        turn.user.awaiting = None
        return []
    return [question(item, act)]


async def cancel_question(turn: Turn, initiative_id: int) -> list[Reply]:
    """The reviewer leaves the question unanswered: nothing changes, the card is shown again."""
    turn.user.awaiting = None
    item = await _item(turn, initiative_id)
    await _guard(turn, item)
    return [Reply("review.cancelled"), await card(turn, item, turn.user.locale)]


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


async def press_applied_since(turn: Turn, call: cb.AppliedAsGiven) -> list[Reply]:
    """The reviewer confirms the date the author gave as the day it was first applied."""
    item = await _item(turn, call.initiative)
    await _guard(turn, item)
    if call.version != item.version:
        return await stale(turn, item)
    if item.applied_since is None or call.day != int(f"{item.applied_since:%Y%m%d}"):
        raise InvalidInput("error.stale_button")
    return _ask_benefit(turn, item, AppliedSince(item.applied_since, item.applied_month_only))


def _ask_benefit(turn: Turn, item: Initiative, since: AppliedSince) -> list[Reply]:
    """Keep the date applied (a day, or a month: `2025-03`) and ask for the benefit measured."""
    next_status(item.status, Action.MARK_APPLIED)
    assert since.day is not None
    given = f"{since.day:%Y-%m}" if since.month_only else since.day.isoformat()
    turn.user.awaiting = f"apv:{item.id}:{item.version}:{given}"
    return [question(item, "apv")]


async def answer(turn: Turn, text: str) -> list[Reply]:
    """The text a reviewer was asked for: scores and comment, a reason, changes, a date, a benefit."""
    act, item_id, version, given = _pending(turn.user.awaiting)
    if not act:
        turn.user.awaiting = None
        raise InvalidInput("error.stale_button")
    item = await _item(turn, item_id)
    await _guard(turn, item)
    if version != item.version:
        turn.user.awaiting = None
        return await stale(turn, item)
    value = clean(text)
    if not value:
        raise InvalidInput("error.empty")
    if len(value) > turn.config.bot.field_max:
        raise InvalidInput("error.too_long", limit=turn.config.bot.field_max, length=len(value))
    if act == "apl":
        since = parse_applied_since(value, today=turn.today)
        if since.day is None:
            raise InvalidInput("error.applied_since_needed")
        return _ask_benefit(turn, item, since)
    if act == "apv":
        month_only = len(given) == len("2025-03")
        day = date.fromisoformat(f"{given}-01" if month_only else given)
        return await mark_applied(turn, item, AppliedSince(day, month_only), parse_money(value).vnd)
    scores = None
    if act == "as":
        match = _SCORES.match(value)
        if not match:
            raise InvalidInput("error.scores")
        scores, value = "/".join(match.groups()[:3]), clean(match.group(4))
    turn.user.awaiting = None
    return await decide(turn, item, ASKED[act], comment=value or None, scores=scores)


async def _council(turn: Turn, item: Initiative) -> Unit | None:
    """The unit reviewing `item` when it decides as a council, else None."""
    unit = await turn.tx.unit(item.review_unit_id or 0)
    return unit if unit is not None and unit.council else None


async def decide(
    turn: Turn,
    item: Initiative,
    action: Action,
    *,
    comment: str | None,
    scores: str | None,
    in_group: bool = False,
) -> list[Reply]:
    """Record a decision, or in council mode a vote (which decides once the council has), guarded
    so exactly one decision wins."""
    if action is Action.REJECT:
        action = refusal(item.status)
    next_status(item.status, action)  # refused before a council vote is stored
    if action is Action.FORWARD:
        await _upper(turn, item)  # refused before a vote for it is stored
    unit = await _council(turn, item)
    if unit is None:
        return await _apply(turn, item, action, comment=comment, scores=scores, in_group=in_group)
    ballot = await council.cast(turn, item, unit, action, comment, scores)
    before, expected = item.status, item.version
    item.status = next_status(before, Action.VOTE)
    if ballot.decided is None:  # a vote that decides nothing leaves the others' cards valid
        if not await _commit(turn, item, action, before, expected, comment=comment, scores=scores):
            return await stale(turn, await _item(turn, item.id))
        if not in_group:  # pressed in the group, its card is the answer's to edit
            await live_cards.show_in_group(turn, item, unit)
        return [
            Reply("review.done_vote", {"code": item.code or ""}),
            await card(turn, item, turn.user.locale, edit=True, private=not in_group),
        ]
    await turn.log_action(item, action.value, before.value, comment=comment, scores=scores)  # the deciding vote
    taken = refusal(item.status) if ballot.decided is Action.REJECT else ballot.decided
    verdict = council.verdict(ballot, taken)
    replies = await _apply(
        turn, item, taken, comment=None, scores=verdict.scores, in_group=in_group, expected=expected, verdict=verdict
    )
    if replies[0].key == "review.stale":
        return replies
    result = council.tell_members(turn, item, ballot, verdict, in_group=in_group)
    return [Reply("review.done_vote", {"code": item.code or ""}), result, *replies[1:]]


async def _upper(turn: Turn, item: Initiative) -> Unit:
    """The direct upper unit of the reviewing unit, or refuse."""
    chain = await turn.tx.unit_chain(item.review_unit_id or 0)
    if len(chain) < 2:
        raise InvalidInput("error.no_upper_unit")
    return chain[1]


async def _apply(
    turn: Turn,
    item: Initiative,
    taken: Action,
    *,
    comment: str | None,
    scores: str | None,
    in_group: bool,
    expected: int | None = None,
    verdict: council.Verdict | None = None,
) -> list[Reply]:
    """Store a decision (one reviewer's, or the council's `verdict`), tell the author, and send a
    forwarded initiative on to the upper unit's reviewers."""
    before, decided_at = item.status, item.review_unit_id or 0
    expected = item.version if expected is None else expected
    reviewing = await turn.tx.unit(item.review_unit_id or 0)
    upper = await _upper(turn, item) if taken is Action.FORWARD else None
    item.status = next_status(before, taken)
    item.version += 1
    if taken in (Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES):
        item.decided_at, item.decided_by = turn.now, turn.user.id
    if taken is Action.APPROVE:
        item.recognised_level = item.review_level
    if taken is Action.REQUEST_CHANGES:
        item.snapshot = json.dumps(await _snapshot(turn, item), ensure_ascii=False)
    if upper is not None:
        item.review_unit_id, item.review_level = upper.id, upper.level
        item.queued_at, item.changed_fields = turn.now, None
    if upper is not None or verdict is not None:
        item.review_round += 1  # the next decision (at the upper unit, or the council's next) is voted anew
    tally = verdict.tally if verdict else None
    if not await _commit(turn, item, taken, before, expected, comment=comment, scores=scores, tally=tally):
        return await stale(turn, await _item(turn, item.id))
    await live_cards.settle(turn, item, reviewing, in_group=in_group)
    if verdict is None:
        await tell_author(turn, item, taken, comment=comment)
        by: Any
        by, said = display_name(turn.user.full_name) or "—", comment
    else:
        await tell_author(turn, item, taken, who=verdict.by, comment=verdict.comments, scored=verdict.scored)
        by, said = verdict.by, verdict.comments
    await tell_below(turn, item, taken, decided_at=decided_at, who=by, comment=said)
    if upper is not None:
        await route(turn, item)
        done = Reply("review.done_forward", {"code": item.code or "", "unit": upper.name})
    else:
        done = Reply(f"review.done_{taken.value}", {"code": item.code or ""})
    return [done, await card(turn, item, turn.user.locale, edit=True, private=not in_group, acting=upper is None)]


async def _commit(
    turn: Turn,
    item: Initiative,
    action: Action,
    before: Status,
    expected: int,
    *,
    comment: str | None = None,
    scores: str | None = None,
    tally: Tally | None = None,
) -> bool:
    """Store the initiative if nobody changed it since version `expected`, and log the action (a
    council's decision with its `tally`); else False."""
    if not await turn.tx.save_if_unchanged(item, expected_version=expected, now=turn.now):
        return False
    await turn.log_action(item, action.value, before.value, comment=comment, scores=scores, tally=tally)
    return True


async def mark_applied(turn: Turn, item: Initiative, since: AppliedSince, benefit_vnd: int | None) -> list[Reply]:
    """Record that a recognised initiative is applied: since the day confirmed, with the benefit measured."""
    before, expected = item.status, item.version
    item.status = next_status(item.status, Action.MARK_APPLIED)
    item.applied_at, item.applied_benefit_vnd = turn.now, benefit_vnd
    item.applied_since, item.applied_month_only = since.day, since.month_only
    item.version += 1
    turn.user.awaiting = None
    comment = applied_comment(since, benefit_vnd)
    if not await _commit(turn, item, Action.MARK_APPLIED, before, expected, comment=comment):
        return await stale(turn, await _item(turn, item.id))
    await tell_author(turn, item, Action.MARK_APPLIED)
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
    """Show an initiative's card to one of its reviewers (read-only to the reviewers of the
    author's unit once it went up, and to an admin who does not review it: admins see every queue),
    without sending its files again."""
    await turn.tx.load_children(item)
    if is_admin(turn) and not await may_review(turn.tx, turn.user, item):
        acting = False
    else:
        acting = await _may_act(turn, item)
    return [await card(turn, item, turn.user.locale, acting=acting)]
