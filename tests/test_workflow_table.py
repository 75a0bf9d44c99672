"""The review workflow's transition table, checked exhaustively, and the council's 2/3 rule."""

from __future__ import annotations

import itertools

import pytest

from bot.domain import Status
from bot.workflow import TRANSITIONS, Action, TransitionRefused, allowed_actions, council_outcome
from bot.workflow import next_status as step

S, A = Status, Action

# Written out by hand from the issue, independently of bot/workflow.py.
OPEN_MOVES = {
    A.VOTE: S.IN_REVIEW,
    A.APPROVE: S.APPROVED,
    A.REJECT: S.REJECTED,
    A.REQUEST_CHANGES: S.CHANGES_REQUESTED,
    A.WITHDRAW: S.WITHDRAWN,
    A.FORWARD: S.SUBMITTED,
}
EXPECTED: dict[Status, dict[Action, Status]] = {
    S.DRAFT: {A.SUBMIT: S.SUBMITTED},
    S.SUBMITTED: OPEN_MOVES,
    S.IN_REVIEW: OPEN_MOVES,
    S.RESUBMITTED: OPEN_MOVES,
    S.CHANGES_REQUESTED: {A.RESUBMIT: S.RESUBMITTED, A.WITHDRAW: S.WITHDRAWN},
    S.APPROVED: {A.VOTE: S.APPROVED, A.FORWARD: S.NOMINATED, A.MARK_APPLIED: S.APPROVED},
    # recognised below, under review above: never withdrawn, never sent back, never rejected
    S.NOMINATED: {
        A.VOTE: S.NOMINATED,
        A.APPROVE: S.APPROVED,
        A.DECLINE: S.APPROVED,
        A.FORWARD: S.NOMINATED,
        A.MARK_APPLIED: S.NOMINATED,
    },
    S.REJECTED: {},
    S.WITHDRAWN: {},
}
PAIRS = list(itertools.product(Status, Action))


def test_expected_table_names_every_status() -> None:
    assert set(EXPECTED) == set(Status)


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_status_and_action_pair_moves_as_the_table_says_or_is_refused(status: Status, action: Action) -> None:
    target = EXPECTED[status].get(action)
    if target is None:
        with pytest.raises(TransitionRefused) as refused:
            step(status, action)
        assert refused.value.key == "error.transition"
        assert refused.value.args_["status"].key == f"status.{status.value}"
        assert refused.value.args_["action"].key == f"action.{action.value}"
    else:
        assert step(status, action) is target


def test_the_table_holds_exactly_the_expected_moves() -> None:
    expected = {(s, a): t for s, moves in EXPECTED.items() for a, t in moves.items()}
    assert expected == TRANSITIONS


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_are_the_table_rows_of_a_status(status: Status) -> None:
    assert set(allowed_actions(status)) == set(EXPECTED[status])


def test_closed_statuses_allow_nothing() -> None:
    for status in (S.REJECTED, S.WITHDRAWN):
        assert allowed_actions(status) == []


def test_a_draft_can_only_be_submitted() -> None:
    assert allowed_actions(S.DRAFT) == [A.SUBMIT]


@pytest.mark.parametrize(
    ("approvals", "rejections", "council", "quorum", "outcome"),
    [
        # quorum not reached: wait, even when every vote so far is in favour
        (1, 0, 3, 2, None),
        (2, 0, 5, 3, None),
        (0, 0, 3, 2, None),
        # quorum reached with at least 2/3 in favour: recognised
        (2, 0, 3, 2, A.APPROVE),
        (2, 1, 3, 2, A.APPROVE),
        (4, 2, 7, 5, A.APPROVE),
        (3, 0, 3, 3, A.APPROVE),
        # 2/3 still within reach: wait
        (0, 1, 3, 2, None),
        (1, 1, 3, 2, None),
        (1, 1, 5, 3, None),
        (2, 1, 5, 3, A.APPROVE),  # 2 of the 3 votes cast, quorum 3
        # 2/3 out of reach even if everyone left approves: rejected at once
        (0, 2, 3, 2, A.REJECT),
        (0, 2, 5, 2, A.REJECT),
        (1, 3, 6, 2, A.REJECT),
        # everyone voted, quorum reached, less than 2/3 in favour: rejected
        (1, 2, 3, 2, A.REJECT),
        (2, 2, 4, 2, A.REJECT),
        (3, 2, 5, 5, A.REJECT),
    ],
)
def test_council_outcome(approvals: int, rejections: int, council: int, quorum: int, outcome: Action | None) -> None:
    votes = {A.APPROVE: approvals, A.REJECT: rejections}
    assert council_outcome(votes, council=council, quorum=quorum) is outcome


def test_exactly_two_thirds_is_enough() -> None:
    assert council_outcome({A.APPROVE: 2, A.REJECT: 1}, council=3, quorum=3) is A.APPROVE
    assert council_outcome({A.APPROVE: 5, A.REJECT: 3}, council=8, quorum=8) is A.REJECT  # 62.5 % < 2/3


@pytest.mark.parametrize(
    ("votes", "outcome"),
    [
        # requesting changes and forwarding are decided by the same rule as recognising
        ({A.REQUEST_CHANGES: 1}, None),
        ({A.REQUEST_CHANGES: 2}, A.REQUEST_CHANGES),
        ({A.REQUEST_CHANGES: 2, A.APPROVE: 1}, A.REQUEST_CHANGES),
        ({A.FORWARD: 1, A.APPROVE: 1}, None),
        ({A.FORWARD: 2, A.REJECT: 1}, A.FORWARD),
        # no choice reaches 2/3 of a full council: not recognised
        ({A.APPROVE: 1, A.REQUEST_CHANGES: 1, A.FORWARD: 1}, A.REJECT),
    ],
)
def test_every_council_decision_is_a_vote(votes: dict[Action, int], outcome: Action | None) -> None:
    assert council_outcome(votes, council=3, quorum=2) is outcome
