"""Dispatch of one private-chat payload to the flow it belongs to: commands, buttons, answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import admin, draft_buttons, library, linking, privacy, queue, receipts, registration, review, submission
from bot import callbacks as cb
from bot.errors import InvalidInput
from bot.fields import SUMMARY
from bot.i18n import Msg
from bot.menu import help_text, main_menu
from bot.messages import Button, Command, Edited, Inbound, Press, Reply, Text, rows
from bot.textnorm import display_name
from bot.turn import Turn

OPEN_COMMANDS = frozenset({"start", "help", "language", "privacy", "cancel", "link"})
GROUP_ONLY_COMMANDS = frozenset({"reviewgroup"})  # in a council's Telegram group: Zalo bots have no groups
REGISTERED_COMMANDS = frozenset(
    {
        "new",
        "my",
        "profile",
        "done",
        "pending",
        "review",
        "grant",
        "revoke",
        "reviewers",
        "reminders",
        "campaigns",
        "campaign",
    }
)


async def reprompt(turn: Turn) -> list[Reply]:
    """Repeat the question the person is at, so an error never loses the place."""
    if not turn.user.registered or turn.user.editing_profile:
        return [await registration.prompt(turn)]
    if turn.user.awaiting:
        return await review.ask_again(turn)
    draft = await turn.tx.draft_of(turn.user.id)
    if draft is None:
        return []
    if draft.step in (SUMMARY, "attachments") or draft.editing:
        await turn.tx.load_children(draft)
    return [submission.prompt(turn, draft, request=await submission.reviewer_request(turn, draft))]


async def route(turn: Turn, event: Inbound) -> list[Reply]:
    """Send the payload to the flow it belongs to."""
    payload = event.payload
    if isinstance(payload, Edited):
        raise InvalidInput("error.edited")
    if isinstance(payload, Command):
        return await command(turn, payload, event)
    if isinstance(payload, Press):
        call = cb.decode(payload.data)
        if call is None:
            raise InvalidInput("error.stale_button")
        return await press(turn, call)
    if not turn.user.registered or turn.user.editing_profile:
        return await registration.answer(turn, payload)
    if turn.user.awaiting:
        if not isinstance(payload, Text):
            raise InvalidInput("error.expected_text")
        return await review.answer(turn, payload.text)
    draft = await turn.tx.draft_of(turn.user.id)
    if draft is not None:
        return await submission.answer(turn, draft, payload)
    return [Reply("idle.hint"), main_menu()]


async def command(turn: Turn, cmd: Command, event: Inbound) -> list[Reply]:
    """Answer a slash command (any command ends a pending reviewer question)."""
    user, name, args = turn.user, cmd.name, cmd.args
    if name in GROUP_ONLY_COMMANDS:
        raise InvalidInput("error.group_only_command", command=name)
    if name not in OPEN_COMMANDS | REGISTERED_COMMANDS:
        raise InvalidInput("error.unknown_command", command=name[:32])
    if user.editing_profile and name != "cancel":
        registration.stop_editing(user)
    if user.awaiting:
        user.awaiting = None
        if name == "cancel":
            return [Reply("review.cancelled")]
    if name == "start":
        if not user.registered:
            return await registration.begin(turn, args.strip())
        menu = main_menu(await turn.tx.draft_of(user.id))
        return [Reply("register.already", {"name": display_name(user.full_name)}), menu] if args.strip() else [menu]
    if name == "help":  # then the question the person is at, so the help never loses the place
        return [help_text(), *await reprompt(turn)]
    if name == "language":
        return [registration.language_menu(user)]
    if name == "privacy":
        return [privacy.notice()]
    if name == "cancel":
        return await cancel(turn)
    if name == "link":
        return await (linking.use_code(turn, event.ref, args) if args.strip() else linking.show_code(turn))
    if not user.registered:
        raise InvalidInput("error.register_first")
    handlers = {
        "new": lambda: filed_first(turn, lambda: submission.start(turn)),
        "my": lambda: filed_first(turn, lambda: library.listing(turn, 0)),
        "profile": lambda: registration.show_profile(turn),
        "done": lambda: draft_press(turn, cb.FilesDone(0), any_draft=True),
        "pending": lambda: queue.pending_command(turn, args),
        "review": lambda: review_by_code(turn, args),
        "grant": lambda: admin.grant_command(turn, args, event.reply_to),
        "revoke": lambda: admin.reviewers_list(turn, revoke_buttons=True),
        "reviewers": lambda: admin.reviewers_list(turn, revoke_buttons=False),
        "reminders": lambda: reminders_menu(turn),
        "campaigns": lambda: admin.campaigns(turn),
        "campaign": lambda: admin.change_campaign(turn, args),
    }
    return await handlers[name]()


async def review_by_code(turn: Turn, args: str) -> list[Reply]:
    """Answer /review SK-2026-000123."""
    code = args.strip()
    item = await turn.tx.initiative_by_code(code) if code else None
    if item is None:
        raise InvalidInput("error.code_not_found", code=code[:30] or "—")
    return await review.open_card(turn, item)


async def cancel(turn: Turn) -> list[Reply]:
    """Answer /cancel at any step."""
    if turn.user.editing_profile:
        return await registration.cancel_edit(turn)
    if turn.user.registered:
        draft = await turn.tx.draft_of(turn.user.id)
        if draft is not None:
            return await draft_buttons.press(turn, draft, cb.CancelDraft(draft.id))
    raise InvalidInput("error.nothing_to_cancel")


async def press(turn: Turn, call: cb.Callback) -> list[Reply]:
    """Answer a button press after checking it still fits the person's state."""
    user = turn.user
    if isinstance(call, cb.SetLanguage | cb.Consent | cb.PickUnit):
        return await registration.press(turn, call)
    if user.editing_profile and not isinstance(call, cb.EditProfile):
        registration.stop_editing(user)
    if isinstance(call, cb.PrivacyChoice):  # /privacy is open to anyone, registered or not
        return await privacy.press(turn, call)
    if call == cb.MenuChoice("privacy"):  # its "keep my account" button
        return [privacy.notice()]
    if not user.registered:
        raise InvalidInput("error.register_first")
    if isinstance(call, cb.DraftCallback):
        return await draft_press(turn, call)
    handler = PRESSES.get(type(call))
    if handler is None:
        raise InvalidInput("error.stale_button")
    return await handler(turn, call)


