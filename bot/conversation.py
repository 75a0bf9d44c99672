"""The one entry point of the core: take an inbound event, run the right step, return replies."""

from __future__ import annotations

import asyncio
import logging
import uuid
from copy import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot import admin, registration, review, router
from bot import callbacks as cb
from bot.campaigns import CampaignCache
from bot.chunks import CHUNK
from bot.clock import Clock, utc_now
from bot.config import Config
from bot.delivery import Delivery
from bot.domain import RegStep
from bot.errors import InvalidInput
from bot.messages import (
    PRIVATE_CHAT_LINK,
    Button,
    Command,
    Edited,
    Inbound,
    Notice,
    Outcome,
    Press,
    Reply,
    Shown,
    Text,
    private_chat,
    rows,
    strip_buttons,
)
from bot.ports import Store, Tx
from bot.receipts import RECEIPT_GRACE
from bot.turn import Turn

log = logging.getLogger(__name__)

GROUP_COMMANDS = frozenset({"reviewgroup", "grant"})
# Telegram repeats an update within minutes; it starts its ids over (at random) only after a week
# without updates, so an id handled longer ago than this is a new update, and its row can go.
REPEATS_WITHIN = timedelta(days=7)


def notice_prefix(event: Inbound, now: datetime) -> str:
    """The outbox key of what an update tells others: its channel and number, and the time (the
    number starts over after a week without updates), or a fresh token for a channel without numbers."""
    if not event.seq:
        return f"notice:{event.ref.channel}:{uuid.uuid4().hex}"
    return f"notice:{event.ref.channel}:{event.seq}:{int(now.timestamp())}"


def menu_chat(event: Inbound) -> str:
    """The chat whose numbered menu an update answers."""
    return event.chat_key or private_chat(event.ref)


def answered_step(turn: Turn, event: Inbound, replies: list[Reply]) -> list[Reply]:
    """The buttons of the step a person answered go: by typing (or leaving it with a command), or
    by one of its buttons when the answer does not change that message in place. They are removed
    before the answer's replies in the same chat, or through the outbox in the other app's chat."""
    kept = turn.user.step_keyboard
    if kept is None or isinstance(event.payload, Edited):
        return []
    chat, _, message = kept.rpartition(":")
    if isinstance(event.payload, Press):
        if chat != event.chat_key or str(event.pressed) != message:
            return []  # a button elsewhere: the step is still open
        turn.user.step_keyboard = None
        if any(r.edit and r.target is None for r in replies):
            return []  # the answer changes the pressed message itself
    turn.user.step_keyboard = None
    if not message.isdigit():
        return []
    if chat == event.chat_key:
        return [strip_buttons(int(message))]
    turn.notify(chat, turn.user.locale, strip_buttons(int(message)))
    return []


