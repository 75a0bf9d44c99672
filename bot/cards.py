"""The review card: what a reviewer needs to decide, with buttons bound to the card's version."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from bot import callbacks as cb
from bot.domain import AuditEntry, Initiative, Status, Tally
from bot.i18n import Lines, Msg, Vnd
from bot.messages import Button, Reply
from bot.parsing import AppliedSince
from bot.ports import Tx
from bot.textnorm import display_name
from bot.turn import Turn
from bot.views import NONE, applied_arg, initiative_args, since_arg
from bot.workflow import Action, may, refusal

DUE_SOON_DAYS = 14
# The common rejection reasons, offered as buttons and stored as `#key`.
REASONS = ("not_new", "not_applied", "no_benefit", "duplicate", "out_of_scope")


def comment_arg(comment: str | None) -> Any:
    """A stored comment as a message argument: `#key` of a common reason from the catalogue, any
    other text (a typed "#2 trùng với…" too) as written."""
    if not comment:
        return NONE
    return Msg(f"reason.{comment[1:]}") if comment.startswith("#") and comment[1:] in REASONS else comment


def scores_arg(scores: str | None) -> Any:
    """Stored scores `novelty/applicability/effectiveness` (1–5 each; a council's means with one
    decimal, "4.5") as a labelled message, or ''."""
    parts = (scores or "").split("/")
    if len(parts) != 3:
        return ""
    values = (float(p) if "." in p else p for p in parts)
    return Msg("card.scores", dict(zip(("novelty", "applicability", "effectiveness"), values, strict=True)))


def scored_arg(scores: str | None, tally: Tally | None) -> Any:
    """Scores as a block of a message: one reviewer's, or a council's with the rule that made them."""
    if not scores:
        return ""
    if tally is None:
        return Msg("card.scored", {"scores": scores_arg(scores)})
    return Msg("card.council_scored", {"scores": _council_scores(scores, tally)})


def _council_scores(scores: str, tally: Tally) -> Msg:
    """A council's scores, labelled, with how they were made (the mean of the approving votes that gave scores)."""
    return Msg("card.council_scores", {"scores": scores_arg(scores), "scored": tally.scored})