PRESSES: dict[type[cb.Callback], Callable[[Turn, Any], Awaitable[list[Reply]]]] = {
    cb.MenuChoice: lambda turn, call: menu(turn, call.choice),
    cb.EditProfile: registration.edit_profile,
    cb.MyPage: lambda turn, call: library.listing(turn, call.page, edit=True),
    cb.OpenInitiative: lambda turn, call: library.open_one(turn, call.initiative),
    cb.AskWithdraw: lambda turn, call: library.ask_withdraw(turn, call.initiative),
    cb.ConfirmWithdraw: lambda turn, call: library.withdraw(turn, call.initiative, call.version),
    cb.Revise: lambda turn, call: submission.revise(turn, call.initiative),
    cb.ReviewAction: lambda turn, call: review.press(turn, call, in_group=False),
    cb.RejectReason: review.press_reason,
    cb.AppliedAsGiven: review.press_applied_since,
    cb.CancelQuestion: lambda turn, call: review.cancel_question(turn, call.initiative),
    cb.ShowCard: lambda turn, call: card_by_id(turn, call.initiative),
    cb.PendingPage: lambda turn, call: queue.pending(turn, call.page, call.unit, call.category, edit=True),
    cb.GrantPerson: lambda turn, call: admin.pick_person(turn, call.user),
    cb.GrantUnit: lambda turn, call: admin.grant(turn, call.user, call.unit),
    cb.RevokeGrant: lambda turn, call: admin.revoke(turn, call.grant),
    cb.SetReminders: lambda turn, call: set_reminders(turn, call.choice),
}


async def card_by_id(turn: Turn, initiative_id: int) -> list[Reply]:
    """Show the card of an initiative to one of its reviewers."""
    item = await turn.tx.initiative(initiative_id)
    if item is None:
        raise InvalidInput("error.stale_button")
    return await review.open_card(turn, item)


async def draft_press(turn: Turn, call: cb.DraftCallback, *, any_draft: bool = False) -> list[Reply]:
    """Pass a draft button to the submission flow if it belongs to the open draft."""
    draft = await turn.tx.draft_of(turn.user.id)
    if draft is None or (not any_draft and call.draft != draft.id):
        raise InvalidInput("error.stale_button")
    return await draft_buttons.press(turn, draft, call)


async def filed_first(turn: Turn, answer: Callable[[], Awaitable[list[Reply]]]) -> list[Reply]:
    """`answer()`, after a word on an initiative filed whose receipt may not have reached the person."""
    filed = await receipts.filed_unseen(turn)
    return [*filed, *await answer()]


async def menu(turn: Turn, choice: str) -> list[Reply]:
    """Answer a main-menu button."""
    if choice == "new":
        return await filed_first(turn, lambda: submission.start(turn))
    if choice == "my":
        return await filed_first(turn, lambda: library.listing(turn, 0))
    if choice == "profile":
        return await registration.show_profile(turn)
    return [help_text()]


async def reminders_menu(turn: Turn, *, edit: bool = False) -> list[Reply]:
    """Answer /reminders: say whether reminders and the weekly leaderboard are on, each switched apart."""
    user = turn.user
    reminders = cb.SetReminders("on" if user.reminders_off else "off").encode()
    board = cb.SetReminders("board_on" if user.leaderboard_off else "board_off").encode()
    buttons = rows(
        Button("reminders.turn_on" if user.reminders_off else "reminders.turn_off", reminders),
        Button("reminders.board_on" if user.leaderboard_off else "reminders.board_off", board),
    )
    args = {
        "reminders": Msg("reminders.is_off" if user.reminders_off else "reminders.is_on"),
        "board": Msg("reminders.is_off" if user.leaderboard_off else "reminders.is_on"),
    }
    return [Reply("reminders.status", args, buttons, edit=edit)]


async def set_reminders(turn: Turn, choice: str) -> list[Reply]:
    """Switch reminders ("on"/"off") or the weekly leaderboard ("board_on"/"board_off"), then show
    both again. A button sent before they were apart ("off") now switches reminders only."""
    if choice in ("on", "off"):
        turn.user.reminders_off = choice == "off"
    elif choice in ("board_on", "board_off"):
        turn.user.leaderboard_off = choice == "board_off"
    else:
        raise InvalidInput("error.stale_button")
    return await reminders_menu(turn, edit=True)
