"""The guided submission flow: start or resume a draft, take answers, show the summary, submit."""

from __future__ import annotations

from calendar import monthrange
from copy import copy
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

from bot import callbacks as cb
from bot import review
from bot.domain import CoAuthor, Initiative, InitiativeType, Status
from bot.errors import InvalidInput
from bot.fields import FIELDS, SUMMARY, FieldSpec, following, position, preceding, spec
from bot.i18n import LANGUAGES, Lines, Msg, Vnd, default_catalog
from bot.messages import Button, Payload, Reply, Text, Upload, rows
from bot.parsing import parse_applied_since, parse_money, parse_shares
from bot.receipts import keep_receipt
from bot.textnorm import clean, search_words
from bot.turn import Turn
from bot.views import category_label, current_value, draft_args, initiative_args, step_args
from bot.workflow import Action, next_status

SUBMITTED_EVENT = "initiative_submitted"


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def format_code(year: int, number: int) -> str:
    """Return the human code of an initiative, e.g. SK-2026-000123."""
    return f"SK-{year}-{number:06d}"


async def start(turn: Turn) -> list[Reply]:
    """Begin a new draft, or offer to continue the one already open."""
    draft = await turn.tx.draft_of(turn.user.id)
    if draft is not None:
        return [
            Reply(
                "draft.exists",
                draft_args(draft),
                rows(
                    Button("button.resume", cb.ResumeDraft(draft.id).encode()),
                    Button("button.restart", cb.RestartDraft(draft.id).encode()),
                ),
            )
        ]
    campaign = turn.book.campaign_for(turn.today)
    if campaign is None:
        return [Reply("error.no_campaign")]
    draft = Initiative(id=0, author_id=turn.user.id, unit_id=turn.user.unit_id, campaign_key=campaign.key)
    await turn.tx.create_draft(draft, now=turn.now)
    return [Reply("draft.started", {"campaign": campaign.name}), prompt(turn, draft)]


def prompt(turn: Turn, draft: Initiative, *, request: str | None = None) -> Reply:
    """Ask for the draft's current field (or show the summary when all are answered): with the
    step number while filling in, with the current value (and the reviewers' `request` during a
    revision) while editing one field from the summary."""
    if draft.step == SUMMARY:
        return summary(turn, draft)
    field = spec(draft.step)
    buttons: list[Button] = []
    for index, (value, label) in enumerate(options(turn, draft)):
        press = cb.PickCategory(draft.id, index) if field.kind == "category" else cb.PickKind(draft.id, value)
        buttons.append(Button(label.key, press.encode(), dict(label.args)))
    if field.kind == "files":
        buttons += _file_buttons(draft)
    elif field.kind == "money":
        buttons.append(Button("button.unquantified", cb.NotQuantifiable(draft.id, draft.step).encode()))
    nav: list[Button] = []
    if draft.editing:
        nav.append(Button("button.to_summary", cb.ToSummary(draft.id).encode()))
    elif preceding(draft.step):
        nav.append(Button("button.back", cb.StepBack(draft.id, draft.step).encode()))
    if field.optional and field.kind != "files":
        nav.append(Button("button.skip", cb.SkipField(draft.id, draft.step).encode()))
    limit = turn.config.bot.title_max if field.short else turn.config.bot.field_max
    key = "file.kept" if field.kind == "files" and draft.attachments else f"ask.{draft.step}"
    question = Msg(key, {"limit": limit, "count": len(draft.attachments)})
    keyboard = (*rows(*buttons), tuple(nav))
    if draft.editing:
        args = {
            "field": Msg(f"field.{draft.step}"),
            "current": current_value(turn, draft),
            "request": Msg("ask.request", {"request": request}) if request else "",
            "question": question,
        }
        return Reply("ask.editing", args, keyboard, question=True)
    args = {**step_args(draft), "question": question}
    return Reply("ask.step_optional" if field.optional else "ask.step", args, keyboard, question=True)


def options(turn: Turn, draft: Initiative) -> list[tuple[str, Msg]]:
    """The values a button step offers (category or type), with their labels, in button order."""
    if draft.step == "category":
        campaign = turn.book.campaign(draft.campaign_key)
        return [(c.key, category_label(c, turn.user.locale)) for c in (campaign.categories if campaign else [])]
    if draft.step == "kind":
        return [(kind.value, Msg(f"type.{kind.value}")) for kind in InitiativeType]
    return []


def _typed_option(turn: Turn, draft: Initiative, payload: Payload) -> str:
    """The option whose label was typed instead of pressed (diacritics and case optional, in either
    language, or enough of it to name one option); anything else asks for the buttons."""
    if not isinstance(payload, Text):
        raise InvalidInput("error.use_buttons")
    typed, catalog = search_words(payload.text), default_catalog()
    labels = [
        (value, {search_words(catalog.render(lang, label.key, label.args)) for lang in LANGUAGES})
        for value, label in options(turn, draft)
    ]
    exact = [value for value, names in labels if typed in names]
    partial = [value for value, names in labels if len(typed) >= 3 and any(typed in name for name in names)]
    found = exact or partial
    if len(found) != 1:
        raise InvalidInput("error.use_buttons")
    return found[0]


