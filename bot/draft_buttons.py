"""The buttons of the submission flow, one handler per kind of press, dispatched by a table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import callbacks as cb
from bot import submission
from bot.domain import Initiative, InitiativeType, Status
from bot.errors import InvalidInput
from bot.fields import NAMES, SUMMARY, preceding, spec
from bot.i18n import Msg
from bot.messages import Button, Reply, rows
from bot.turn import Turn
from bot.views import draft_args


async def press(turn: Turn, draft: Initiative, call: cb.DraftCallback) -> list[Reply]:
    """Handle a button of the flow; presses that do not fit the draft's state are refused."""
    handler = PRESSES.get(type(call))
    if handler is None:
        raise InvalidInput("error.stale_button")
    return await handler(turn, draft, call)


def _refuse_unless(condition: bool) -> None:
    """Refuse a press that does not fit the draft's state (an old or forged button)."""
    if not condition:
        raise InvalidInput("error.stale_button")


async def _pick_category(turn: Turn, draft: Initiative, call: cb.PickCategory) -> list[Reply]:
    """A category button."""
    options = submission.options(turn, draft)
    _refuse_unless(draft.step == "category" and call.index < len(options))
    answered = submission.answered(turn, draft, options[call.index][1])
    draft.category = options[call.index][0]
    return [answered, *await submission.advance(turn, draft)]


async def _pick_kind(turn: Turn, draft: Initiative, call: cb.PickKind) -> list[Reply]:
    """A type button."""
    _refuse_unless(draft.step == "kind" and call.kind in InitiativeType._value2member_map_)
    answered = submission.answered(turn, draft, Msg(f"type.{call.kind}"))
    draft.kind = InitiativeType(call.kind)
    return [answered, *await submission.advance(turn, draft)]


async def _skip_field(turn: Turn, draft: Initiative, call: cb.SkipField) -> list[Reply]:
    """Skip an optional field."""
    _refuse_unless(call.field == draft.step and spec(draft.step).optional)
    answered = submission.answered(turn, draft, Msg("button.skip"))
    return [answered, *await _skip(turn, draft)]


async def _files_done(turn: Turn, draft: Initiative, call: cb.FilesDone) -> list[Reply]:
    """No more files: on to the summary."""
    _refuse_unless(draft.step == "attachments")
    return await submission.advance(turn, draft)


async def _clear_files_press(turn: Turn, draft: Initiative, call: cb.ClearFiles) -> list[Reply]:
    """Remove the files sent so far."""
    _refuse_unless(draft.step == "attachments")
    return await _clear_files(turn, draft)


async def _not_quantifiable(turn: Turn, draft: Initiative, call: cb.NotQuantifiable) -> list[Reply]:
    """The benefit cannot be valued in money: a legal answer, stored as no amount."""
    _refuse_unless(call.field == draft.step and spec(draft.step).kind == "money")
    answered = submission.answered(turn, draft, Msg("button.unquantified"))
    setattr(draft, draft.step, None)
    return [answered, *await submission.advance(turn, draft)]


async def _step_back(turn: Turn, draft: Initiative, call: cb.StepBack) -> list[Reply]:
    """One field back."""
    _refuse_unless(call.field == draft.step and not draft.editing)
    return await _back(turn, draft)


async def _resume(turn: Turn, draft: Initiative, call: cb.ResumeDraft) -> list[Reply]:
    """Continue where the draft stopped (an edit in progress stays an edit)."""
    await turn.tx.load_children(draft)
    return [submission.prompt(turn, draft)]


async def _to_summary(turn: Turn, draft: Initiative, call: cb.ToSummary) -> list[Reply]:
    """Leave an edit (or the field chooser) for the summary."""
    _refuse_unless(draft.editing or draft.step == SUMMARY)
    draft.editing = False
    if draft.step != SUMMARY:
        draft.step, draft.version = SUMMARY, draft.version + 1
        await turn.tx.save_initiative(draft, now=turn.now)
    await turn.tx.load_children(draft)
    return [submission.prompt(turn, draft)]


async def _choose_field(turn: Turn, draft: Initiative, call: cb.ChooseField) -> list[Reply]:
    """The list of fields that can be edited from the summary (with the reviewers' request)."""
    _refuse_unless(draft.step == SUMMARY)
    choices = [Button(f"field.{name}", cb.EditField(draft.id, name).encode()) for name in NAMES]
    back = Button("button.to_summary", cb.ToSummary(draft.id).encode())
    request = await submission.reviewer_request(turn, draft)
    args = {"request": Msg("ask.request", {"request": request}) if request else ""}
    return [Reply("draft.pick_field", args, (*rows(*choices, per_row=2), (back,)), edit=True)]


async def _edit_field(turn: Turn, draft: Initiative, call: cb.EditField) -> list[Reply]:
    """Edit one field, then come back to the summary."""
    _refuse_unless(draft.step == SUMMARY and call.field in NAMES)
    draft.step, draft.editing = call.field, True
    draft.version += 1
    await turn.tx.save_initiative(draft, now=turn.now)
    await turn.tx.load_children(draft)
    return [submission.prompt(turn, draft, request=await submission.reviewer_request(turn, draft))]


