"""The one entry point of the core: take an inbound event, run the right step, return replies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot import callbacks as cb
from bot import library, privacy, registration, submission
from bot.clock import Clock, utc_now
from bot.config import Config
from bot.errors import InvalidInput
from bot.fields import SUMMARY
from bot.menu import help_text, main_menu
from bot.messages import Command, Inbound, Payload, Press, Reply
from bot.ports import Store
from bot.turn import Turn

DRAFT_ACTIONS = frozenset(
    {
        "cat",
        "type",
        "skip",
        "back",
        "done",
        "submit",
        "edit",
        "editf",
        "summary",
        "cancel",
        "cancelok",
        "resume",
        "restart",
    }
)
REGISTERED_COMMANDS = frozenset({"new", "my", "profile", "done"})


@dataclass(frozen=True)
class Outcome:
    """What to send back, and in which language."""

    locale: str
    replies: list[Reply]


class Conversation:
    """Routes every update of every channel through registration, submission and the library."""

    def __init__(self, store: Store, config: Config, clock: Clock = utc_now) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    async def handle(self, event: Inbound) -> Outcome:
        """Process one update inside one transaction; a repeated delivery yields no replies."""
        now = self.clock()
        default = self.config.bot.locale
        async with self.store.transaction() as tx:
            if event.seq and not await tx.claim_update(event.ref.channel, event.seq, now=now):
                return Outcome(default, [])
            if not event.private:
                first = await tx.claim_group_notice(event.chat_key, now=now)
                return Outcome(default, [Reply("group.private_only")] if first else [])
            user = await tx.user_by_ref(event.ref) or await tx.create_user(
                event.ref, locale=default, now=now
            )
            before = replace(user)
            user.username = event.username
            turn = Turn(tx, user, now, self.config)
            try:
                replies = await self._route(turn, event.payload)
            except InvalidInput as error:
                replies = [Reply(error.key, error.args_), *await self._reprompt(turn)]
            if user != before and not user.deleted:
                await tx.save_user(user, now=now)
            return Outcome(user.locale, replies)

    async def prune_updates(self, keep: timedelta) -> int:
        """Forget handled update ids older than `keep` (repeats arrive within seconds, not days)."""
        async with self.store.transaction() as tx:
            return await tx.prune_updates(before=self.clock() - keep)

    async def _reprompt(self, turn: Turn) -> list[Reply]:
        """Repeat the question the person is at, so an error never loses the place."""
        if not turn.user.registered or turn.user.editing_profile:
            return [await registration.prompt(turn)]
        draft = await turn.tx.draft_of(turn.user.id)
        if draft is None:
            return []
        if draft.step == SUMMARY or draft.step == "attachments":
            await turn.tx.load_children(draft)
        return [submission.prompt(turn, draft)]

    async def _route(self, turn: Turn, payload: Payload) -> list[Reply]:
        """Send the payload to the flow it belongs to."""
        if isinstance(payload, Command):
            return await self._command(turn, payload)
        if isinstance(payload, Press):
            call = cb.decode(payload.data)
            if call is None:
                raise InvalidInput("error.stale_button")
            try:
                return await self._press(turn, call)
            except ValueError as exc:
                raise InvalidInput("error.stale_button") from exc
        if not turn.user.registered or turn.user.editing_profile:
            return await registration.answer(turn, payload)
        draft = await turn.tx.draft_of(turn.user.id)
        if draft is not None:
            return await submission.answer(turn, draft, payload)
        return [Reply("idle.hint"), main_menu()]

    async def _command(self, turn: Turn, command: Command) -> list[Reply]:
        """Answer a slash command."""
        user, name = turn.user, command.name
        if user.editing_profile and name != "cancel":
            registration.stop_editing(user)
        if name == "start":
            if not user.registered:
                return await registration.begin(turn, command.args.strip())
            if command.args.strip():
                return [Reply("register.already", {"name": user.full_name or ""}), main_menu()]
            return [main_menu()]
        if name == "help":
            return [help_text()]
        if name == "language":
            return [registration.language_menu(user)]
        if name == "privacy":
            return [privacy.notice()]
        if name == "cancel":
            return await self._cancel(turn)
        if name not in REGISTERED_COMMANDS:
            raise InvalidInput("error.unknown_command", command=name[:32])
        if not user.registered:
            raise InvalidInput("error.register_first")
        if name == "new":
            return await submission.start(turn)
        if name == "my":
            return await library.listing(turn, 0)
        if name == "profile":
            return await registration.show_profile(turn)
        return await self._draft_press(turn, cb.Callback("done", ("0",)), any_draft=True)

    async def _cancel(self, turn: Turn) -> list[Reply]:
        """Answer /cancel at any step."""
        if turn.user.editing_profile:
            return await registration.cancel_edit(turn)
        if turn.user.registered:
            draft = await turn.tx.draft_of(turn.user.id)
            if draft is not None:
                return await submission.press(turn, draft, cb.Callback("cancel", (str(draft.id),)))
        raise InvalidInput("error.nothing_to_cancel")

    async def _press(self, turn: Turn, call: cb.Callback) -> list[Reply]:
        """Answer a button press after checking it still fits the person's state."""
        user = turn.user
        if call.action in ("lang", "consent", "unit"):
            return await registration.press(turn, call)
        if user.editing_profile and call.action != "prof":
            registration.stop_editing(user)
        if not user.registered:
            raise InvalidInput("error.register_first")
        if call.action == "menu":
            return await self._menu(turn, call.args[0])
        if call.action == "prof":
            return await registration.edit_profile(turn, call)
        if call.action == "priv":
            return await privacy.press(turn, call)
        if call.action == "my":
            return await library.listing(turn, call.int_arg(0), edit=True)
        if call.action == "open":
            return await library.open_one(turn, call.int_arg(0))
        if call.action == "wd":
            return await library.ask_withdraw(turn, call.int_arg(0))
        if call.action == "wdok":
            return await library.withdraw(turn, call.int_arg(0), call.int_arg(1))
        return await self._draft_press(turn, call)

    async def _draft_press(
        self, turn: Turn, call: cb.Callback, *, any_draft: bool = False
    ) -> list[Reply]:
        """Pass a draft button to the submission flow if it belongs to the open draft."""
        draft = await turn.tx.draft_of(turn.user.id)
        if (
            call.action not in DRAFT_ACTIONS
            or draft is None
            or (not any_draft and call.int_arg(0) != draft.id)
        ):
            raise InvalidInput("error.stale_button")
        return await submission.press(turn, draft, call)

    async def _menu(self, turn: Turn, choice: str) -> list[Reply]:
        """Answer a main-menu button."""
        if choice == "new":
            return await submission.start(turn)
        if choice == "my":
            return await library.listing(turn, 0)
        if choice == "profile":
            return await registration.show_profile(turn)
        if choice == "privacy":
            return [privacy.notice()]
        return [help_text()]