def answered(turn: Turn, draft: Initiative, answer: Msg) -> Reply:
    """The question a button just answered, its keyboard replaced by the answer (so no old
    keyboard stays live in the chat)."""
    asked = prompt(turn, draft)
    return Reply("ask.answered", {"question": Msg(asked.key, asked.args), "answer": answer}, edit=True)


def _file_buttons(draft: Initiative) -> list[Button]:
    """Done, and a way to remove the files already sent (children must be loaded)."""
    done = Button("button.done", cb.FilesDone(draft.id).encode())
    return [done, Button("button.clear_files", cb.ClearFiles(draft.id).encode())] if draft.attachments else [done]


def summary(turn: Turn, draft: Initiative) -> Reply:
    """Show every answer with the Submit / Edit / Cancel buttons."""
    return Reply(
        "draft.summary",
        initiative_args(turn, draft),
        rows(
            Button("button.submit", cb.Submit(draft.id, draft.version).encode()),
            Button("button.edit", cb.ChooseField(draft.id).encode()),
            Button("button.cancel", cb.CancelDraft(draft.id).encode()),
        ),
        question=True,
    )


def _text(turn: Turn, field: FieldSpec, payload: Payload) -> str:
    """Validate a text answer: present, not blank, within the length limit."""
    if not isinstance(payload, Text):
        raise InvalidInput("error.expected_text")
    value = clean(payload.text)
    if not value:
        raise InvalidInput("error.empty")
    limit = turn.config.bot.title_max if field.short else turn.config.bot.field_max
    if len(value) > limit:
        raise InvalidInput("error.too_long", limit=limit, length=len(value))
    return value


async def _store(turn: Turn, draft: Initiative, payload: Payload) -> list[Reply] | None:
    """Apply one answer to the draft; the notes to show before the next question, or None when
    the flow stays at the field (files)."""
    field = spec(draft.step)
    if field.kind in ("category", "type"):
        value = _typed_option(turn, draft, payload)
        if field.kind == "category":
            draft.category = value
        else:
            draft.kind = InitiativeType(value)
        return []
    if field.kind == "files":
        if not isinstance(payload, Upload):
            raise InvalidInput("error.expected_file")
        caption = clean(payload.attachment.caption or "")[: turn.config.bot.field_max] or None
        await turn.tx.add_attachment(draft.id, replace(payload.attachment, caption=caption))
        return None
    value = _text(turn, field, payload)
    if field.kind == "money":
        money = parse_money(value)
        draft.benefit_vnd = money.vnd
        if money.per_month is not None and money.vnd is not None:  # converted, and said so
            return [Reply("draft.per_year", {"monthly": Vnd(money.per_month), "yearly": Vnd(money.vnd)})]
    elif field.kind == "date":
        applied = parse_applied_since(value, today=turn.today)
        draft.applied_since, draft.applied_month_only = applied.day, applied.month_only
    elif field.kind == "shares":
        own, shares = parse_shares(value)
        draft.author_percent = own
        draft.coauthors = [CoAuthor(s.name, s.percent) for s in shares]
        await turn.tx.replace_coauthors(draft)
    else:
        setattr(draft, field.name, value)
    return []


async def advance(turn: Turn, draft: Initiative) -> list[Reply]:
    """Move to the next field (or back to the summary after an edit), store, and ask."""
    draft.step = SUMMARY if draft.editing else following(draft.step)
    draft.editing = False
    draft.version += 1
    if draft.step in (SUMMARY, "attachments"):
        await turn.tx.load_children(draft)
    await turn.tx.save_initiative(draft, now=turn.now)
    return [prompt(turn, draft)]


async def answer(turn: Turn, draft: Initiative, payload: Payload) -> list[Reply]:
    """Take a typed or sent answer for the current field."""
    if draft.step == SUMMARY:
        raise InvalidInput("error.use_buttons")
    previous = repeated_field(turn, draft, payload)
    if previous is not None:
        return [_confirm_repeat(draft, previous)]
    notes = await _store(turn, draft, payload)
    if notes is None:
        draft.version += 1
        await turn.tx.save_initiative(draft, now=turn.now)
        await turn.tx.load_children(draft)
        return [Reply("file.received", {"count": len(draft.attachments)}, rows(*_file_buttons(draft)), question=True)]
    return [*notes, *await advance(turn, draft)]


def repeated_field(turn: Turn, draft: Initiative, payload: Payload) -> str | None:
    """The field just answered with this very text, when it is typed again for the next text
    field (a double tap on a bad network sends one answer twice); None otherwise."""
    previous = preceding(draft.step)
    if draft.editing or previous is None or not isinstance(payload, Text):
        return None
    if spec(draft.step).kind != "text" or spec(previous).kind != "text":
        return None
    value = getattr(draft, previous)
    return previous if value and clean(payload.text) == value else None


