"""Message arguments built from domain objects, shared by the summary, receipts and listings."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.config import Category
from bot.domain import Initiative
from bot.fields import FIELDS, position
from bot.i18n import Lines, Msg, Vnd
from bot.textnorm import display_name
from bot.turn import Turn

NONE = Msg("common.none")


def literal(text: str) -> Msg:
    """Wrap configured or stored text so it renders as-is (escaped) in any locale."""
    return Msg("common.literal", {"text": text})


def category_label(category: Category, locale: str) -> Msg:
    """Return a category's label: the campaign's own wording if set, else the catalogue's."""
    own = category.vi if locale == "vi" else category.en
    own = own or category.vi or category.en
    return literal(own) if own else Msg(f"category.{category.key}")


def step_args(draft: Initiative) -> dict[str, Any]:
    """Return the "step N of M" arguments of a draft."""
    return {"step": min(position(draft.step), len(FIELDS)), "total": len(FIELDS)}


def short_title(title: str | None, limit: int = 40) -> str:
    """Shorten a title for a button."""
    title = title or ""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def draft_args(draft: Initiative) -> dict[str, Any]:
    """The title (or "untitled") and step of an unfinished draft, for offers to continue it."""
    return {**step_args(draft), "title": short_title(draft.title) or Msg("common.untitled")}


def _category(turn: Turn, item: Initiative, locale: str) -> Msg:
    """Return the label of the initiative's category."""
    campaign = turn.book.campaign(item.campaign_key)
    for category in campaign.categories if campaign else []:
        if category.key == item.category:
            return category_label(category, locale)
    return literal(item.category) if item.category else NONE


def _attachments(item: Initiative) -> Msg:
    """How many files, then what the worker wrote under each file that has a caption."""
    notes = tuple(
        Msg("line.attachment", {"kind": Msg(f"common.file_{a.kind}"), "number": n, "caption": a.caption})
        for n, a in enumerate(item.attachments, 1)
        if a.caption
    )
    return Msg(
        "common.attachments",
        {"count": len(item.attachments), "captions": Msg("line.captions", {"lines": Lines(notes)}) if notes else ""},
    )


def applied_arg(item: Initiative) -> Any:
    """When the initiative was first applied: a day, a month ("tháng 3/2025"), or not yet."""
    if item.applied_since is None:
        return Msg("common.not_applied")
    return since_arg(item.applied_since, month_only=item.applied_month_only)


def since_arg(day: date, *, month_only: bool) -> Any:
    """A date applied: the day, or only its month ("tháng 3/2025")."""
    if month_only:
        return Msg("common.month", {"month": str(day.month), "year": str(day.year)})
    return day


# the argument of initiative_args that shows each field of the flow
FIELD_ARGS = {"benefit_vnd": "value", "applied_since": "applied", "attachments": "attachments"}


def current_value(turn: Turn, item: Initiative) -> Any:
    """The value of the field the draft is at, as the summary shows it (children must be loaded)."""
    args = initiative_args(turn, item)
    if item.step == "coauthors":
        return Msg("draft.current_shares", {"percent": item.author_percent, "coauthors": args["coauthors"]})
    return args[FIELD_ARGS.get(item.step, item.step)] or NONE


def initiative_args(turn: Turn, item: Initiative, locale: str | None = None) -> dict[str, Any]:
    """Return every field of an initiative as message arguments (children must be loaded)."""
    value: Any = Vnd(item.benefit_vnd) if item.benefit_vnd is not None else Msg("common.unquantified")
    applied: Any = applied_arg(item)
    people = tuple(Msg("line.coauthor", {"name": display_name(c.name), "percent": c.percent}) for c in item.coauthors)
    return {
        "code": item.code or "—",
        "status": Msg(f"status.{item.status.value}"),
        "title": item.title or "",
        "category": _category(turn, item, locale or turn.user.locale),
        "kind": Msg(f"type.{item.kind.value}") if item.kind else NONE,
        "problem": item.problem or "",
        "solution": item.solution or "",
        "benefit": item.benefit or "",
        "value": value,
        "applied": applied,
        "author_percent": item.author_percent,
        "coauthors": Lines(people, empty="common.sole_author"),
        "conditions": item.conditions or NONE,
        "confidential": item.confidential or NONE,
        "attachments": _attachments(item),
    }
