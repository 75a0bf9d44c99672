"""Council mode: every decision is a vote; the tally, the result, and every member told of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.cards import comment_arg, council_by, scored_arg, tally_arg, tally_choice
from bot.domain import Grant, Initiative, Tally, Unit, Vote
from bot.errors import InvalidInput
from bot.i18n import Lines, Msg
from bot.messages import Reply, private_chat
from bot.reviewers import is_own_work, reviewers_for
from bot.turn import Turn
from bot.views import literal
from bot.workflow import Action, council_outcome


@dataclass(frozen=True)
class Ballot:
    """The votes of the current round once one more was cast, and what they decide (None: open)."""

    unit: Unit
    votes: list[Vote]
    members: list[Grant]
    decided: Action | None

    def count(self, choice: Action) -> int:
        """Votes cast for `choice`."""
        return sum(v.vote == choice.value for v in self.votes)


@dataclass(frozen=True)
class Verdict:
    """A council's decision as it is stored and told: its count, its scores (the mean of the
    approving votes' scores, for a recognition), the comments of the votes for it."""

    decided: Action
    tally: Tally
    scores: str | None
    comments: Any

    @property
    def by(self) -> Msg:
        """Who decided: the council of the unit, with its tally."""
        return council_by(self.tally, self.decided.value)

    @property
    def scored(self) -> Any:
        """The council's scores as a block of a message, or ''."""
        return scored_arg(self.scores, self.tally)


def mean_scores(votes: list[Vote]) -> tuple[str | None, int]:
    """The council's scores: per criterion, the mean of the approving votes that gave scores,
    rounded half up to one decimal ("4.5/4/3.5"); and how many votes that is (None, 0: none scored)."""
    given = [v.scores.split("/") for v in votes if v.vote == Action.APPROVE.value and v.scores]
    if not given:
        return None, 0
    means = (sum((Decimal(s[i]) for s in given), Decimal(0)) / len(given) for i in range(3))
    rounded = (m.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) for m in means)
    return "/".join(str(int(m)) if m == m.to_integral_value() else str(m) for m in rounded), len(given)


def verdict(ballot: Ballot, decided: Action) -> Verdict:
    """What the council decided, counted and scored."""
    choice = Action(tally_choice(decided.value))
    scores, scored = mean_scores(ballot.votes) if decided is Action.APPROVE else (None, 0)
    tally = Tally(ballot.unit.id, ballot.unit.name, ballot.count(choice), len(ballot.votes), scored)
    return Verdict(decided, tally, scores, comments(ballot, decided))


def choice_of(action: Action) -> Action:
    """What a vote is counted as: declining to recognise again is a "not recognised" vote."""
    return Action.REJECT if action is Action.DECLINE else action


async def members(turn: Turn, item: Initiative, unit: Unit) -> list[Grant]:
    """The council members who may vote on `item` (an author or co-author may not)."""
    await turn.tx.load_children(item)
    return [g for g in await reviewers_for(turn.tx, unit.id) if not is_own_work(g.user, item)]


async def has_voted(turn: Turn, item: Initiative) -> bool:
    """True when this person already voted in the current round."""
    return any(v.user_id == turn.user.id for v in await turn.tx.votes_of(item.id, item.review_round))


def refuse_second_vote(turn: Turn) -> None:
    """Tell a member who already voted so (alert and message), and stop."""
    turn.alert = "error.already_voted"
    raise InvalidInput("error.already_voted")


async def cast(
    turn: Turn, item: Initiative, unit: Unit, action: Action, comment: str | None, scores: str | None
) -> Ballot:
    """Store this member's vote (with the scores of an approving one) and count the round: quorum
    and ≥ 2/3 of the votes cast."""
    choice = choice_of(action)
    stored = await turn.tx.add_vote(
        item.id, item.review_round, turn.user.id, choice.value, comment, scores=scores, now=turn.now
    )
    if not stored:
        refuse_second_vote(turn)
    votes = await turn.tx.votes_of(item.id, item.review_round)
    council = await members(turn, item, unit)
    counts = Counter(Action(v.vote) for v in votes)
    decided = council_outcome(counts, council=len(council), quorum=unit.quorum)
    return Ballot(unit, votes, council, decided)


def comments(ballot: Ballot, decided: Action) -> Any:
    """The comments of the votes for what was decided (never a dissenting one), or None."""
    said = [v.comment for v in ballot.votes if v.vote == choice_of(decided).value and v.comment]
    if not said:
        return None
    return Lines(tuple(m if isinstance(m, Msg) else literal(m) for m in map(comment_arg, said)))


def tell_members(turn: Turn, item: Initiative, ballot: Ballot, decided: Verdict, *, in_group: bool) -> Reply:
    """Tell every member (and the review group) the council's result and scores; return it for the voter."""
    result = Reply(
        "council.decided",
        {
            "council": ballot.unit.name,
            "code": item.code or "",
            "title": item.title or "",
            "status": Msg(f"status.{item.status.value}"),
            "tally": tally_arg(decided.tally, decided.decided.value),
            "scored": decided.scored,
        },
    )
    for grant in ballot.members:
        if grant.user.id != turn.user.id:
            turn.notify(private_chat(grant.user.ref), grant.user.locale, result)
    if ballot.unit.review_chat and not in_group:
        turn.notify(ballot.unit.review_chat, turn.config.bot.locale, result)
    return result