async def _cancel(turn: Turn, draft: Initiative, call: cb.CancelDraft) -> list[Reply]:
    """Ask before cancelling a draft (or pausing a revision)."""
    keep = Button("button.keep", cb.ResumeDraft(draft.id).encode())
    if draft.status is not Status.DRAFT:  # a revision is only paused: nothing is deleted
        stop = Button("button.confirm_pause", cb.ConfirmCancel(draft.id).encode())
        return [Reply("review.confirm_pause", {"code": draft.code or ""}, rows(stop, keep))]
    drop = Button("button.confirm_cancel", cb.ConfirmCancel(draft.id).encode())
    return [Reply("draft.confirm_cancel", {}, rows(drop, keep))]


async def _confirm_cancel(turn: Turn, draft: Initiative, call: cb.ConfirmCancel) -> list[Reply]:
    """Delete the draft (a revision is paused, nothing lost)."""
    if draft.status is not Status.DRAFT:
        await submission.pause_revision(turn, draft)
        return [Reply("review.revision_paused", {"code": draft.code or ""})]
    await turn.tx.delete_draft(draft.id)
    return [Reply("draft.cancelled")]


async def _restart(turn: Turn, draft: Initiative, call: cb.RestartDraft) -> list[Reply]:
    """Start over: a draft's answers are discarded only once confirmed; a revision is paused
    (nothing is lost) and a new draft begins."""
    if draft.status is Status.DRAFT:
        drop = Button("button.confirm_restart", cb.ConfirmRestart(draft.id).encode())
        keep = Button("button.keep_draft", cb.ResumeDraft(draft.id).encode())
        return [Reply("draft.confirm_restart", draft_args(draft), rows(drop, keep))]
    await submission.pause_revision(turn, draft)
    return await submission.start(turn)


async def _confirm_restart(turn: Turn, draft: Initiative, call: cb.ConfirmRestart) -> list[Reply]:
    """Discard the draft and begin a new one."""
    _refuse_unless(draft.status is Status.DRAFT)
    await turn.tx.delete_draft(draft.id)
    return await submission.start(turn)


async def _answer_again(turn: Turn, draft: Initiative, call: cb.AnswerAgain) -> list[Reply]:
    """The repeated answer was meant: take the previous field's text for this one too."""
    previous = preceding(draft.step)
    _refuse_unless(call.version == draft.version and previous is not None and not draft.editing)
    assert previous is not None
    setattr(draft, draft.step, getattr(draft, previous))
    return [Reply("draft.same_taken", edit=True), *await submission.advance(turn, draft)]


async def _submit(turn: Turn, draft: Initiative, call: cb.Submit | cb.SubmitAnyway) -> list[Reply]:
    """Submit the summary the person saw; look-alikes are shown once before a first submission."""
    _refuse_unless(draft.step == SUMMARY and call.version == draft.version)
    if isinstance(call, cb.Submit) and draft.status is Status.DRAFT and (hints := await turn.similar(draft)):
        return [submission.similar_warning(draft, hints)]
    return await submission.submit(turn, draft)


PRESSES: dict[type[cb.DraftCallback], Callable[[Turn, Initiative, Any], Awaitable[list[Reply]]]] = {
    cb.PickCategory: _pick_category,
    cb.PickKind: _pick_kind,
    cb.SkipField: _skip_field,
    cb.FilesDone: _files_done,
    cb.ClearFiles: _clear_files_press,
    cb.StepBack: _step_back,
    cb.NotQuantifiable: _not_quantifiable,
    cb.ResumeDraft: _resume,
    cb.ToSummary: _to_summary,
    cb.ChooseField: _choose_field,
    cb.EditField: _edit_field,
    cb.CancelDraft: _cancel,
    cb.ConfirmCancel: _confirm_cancel,
    cb.RestartDraft: _restart,
    cb.ConfirmRestart: _confirm_restart,
    cb.AnswerAgain: _answer_again,
    cb.Submit: _submit,
    cb.SubmitAnyway: _submit,
}


async def _skip(turn: Turn, draft: Initiative) -> list[Reply]:
    """Leave an optional field empty and move on."""
    if draft.step == "coauthors":
        draft.author_percent, draft.coauthors = 100, []
        await turn.tx.replace_coauthors(draft)
    elif draft.step != "attachments":
        setattr(draft, draft.step, None)
    return await submission.advance(turn, draft)


async def _clear_files(turn: Turn, draft: Initiative) -> list[Reply]:
    """Remove every file sent for the draft, and ask for files again."""
    await turn.tx.load_children(draft)
    removed = len(draft.attachments)
    await turn.tx.clear_attachments(draft.id)
    draft.attachments = []
    draft.version += 1
    await turn.tx.save_initiative(draft, now=turn.now)
    return [Reply("file.cleared", {"count": removed}), submission.prompt(turn, draft)]


async def _back(turn: Turn, draft: Initiative) -> list[Reply]:
    """Go one field back, keeping every answer."""
    previous = preceding(draft.step)
    if previous is None:
        raise InvalidInput("error.stale_button")
    draft.step = previous
    draft.version += 1
    await turn.tx.save_initiative(draft, now=turn.now)
    return [submission.prompt(turn, draft)]