def _recognitions(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The decisions that recognised the initiative (at each level), oldest first; not the votes."""
    return [e for e in entries if e.action == Action.APPROVE.value and e.to_status == Status.APPROVED.value]


async def scores_block(tx: Tx, item: Initiative) -> Any:
    """The scores of its latest scored recognition (a reviewer's, or a council's mean), as a block
    of the card or the author's detail."""
    scored = [e for e in _recognitions(await tx.audit(item.id)) if e.scores] if item.status is not Status.DRAFT else []
    return scored_arg(scored[-1].scores, scored[-1].tally) if scored else ""


def tally_choice(action: str) -> str:
    """What a council's count is of: the votes to request changes or forward, else to approve
    (also when it refused: the approving votes that were too few)."""
    return action if action in (Action.REQUEST_CHANGES.value, Action.FORWARD.value) else Action.APPROVE.value


def tally_arg(tally: Tally, action: str) -> Msg:
    """ "2/3 phiếu tán thành": the votes for what was decided, of the votes cast."""
    choice = Msg(f"council.choice_{tally_choice(action)}")
    return Msg("council.tally", {"count": tally.votes_for, "cast": tally.votes_cast, "choice": choice})


def council_by(tally: Tally, action: str) -> Msg:
    """Who decided: the council of the unit, with its tally."""
    return Msg("council.by", {"unit": tally.unit_name, "tally": tally_arg(tally, action)})


def _audit_comment(entry: AuditEntry) -> Any:
    """An audit entry's comment: a common reason, the date applied and benefit measured, or the text written."""
    if not entry.comment:
        return ""
    if entry.action == Action.MARK_APPLIED.value:
        return Msg("card.audit_comment", {"comment": _applied_comment(entry.comment)})
    return Msg("card.audit_comment", {"comment": comment_arg(entry.comment)})


def applied_comment(since: AppliedSince, benefit_vnd: int | None) -> str:
    """How "mark applied" is kept in the audit log: the date confirmed (`2025-03-01`, or the month
    `2025-03`) and the benefit measured in VND (empty: not quantified), `2025-03-01;120000000`."""
    assert since.day is not None
    day = f"{since.day:%Y-%m}" if since.month_only else since.day.isoformat()
    return f"{day};{'' if benefit_vnd is None else benefit_vnd}"


def _applied_comment(comment: str) -> Any:
    """A stored "mark applied" comment as the date applied and the benefit (before the date was
    kept, the comment held only the benefit)."""
    day, _, vnd = comment.rpartition(";")
    value = Msg("common.unquantified") if not vnd.isdigit() else Vnd(int(vnd))
    if not day:
        return value
    month_only = len(day) == len("2025-03")
    since = date.fromisoformat(f"{day}-01" if month_only else day)
    return Msg("card.audit_applied", {"since": since_arg(since, month_only=month_only), "value": value})


def review_buttons(item: Initiative, *, acting: bool = True) -> tuple[tuple[Button, ...], ...]:
    """The card's buttons: what the transition table allows now (only the history to a reader
    who may no longer act, such as the grassroots reviewers of a nominated initiative)."""

    def button(label: str, act: str) -> Button:
        return Button(f"review.{label}", cb.ReviewAction(act, item.id, item.version).encode())

    history = (button("details", "dt"),)
    if not acting:
        return (history,)
    status = item.status
    decide = (
        (button("approve", "ap"), button("approve_scored", "as")) if may(status, Action.APPROVE) else (),
        (
            *((button("reject", "rj"),) if may(status, refusal(status)) else ()),
            *((button("request_changes", "ch"),) if may(status, Action.REQUEST_CHANGES) else ()),
        ),
        (
            *((button("forward", "fw"),) if may(status, Action.FORWARD) else ()),
            *((button("mark_applied", "apl"),) if may(status, Action.MARK_APPLIED) and not item.applied_at else ()),
        ),
        history,
    )
    return tuple(row for row in decide if row)


async def card(
    turn: Turn,
    item: Initiative,
    locale: str,
    *,
    media: bool = False,
    edit: bool = False,
    private: bool = True,
    acting: bool = True,
) -> Reply:
    """Render the card of an initiative for a reader in `locale` (the author's phone only in a
    private chat, the action buttons only to those who may act)."""
    tx = turn.tx
    await tx.load_children(item)
    author = await tx.user(item.author_id)
    home = await tx.unit(item.unit_id) if item.unit_id else None
    unit = await tx.unit(item.review_unit_id) if item.review_unit_id else None
    days_left = (item.decision_due - turn.today).days if item.decision_due else None
    fields = initiative_args(turn, item, locale)
    phone = author.phone if author and private and not author.deleted else None
    args = {
        **fields,
        # the reader is a reviewer, not the author: no "you are the sole author" here
        "coauthors": replace(fields["coauthors"], empty="common.none"),
        "author": display_name(author.full_name) if author and author.full_name else Msg("common.anonymous"),
        "phone": Msg("card.phone", {"phone": phone}) if phone else "",
        "unit": home.name if home else "—",
        "level": Msg(f"level.{item.review_level or 'grassroots'}"),
        "reviewing": unit.name if unit else "—",
        "due": item.decision_due or "—",
        "days_left": _deadline(days_left),
        "due_soon": Msg("card.due_soon") if days_left is not None and 0 < days_left < DUE_SOON_DAYS else "",
        "recognition": await _recognition(turn, item),
        "changes": _changes(item),
        "votes": await _votes(tx, item, unit.quorum if unit and unit.council else 0),
        "hints": await _hints(turn, item),
        "scored": await scores_block(tx, item),
        "applied_note": _applied(item),
    }
    return Reply(
        "card.text",
        args,
        review_buttons(item, acting=acting),
        media=tuple(item.attachments) if media else (),
        edit=edit,
        card=item.id,
    )


async def _recognition(turn: Turn, item: Initiative) -> Any:
    """The recognitions an initiative already has, one line each: level, day, by whom (a council
    with its tally; the unit too when it is not the one reviewing now). Scores are `scored`."""
    if item.recognised_level is None:
        return ""
    lines = []
    for entry in _recognitions(await turn.tx.audit(item.id)):
        by = decided_by(entry)
        if not entry.tally and entry.unit_id != item.review_unit_id and entry.unit_name:
            by = Msg("card.by_person_of", {"name": by, "unit": entry.unit_name})
        args = {
            "level": Msg(f"level.{entry.level or item.recognised_level}"),
            "when": turn.local_time(entry.created_at).date(),
            "by": by,
        }
        lines.append(Msg("card.recognised", args))
    return Msg("card.recognitions", {"lines": Lines(tuple(lines))}) if lines else ""


def _deadline(days_left: int | None) -> Any:
    """How far the deadline to answer is: days left, today, or days overdue (never "còn -3 ngày")."""
    if days_left is None:
        return "—"
    if days_left < 0:
        return Msg("card.overdue", {"days": -days_left})
    if days_left == 0:
        return Msg("card.due_today")
    return Msg("card.days_left", {"days": days_left})


def _applied(item: Initiative) -> Any:
    """Since when the unit found it applied, and the benefit measured."""
    if not item.applied_at:
        return ""
    value = Msg("common.unquantified") if item.applied_benefit_vnd is None else Vnd(item.applied_benefit_vnd)
    return Msg("card.applied", {"since": applied_arg(item), "value": value})


def who(entry: AuditEntry) -> Any:
    """Who made an audit entry: a person, the council (named when known), or (for a deleted
    account) nobody named."""
    if entry.by_council:
        return Msg("council.named", {"unit": entry.tally.unit_name}) if entry.tally else Msg("council.short")
    return display_name(entry.actor_name) or Msg("common.anonymous")


def decided_by(entry: AuditEntry) -> Any:
    """Who made an audit entry, a council's decision with its tally ("… — 2/3 phiếu tán thành")."""
    return council_by(entry.tally, entry.action) if entry.tally else who(entry)


def _changes(item: Initiative) -> Any:
    """The fields changed since changes were requested, marked on the card."""
    if item.status is not Status.RESUBMITTED or not item.changed_fields:
        return ""
    names = [Msg(f"field.{name}") for name in item.changed_fields.split(",") if name]
    return Msg("card.changed", {"fields": Lines(tuple(names), empty="common.none")})


async def _votes(tx: Tx, item: Initiative, quorum: int) -> Any:
    """Council votes of the current round, as they arrive."""
    if not quorum:
        return ""
    votes = await tx.votes_of(item.id, item.review_round)
    lines = tuple(
        Msg(f"card.vote_{v.vote}", {"name": display_name(v.name), "scores": _vote_scores(v.scores)}) for v in votes
    )
    return Msg("card.votes", {"lines": Lines(lines, empty="card.no_votes"), "quorum": quorum})


def _vote_scores(scores: str | None) -> Any:
    """An approving member's scores beside the vote, or ''."""
    return Msg("card.audit_comment", {"comment": scores_arg(scores)}) if scores else ""


async def _hints(turn: Turn, item: Initiative) -> Any:
    """Up to three earlier initiatives of the campaign that look like this one."""
    hints = await turn.similar(item)
    if not hints:
        return ""
    lines = tuple(
        Msg("card.hint", {"code": h.code, "status": Msg(f"status.{h.status}"), "score": h.score}) for h in hints
    )
    return Msg("card.hints", {"lines": Lines(lines)})


def _audit_scores(entry: AuditEntry) -> Any:
    """The scores on a line of the history: a reviewer's or a member's, or a council's with its rule."""
    if not entry.scores:
        return ""
    scores = _council_scores(entry.scores, entry.tally) if entry.tally else scores_arg(entry.scores)
    return Msg("card.audit_comment", {"comment": scores})


def audit_lines(entries: list[AuditEntry], turn: Turn) -> Lines:
    """The audit log as message lines."""
    items = tuple(
        Msg(
            "card.audit_line",
            {
                "when": turn.local_time(e.created_at),
                "who": decided_by(e),
                "action": Msg(f"action.{e.action}"),
                "from": Msg(f"status.{e.from_status}"),
                "to": Msg(f"status.{e.to_status}"),
                "comment": _audit_comment(e),
                "scores": _audit_scores(e),
            },
        )
        for e in entries
    )
    return Lines(items, empty="card.no_audit")