class Conversation:
    """Routes every update of every channel; one transaction per update."""

    def __init__(
        self, store: Store, config: Config, delivery: Delivery, clock: Clock = utc_now, finder: Any = None
    ) -> None:
        self.store = store
        self.config = config
        self.delivery = delivery
        self.clock = clock
        self.finder = finder
        self.campaigns = CampaignCache()

    async def handle(self, event: Inbound) -> Outcome:
        """Process one update inside one transaction; a repeated delivery yields no replies, and a
        failure rolls the transaction back and tells the person, in their language, to try again."""
        try:
            return await self._handle(event)
        except Exception:
            log.exception("update %s from %s:%s failed", event.seq, event.ref.channel, event.ref.external_id)
            return Outcome(await self._locale_of(event), [Reply("error.internal")] if event.private else [])

    async def _locale_of(self, event: Inbound) -> str:
        """The language the sender chose, read afresh (the default if even that fails)."""
        try:
            async with self.store.transaction() as tx:
                user = await tx.user_by_ref(event.ref) or await tx.linked_user(event.ref)
        except Exception:
            log.exception("could not read the language of %s:%s", event.ref.channel, event.ref.external_id)
            return self.config.bot.locale
        return user.locale if user else self.config.bot.locale

    async def _handle(self, event: Inbound) -> Outcome:
        """Process one update inside one transaction; what it tells others is written to the
        outbox in that transaction, and their channels' senders are woken once it committed."""
        now = self.clock()
        chats: set[str] = set()
        async with self.store.transaction() as tx:
            outcome, turn = await self._turn(tx, event, now)
            if turn is not None:
                outcome = await self._write_outbox(tx, event, turn, outcome, chats)
        if turn is not None:
            for done in turn.after_commit:
                done()
            self.delivery.wake(chats)
        return outcome

    async def _write_outbox(self, tx: Tx, event: Inbound, turn: Turn, outcome: Outcome, chats: set[str]) -> Outcome:
        """Write what the turn tells others, and the answers it keeps (receipts, sent from the
        outbox later unless the channel confirms them first), into the update's transaction;
        `chats` gets the chats they go to."""
        if turn.notices:
            prefix = notice_prefix(event, turn.now)
            told = await self.delivery.enqueue_notices(
                tx, turn.notices, job_run_id=None, key_prefix=prefix, numbered=True
            )
            chats |= told.chats
        kept = []
        for prefix, reply in turn.kept:
            chat = private_chat(turn.user.ref)
            notice = Notice(chat, turn.user.locale, (reply,))
            await self.delivery.enqueue_notices(tx, [notice], job_run_id=None, key_prefix=prefix, delay=RECEIPT_GRACE)
            kept.append(f"{prefix}:{chat}")
        return replace(outcome, kept=tuple(kept)) if kept else outcome

    async def delivered(self, keys: tuple[str, ...]) -> None:
        """The channel sent the update's answer: its kept replies are not sent again from the outbox."""
        await self.delivery.delivered(keys)

    async def shown(self, event: Inbound, outcome: Outcome, shown: Shown) -> None:
        """The answer's review cards and step buttons went out as these messages: keep their ids (a
        person's older card of the same initiative loses its buttons) in one short transaction,
        only when there is something new to keep (on SQLite, answers kept at the same moment share
        a commit: storage/engine.py)."""
        asked = f"{shown.chat}:{shown.question}" if shown.question is not None and event.private else None
        keyboard = asked if asked != outcome.keyboard else None
        if not shown.cards and keyboard is None:
            return
        try:
            async with self.store.transaction() as tx:
                if keyboard is not None and not await tx.set_step_keyboard(event.ref, keyboard):
                    user = await tx.linked_user(event.ref)
                    if user is not None:
                        await tx.set_step_keyboard(user.ref, keyboard)
                replaced = await self.delivery.keep_cards(tx, shown.chat, shown.cards)
        except Exception:  # the answer went out: at worst an old button stays live (and is refused)
            log.exception("could not keep the messages shown to %s:%s", event.ref.channel, event.ref.external_id)
            return
        if replaced:
            self.delivery.wake([shown.chat])

    async def _turn(self, tx: Tx, event: Inbound, now: datetime) -> tuple[Outcome, Turn | None]:
        """Run the update's step: what to answer, and the turn (None when nothing was done)."""
        default = self.config.bot.locale
        seen_after = now - REPEATS_WITHIN
        if event.seq and not await tx.claim_update(event.ref.channel, event.seq, now=now, seen_after=seen_after):
            return Outcome(default, []), None
        # one person's updates, one at a time: their row stays locked until the commit
        user = await tx.user_by_ref(event.ref, for_update=True) or await tx.linked_user(event.ref, for_update=True)
        if not event.private:
            return await self._group(tx, event, user)
        user = user or await tx.create_user(event.ref, locale=default, now=now)
        event = await self._read_number(tx, event)
        if user.blocked:
            await tx.unblock(user.id)
            user.blocked = False
        before = copy(user)
        user.username = event.username
        user.last_channel = event.ref.channel  # messages for the person go to the app they use now
        book = await self.campaigns.get(tx, now)
        turn = Turn(tx, user, now, self.config, book=book, finder=self.finder)
        try:
            replies = await router.route(turn, event)
        except InvalidInput as error:
            replies = [Reply(error.key, error.args_), *await router.reprompt(turn)]
        if before.reg_step is RegStep.PHONE and user.reg_step is not RegStep.PHONE:
            replies = registration.without_contact_keyboard(replies)  # the phone question is over
        replies = [*answered_step(turn, event, replies), *replies]
        if user != before and not user.deleted:
            await tx.save_user(user, now=now)
        if turn.campaigns_changed:
            self.campaigns.invalidate()
        if event.numbering is not None:  # the menu these replies show is what a number means next time
            offered = event.numbering.offered(user.locale, replies)
            if offered is not None:
                await tx.offer_menu(menu_chat(event), offered, now=now)
        return Outcome(user.locale, replies, turn.alert, keyboard=user.step_keyboard), turn

    @staticmethod
    async def _read_number(tx: Tx, event: Inbound) -> Inbound:
        """On a channel without buttons, a typed number or option text is a press of the option it
        names in the menu the chat was offered last (kept in the database, so any process reads it)."""
        if event.numbering is None or not isinstance(event.payload, Text):
            return event
        picked = event.numbering.pick(event.payload.text, await tx.offered_menu(menu_chat(event)))
        return replace(event, payload=Press(picked)) if picked is not None else event

    async def _group(self, tx: Tx, event: Inbound, user: Any) -> tuple[Outcome, Turn | None]:
        """In a group: the council's card buttons, /reviewgroup by an admin, else one notice."""
        default = self.config.bot.locale
        payload = event.payload
        acting = isinstance(payload, Press) or (isinstance(payload, Command) and payload.name in GROUP_COMMANDS)
        if not acting:
            first = await tx.claim_group_notice(event.chat_key, now=self.clock())
            opener = rows(Button("group.open_private", PRIVATE_CHAT_LINK))
            return Outcome(default, [Reply("group.private_only", {}, opener)] if first else []), None
        if user is None or not user.registered:
            if isinstance(payload, Command):  # a command deserves an answer, not silence
                return Outcome(default, [Reply("error.register_first")]), None
            return Outcome(default, [], alert="error.not_reviewer"), None
        before = copy(user)
        user.last_channel = event.ref.channel  # a press in a group is the person using that app too
        book = await self.campaigns.get(tx, self.clock())
        turn = Turn(tx, user, self.clock(), self.config, book=book, finder=self.finder)
        try:
            if isinstance(payload, Press):
                replies = await self._group_press(turn, event.chat_key, payload.data)
            elif isinstance(payload, Command) and payload.name == "grant":
                # /grant in reply to someone's message in a group: the unit is chosen in private
                found = await admin.grant_command(turn, payload.args, event.reply_to)
                turn.notify(private_chat(user.ref), user.locale, *found)
                replies = []
            else:
                assert isinstance(payload, Command)
                replies = await admin.bind_group(turn, event.chat_key, payload.args)
        except InvalidInput as error:
            turn.alert = turn.alert or error.key
            replies = [] if isinstance(payload, Press) else [Reply(error.key, error.args_)]
        if user != before:
            await tx.save_user(user, now=turn.now)
        return Outcome(default, replies, turn.alert), turn

    async def _group_press(self, turn: Turn, chat_key: str, data: str) -> list[Reply]:
        """A card button pressed in a review group: only that unit's reviewers may act."""
        call = cb.decode(data)
        if not isinstance(call, cb.ReviewAction | cb.ShowCard):
            raise InvalidInput("error.stale_button")
        item = await turn.tx.initiative(call.initiative)
        group_units = {u.id for u in await turn.tx.unit_by_review_chat(chat_key)}
        if item is None or item.review_unit_id not in group_units:
            raise InvalidInput("error.not_reviewer")
        if isinstance(call, cb.ShowCard):
            return await review.open_card(turn, item)
        return await review.press(turn, call, in_group=True)

    async def prune_updates(self, keep: timedelta = REPEATS_WITHIN, *, chunk: int = CHUNK) -> int:
        """Forget handled update ids older than `keep`: no repeat of theirs can come any more.

        The table has no index on time (one page fewer per update): each transaction looks at the
        next `chunk` keys, so none holds the database long, whatever order the ids came in."""
        before = self.clock() - keep
        removed, after = 0, None
        while True:
            async with self.store.transaction() as tx:
                step = await tx.prune_updates(before=before, after=after, scan=chunk)
            removed, after = removed + step.removed, step.after
            if after is None:
                return removed
            await asyncio.sleep(0)  # let updates in between chunks
