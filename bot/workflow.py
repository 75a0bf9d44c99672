"""The review workflow as one transition table: which action leads from which status to which."""

from __future__ import annotations

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


OPEN = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.RESUBMITTED})

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    **{(s, Action.VOTE): Status.IN_REVIEW for s in OPEN},
    **{(s, Action.APPROVE): Status.APPROVED for s in OPEN},
    **{(s, Action.REJECT): Status.REJECTED for s in OPEN},
    **{(s, Action.REQUEST_CHANGES): Status.CHANGES_REQUESTED for s in OPEN},
    (Status.CHANGES_REQUESTED, Action.RESUBMIT): Status.RESUBMITTED,
    **{(s, Action.WITHDRAW): Status.WITHDRAWN for s in (*OPEN, Status.CHANGES_REQUESTED)},
    # Forward: a recognised initiative goes up to be recognised again, or an undecided one goes
    # up because the unit cannot decide; either way it waits at the upper level as submitted.
    **{(s, Action.FORWARD): Status.SUBMITTED for s in (*OPEN, Status.APPROVED)},
    (Status.APPROVED, Action.MARK_APPLIED): Status.APPROVED,
    # Refusing an initiative recognised below (forwarded up) declines to recognise it again.
    **{(s, Action.DECLINE): Status.APPROVED for s in OPEN},
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


def council_outcome(approvals: int, rejections: int, *, council: int, quorum: int) -> Action | None:
    """Council decision: approve with a quorum and ≥ 2/3 of votes cast; reject once out of reach."""
    cast = approvals + rejections
    remaining = max(council - cast, 0)
    if cast >= quorum and 3 * approvals >= 2 * cast:
        return Action.APPROVE
    if 3 * (approvals + remaining) < 2 * (cast + remaining) or (remaining == 0 and cast >= quorum):
        return Action.REJECT
    return None