def _confirm_repeat(draft: Initiative, previous: str) -> Reply:
    """Ask before taking the previous field's answer again for this one."""
    take = Button("button.same_yes", cb.AnswerAgain(draft.id, draft.version).encode())
    retype = Button("button.same_no", cb.ResumeDraft(draft.id).encode())
    args = {"previous": Msg(f"field.{previous}"), "field": Msg(f"field.{draft.step}")}
    return Reply("draft.same_answer", args, rows(take, retype), question=True)


async def reviewer_request(turn: Turn, draft: Initiative) -> str | None:
    """What the reviewers asked the author to change, while the initiative waits for it."""
    if draft.status is not Status.CHANGES_REQUESTED:
        return None
    asked = [e for e in await turn.tx.audit(draft.id) if e.action == Action.REQUEST_CHANGES.value and e.comment]
    return asked[-1].comment if asked else None


def missing_fields(draft: Initiative) -> list[str]:
    """Return the required fields that still have no answer."""
    required = [f.name for f in FIELDS if not f.optional and f.kind not in ("money", "date")]
    return [name for name in required if getattr(draft, name) in (None, "")]


def similar_warning(draft: Initiative, hints: list[Any]) -> Reply:
    """Before submitting: these earlier initiatives look alike; submit anyway?"""
    lines = tuple(
        Msg("card.hint", {"code": h.code, "status": Msg(f"status.{h.status}"), "score": h.score}) for h in hints
    )
    buttons = rows(
        Button("button.submit_anyway", cb.SubmitAnyway(draft.id, draft.version).encode()),
        Button("button.edit", cb.ChooseField(draft.id).encode()),
        Button("button.cancel", cb.CancelDraft(draft.id).encode()),
    )
    return Reply("draft.similar", {"lines": Lines(lines)}, buttons, question=True)


async def pause_revision(turn: Turn, item: Initiative) -> None:
    """Stop revising an initiative sent back for changes (it stays as it is, nothing is lost)."""
    item.step, item.editing = "done", False
    item.version += 1
    await turn.tx.save_initiative(item, now=turn.now)


async def revise(turn: Turn, initiative_id: int) -> list[Reply]:
    """The author starts revising an initiative the reviewers sent back: the summary, editable."""
    item = await turn.tx.initiative(initiative_id)
    if item is None or item.author_id != turn.user.id:
        raise InvalidInput("error.not_yours")
    if item.status is not Status.CHANGES_REQUESTED:
        raise InvalidInput("error.cannot_revise", status=Msg(f"status.{item.status.value}"))
    current = await turn.tx.draft_of(turn.user.id)
    if current is not None and current.id != item.id and current.status is not Status.DRAFT:
        await pause_revision(turn, current)
    item.step, item.editing = SUMMARY, False
    item.version += 1
    await turn.tx.save_initiative(item, now=turn.now)
    await turn.tx.load_children(item)
    request = Msg("ask.request", {"request": await reviewer_request(turn, item) or "—"})
    return [Reply("review.revising", {"code": item.code or "", "request": request}), prompt(turn, item)]


async def submit(turn: Turn, draft: Initiative) -> list[Reply]:
    """Turn the draft into a submitted initiative with a code, a receipt and a routing event."""
    missing = missing_fields(draft)
    if missing:
        draft.step, draft.editing = missing[0], True
        await turn.tx.save_initiative(draft, now=turn.now)
        return [Reply("error.incomplete"), prompt(turn, draft)]
    if draft.status is Status.CHANGES_REQUESTED:
        return await review.resubmit(turn, draft)
    year = turn.today.year
    draft.code = format_code(year, await turn.tx.next_code_number(year))
    before = draft.status
    draft.status = next_status(before, Action.SUBMIT)
    draft.unit_id = turn.user.unit_id
    draft.submitted_at = turn.now
    draft.decision_due = add_months(turn.today, turn.config.bot.decision_months)
    unit = await turn.tx.unit(turn.user.unit_id) if turn.user.unit_id else None
    draft.review_unit_id, draft.review_level = turn.user.unit_id, unit.level if unit else None
    draft.queued_at, draft.step = turn.now, "done"
    draft.version += 1
    await turn.tx.save_initiative(draft, now=turn.now)
    await turn.log_action(draft, Action.SUBMIT.value, before.value)
    await turn.tx.record_event(
        SUBMITTED_EVENT,
        draft.id,
        {"code": draft.code, "unit_id": draft.unit_id, "author_id": draft.author_id},
        now=turn.now,
    )
    category = initiative_args(turn, draft)["category"]
    buttons = rows(
        Button("button.open", cb.OpenInitiative(draft.id).encode()),
        Button("menu.my", cb.MenuChoice("my").encode()),
        Button("menu.new", cb.MenuChoice("new").encode()),
    )
    args = {
        "code": draft.code,
        "title": draft.title or "",
        "category": category,
        "submitted": turn.local_time(turn.now),
        "due": draft.decision_due,
        "months": turn.config.bot.decision_months,
    }
    if turn.finder is not None:
        turn.after_commit.append(partial(turn.finder.add, copy(draft)))
    if draft.review_unit_id is not None:
        await review.route(turn, draft)
    return [keep_receipt(turn, draft.id, Reply("receipt.text", args, buttons))]


__all__ = ["answer", "position", "prompt", "start", "submit"]
