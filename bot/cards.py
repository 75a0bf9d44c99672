"""The review card: what a reviewer needs to decide, with buttons bound to the card's version."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot import callbacks as cb
from bot.domain import AuditEntry, Initiative, Status
from bot.i18n import Lines, Msg, Vnd
from bot.messages import Button, Reply
from bot.ports import Tx
from bot.textnorm import display_name
from bot.turn import Turn
from bot.views import NONE, initiative_args
from bot.workflow import OPEN

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
    """Stored scores `novelty/applicability/effectiveness` (1–5 each) as a labelled message, or ''."""
    parts = (scores or "").split("/")
    if len(parts) != 3:
        return ""
    return Msg("card.scores", dict(zip(("novelty", "applicability", "effectiveness"), parts, strict=True)))


async def scores_block(tx: Tx, item: Initiative) -> Any:
    """The latest scores a reviewer gave the initiative, as a block of the card or the author's detail."""
    scored = [e.scores for e in await tx.audit(item.id) if e.scores] if item.status is not Status.DRAFT else []
    return Msg("card.scored", {"scores": scores_arg(scored[-1])}) if scored else ""


def _audit_comment(entry: AuditEntry) -> Any:
    """An audit entry's comment: a common reason, a measured benefit as money, or the text written."""
    if not entry.comment:
        return ""
    if entry.action == "mark_applied" and entry.comment.isdigit():
        return Msg("card.audit_comment", {"comment": Vnd(int(entry.comment))})
    return Msg("card.audit_comment", {"comment": comment_arg(entry.comment)})


def review_buttons(item: Initiative) -> tuple[tuple[Button, ...], ...]:
    """The card's buttons for the initiative's status."""

    def button(label: str, act: str) -> Button:
        return Button(f"review.{label}", cb.ReviewAction(act, item.id, item.version).encode())

    details = button("details", "dt")
    if item.status in OPEN:
        return (
            (button("approve", "ap"), button("approve_scored", "as")),
            (button("reject", "rj"), button("request_changes", "ch")),
            (button("forward", "fw"), details),
        )
    if item.status is Status.APPROVED:
        applied = () if item.applied_at else (button("mark_applied", "apl"),)
        return ((button("forward", "fw"), *applied), (details,))
    return ((details,),)


async def card(turn: Turn, item: Initiative, locale: str, *, media: bool = False, edit: bool = False) -> Reply:
    """Render the card of an initiative for a reader in `locale`."""
    tx = turn.tx
    await tx.load_children(item)
    author = await tx.user(item.author_id)
    unit = await tx.unit(item.review_unit_id) if item.review_unit_id else None
    days_left = (item.decision_due - turn.today).days if item.decision_due else None
    fields = initiative_args(turn, item, locale)
    args = {
        **fields,
        # the reader is a reviewer, not the author: no "you are the sole author" here
        "coauthors": replace(fields["coauthors"], empty="common.none"),
        "author": display_name(author.full_name) if author and author.full_name else Msg("common.anonymous"),
        "unit": unit.name if unit else "—",
        "level": Msg(f"level.{item.review_level or 'grassroots'}"),
        "due": item.decision_due or "—",
        "days_left": days_left if days_left is not None else "—",
        "due_soon": Msg("card.due_soon") if days_left is not None and days_left < DUE_SOON_DAYS else "",
        "changes": _changes(item),
        "votes": await _votes(tx, item, unit.quorum if unit and unit.council else 0),
        "hints": await _hints(turn, item),
        "scored": await scores_block(tx, item),
        "applied_note": Msg("card.applied", {"when": turn.local_time(item.applied_at).date()})
        if item.applied_at
        else "",
    }
    return Reply(
        "card.text",
        args,
        review_buttons(item),
        media=tuple(item.attachments) if media else (),
        edit=edit,
    )


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
    lines = tuple(Msg(f"card.vote_{v.vote}", {"name": display_name(v.name)}) for v in votes)
    return Msg("card.votes", {"lines": Lines(lines, empty="card.no_votes"), "quorum": quorum})


async def _hints(turn: Turn, item: Initiative) -> Any:
    """Up to three earlier initiatives of the campaign that look like this one."""
    hints = await turn.similar(item)
    if not hints:
        return ""
    lines = tuple(
        Msg("card.hint", {"code": h.code, "status": Msg(f"status.{h.status}"), "score": h.score}) for h in hints
    )
    return Msg("card.hints", {"lines": Lines(lines)})


def audit_lines(entries: list[AuditEntry], turn: Turn) -> Lines:
    """The audit log as message lines."""
    items = tuple(
        Msg(
            "card.audit_line",
            {
                "when": turn.local_time(e.created_at),
                "who": display_name(e.actor_name) or Msg("common.system"),
                "action": Msg(f"action.{e.action}"),
                "from": Msg(f"status.{e.from_status}"),
                "to": Msg(f"status.{e.to_status}"),
                "comment": _audit_comment(e),
                "scores": Msg("card.audit_comment", {"comment": scores_arg(e.scores)}) if e.scores else "",
            },
        )
        for e in entries
    )
    return Lines(items, empty="card.no_audit")
