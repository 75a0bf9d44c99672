"""The review workflow as one transition table: which action leads from which status to which."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bot.domain import Status
from bot.errors import InvalidInput
from bot.i18n import Msg


class Action(StrEnum):
    """Everything that can happen to an initiative from its submission on."""

    SUBMIT = "submit"
    VOTE = "vote"  # a council member's vote that does not yet decide
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    FORWARD = "forward"
    MARK_APPLIED = "mark_applied"
    DECLINE = "decline"  # an upper level does not recognise it again: the earlier recognition stands


# Waiting for its first decision at a unit (the author may still withdraw it).
UNDECIDED = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.RESUBMITTED})
# Waiting for a reviewer (queues, digests): undecided, or recognised below and nominated up.
OPEN = UNDECIDED | {Status.NOMINATED}
# Recognised at some level: counted, never withdrawn, can be marked applied.
RECOGNISED = frozenset({Status.APPROVED, Status.NOMINATED})
# What a council decides by vote (in single mode, one reviewer's press).
DECISIONS = (Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES, Action.FORWARD)

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    **{(s, Action.VOTE): Status.IN_REVIEW for s in UNDECIDED},
    **{(s, Action.VOTE): s for s in RECOGNISED},  # a council voting to forward a recognised initiative
    **{(s, Action.APPROVE): Status.APPROVED for s in OPEN},
    **{(s, Action.REJECT): Status.REJECTED for s in UNDECIDED},
    **{(s, Action.REQUEST_CHANGES): Status.CHANGES_REQUESTED for s in UNDECIDED},
    (Status.CHANGES_REQUESTED, Action.RESUBMIT): Status.RESUBMITTED,
    **{(s, Action.WITHDRAW): Status.WITHDRAWN for s in (*UNDECIDED, Status.CHANGES_REQUESTED)},
    # Forward: an undecided initiative goes up because the unit cannot decide (submitted there);
    # a recognised one is nominated to be recognised again, keeping the recognition it has.
    **{(s, Action.FORWARD): Status.SUBMITTED for s in UNDECIDED},
    **{(s, Action.FORWARD): Status.NOMINATED for s in RECOGNISED},
    **{(s, Action.MARK_APPLIED): s for s in RECOGNISED},
    # Refusing an initiative recognised below declines to recognise it again: the recognition stands.
    (Status.NOMINATED, Action.DECLINE): Status.APPROVED,
}


class TransitionRefused(InvalidInput):
    """The action is not allowed from the initiative's current status (the user is told so)."""


def next_status(current: Status, action: Action) -> Status:
    """Return the status `action` leads to from `current`, or raise TransitionRefused."""
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise TransitionRefused(
            "error.transition",
            status=Msg(f"status.{current.value}"),
            action=Msg(f"action.{action.value}"),
        )
    return target


def allowed_actions(current: Status) -> list[Action]:
    """Return the actions possible from `current`, in table order."""
    return [action for (status, action) in TRANSITIONS if status is current]


def may(current: Status, action: Action) -> bool:
    """True when `action` is allowed from `current`."""
    return (current, action) in TRANSITIONS


def refusal(current: Status) -> Action:
    """What a reviewer's "not recognised" means: a rejection, or declining to recognise it again."""
    return Action.DECLINE if current is Status.NOMINATED else Action.REJECT


def council_outcome(votes: Mapping[Action, int], *, council: int, quorum: int) -> Action | None:
    """A council's decision: the choice with a quorum of votes cast and ≥ 2/3 of them; not
    recognised (reject) once no choice can reach 2/3 any more; None while it is still open."""
    cast = sum(votes.values())
    remaining = max(council - cast, 0)
    for choice in DECISIONS:
        if cast >= quorum and 3 * votes.get(choice, 0) >= 2 * cast:
            return choice
    reachable = any(3 * (votes.get(c, 0) + remaining) >= 2 * (cast + remaining) for c in DECISIONS)
    if not reachable or (remaining == 0 and cast >= quorum):
        return Action.REJECT
    return None
