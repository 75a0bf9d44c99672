"""Send the outbox through Telegram within its limits, each message marked sent as soon as confirmed.

Exactly once, as far as the Bot API allows (it has no idempotency key): a row is marked sent in its
own commit as the very next statement after Telegram's answer, so a restart resumes with exactly the
rows still pending, and `stop()` ends a drain without cutting a request off. The one window left is
a hard kill (SIGKILL, power loss) between Telegram accepting a message and that commit: the answer's
way back (half a round trip, ~50 ms) plus parsing and the commit (a few milliseconds with its fsync);
at 30 messages/s that is one or two messages sent twice per kill, at most one per call in flight.
A timeout (the answer lost on the way) is retried and can duplicate the same way. Items of several
calls (text over 4,096 characters, a file after the text) are retried whole, so a picture and its
text go as one captioned photo whenever the text fits.

Several processes may send from one database: each claims the rows it takes with a lease (renewed
while it holds them, given back when a drain ends), records outcomes only for rows it holds, and
takes over a dead process's rows once their lease ends. `wake()` after a commit sends at once; the
poll every few seconds (`handlers/telegram/scheduling.py`) is the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import html
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, InputMediaPhoto, Message
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.delivery import Delivery, OutboxItem
from bot.domain import Attachment
from bot.i18n import Catalog
from bot.messages import KEEP_TEXT, FileOut, Reply
from handlers.files import FileStore
from handlers.telegram.api import TelegramBot
from handlers.telegram.limiter import RateLimiter
from handlers.telegram.outbound import Markup, markup, photo_source, retry_seconds, split_text, text_message

log = logging.getLogger(__name__)
CHANNEL = "telegram"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Step:
    """One Bot API call of an item; `picture` is the SHA-256 of the bytes it may upload."""

    send: Callable[[int | str], Awaitable[Any]]
    picture: str | None = None
    card: int | None = None  # the initiative whose review card the message it sends (or edits) is


@dataclass
class DrainStats:
    """What one `drain` did."""

    taken: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retrying: int = 0
    floods: int = 0
    timeouts: int = 0

    def __bool__(self) -> bool:
        """Whether the drain took anything."""
        return bool(self.taken)


def chat_id_of(chat: str) -> int | str:
    """The Telegram chat id in a chat key such as "telegram:12345" (or "telegram:@channel")."""
    _, _, external = chat.partition(":")
    try:
        return int(external)
    except ValueError:
        return external


class OutboxSender:
    """Drains the outbox: renders each item, paces it through the limiter, records the outcome."""

    def __init__(
        self,
        bot: TelegramBot,
        catalog: Catalog,
        delivery: Delivery,
        limiter: RateLimiter | None = None,
        *,
        concurrency: int = 16,
        batch: int = 200,
        flood_retries: int = 5,
        timeout_retries: int = 2,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        files: FileStore | None = None,
    ) -> None:
        self.bot = bot
        self.catalog = catalog
        self.delivery = delivery
        self.limiter = limiter or RateLimiter()
        self.concurrency = concurrency
        self.batch = batch
        self.flood_retries = flood_retries
        self.timeout_retries = timeout_retries
        self.sleep = sleep
        self.files = files  # photos the bot keeps itself (sent on Zalo), uploaded to Telegram
        self.photo_ids: dict[str, str] = {}
        self._uploads: dict[str, asyncio.Future[str | None]] = {}
        self._stopping = False
        self._woken = False
        self._changed: asyncio.Event | None = None  # set while a drain runs
        self._idle = asyncio.Event()
        self._idle.set()
        self._background: asyncio.Task[DrainStats] | None = None
        self._chats: dict[str, tuple[asyncio.Lock, int]] = {}  # items of one chat go one after another

    def stop(self) -> None:
        """Take no new items and start no new call; `drain` returns once the calls in flight are
        answered and marked (call before shutting down, so nothing is cut off mid-request)."""
        self._stopping = True
        if self._changed is not None:
            self._changed.set()

    def wake(self) -> None:
        """Messages were just committed: send them now (start a drain, or have the running one look
        again) instead of at the next poll."""
        self._woken = True
        if self._changed is not None:
            self._changed.set()
        elif not self._stopping and (self._background is None or self._background.done()):
            self._background = asyncio.get_running_loop().create_task(self.drain())
            self._background.add_done_callback(_log_failure)

    async def drain(self, max_messages: int | None = None) -> DrainStats:
        """Send what is due (at most `max_messages` items) until nothing due is left. An item whose
        chat must wait (1/s private, 20/min group) steps aside for others instead of holding a slot.
        One drain at a time: called while one runs, it wakes that one and waits for it to end."""
        if self._changed is not None:
            self.wake()
            await self._idle.wait()
            return DrainStats()
        self._idle.clear()
        self._changed = asyncio.Event()
        try:
            return await self._drain(max_messages, self._changed)
        finally:
            self._changed = None
            self._idle.set()

    async def _drain(self, max_messages: int | None, changed: asyncio.Event) -> DrainStats:
        """The drain loop: claim due items, pace them, keep the claims of those held alive."""
        stats = DrainStats()
        inflight: set[int] = set()
        ready: deque[OutboxItem] = deque()
        later: list[tuple[float, int, OutboxItem]] = []
        slots = asyncio.Semaphore(self.concurrency)
        renew_every = self.delivery.lease.total_seconds() / 3
        renewed = self.limiter.now()
        try:
            async with asyncio.TaskGroup() as group:
                while (max_messages is None or stats.taken < max_messages) and not self._stopping:
                    now = self.limiter.now()
                    if now - renewed >= renew_every:  # items waiting on a chat's limit stay ours
                        await self.delivery.renew([*inflight, *(i.id for _, _, i in later), *(i.id for i in ready)])
                        renewed = now
                    if later and later[0][0] <= now:
                        item = heapq.heappop(later)[2]
                    elif ready:
                        item = ready.popleft()
                    else:
                        room = self.batch if max_messages is None else max_messages - stats.taken - len(later)
                        if room > 0 and len(later) < self.batch:
                            held = sorted(inflight.union(i.id for _, _, i in later))
                            self._woken = False
                            batch = await self.delivery.next_batch(min(room, self.batch), exclude=held, channel=CHANNEL)
                            ready.extend(batch)
                            if ready:
                                continue
                        if not later and not inflight:
                            if self._woken:  # committed while we looked: look again
                                continue
                            break
                        changed.clear()
                        timeout = min(later[0][0] - now, renew_every) if later else renew_every
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(changed.wait(), timeout)
                        continue
                    wait = self.limiter.chat_wait(chat_id_of(item.chat))
                    if wait > 0:
                        heapq.heappush(later, (now + wait, item.id, item))
                        continue
                    try:
                        await slots.acquire()
                    except BaseException:
                        ready.appendleft(item)
                        raise
                    if self._stopping:
                        slots.release()
                        ready.appendleft(item)
                        break
                    inflight.add(item.id)
                    stats.taken += 1
                    group.create_task(self._run(item, stats, slots, inflight, changed))
        finally:  # what was claimed and not sent goes back at once, for this process or another
            await self.delivery.release([*(i.id for _, _, i in later), *(i.id for i in ready)])
        return stats

    async def _run(
        self, item: OutboxItem, stats: DrainStats, slots: asyncio.Semaphore, inflight: set[int], done: asyncio.Event
    ) -> None:
        """Send one item and record what happened, after the items of its chat taken before it;
        never raises for a bad item."""
        lock, waiting = self._chats.get(item.chat, (asyncio.Lock(), 0))
        self._chats[item.chat] = (lock, waiting + 1)
        try:
            async with lock:
                await self._render_and_deliver(item, stats)
        finally:
            lock, waiting = self._chats[item.chat]
            if waiting == 1:
                del self._chats[item.chat]
            else:
                self._chats[item.chat] = (lock, waiting - 1)
            inflight.discard(item.id)
            slots.release()
            done.set()

    async def _render_and_deliver(self, item: OutboxItem, stats: DrainStats) -> None:
        """Render an item (the cards it edits looked up) and send it."""
        try:
            replies = await self.delivery.replies(item)
            edited = [r.card for r in replies if r.edit and r.card is not None and r.target is None]
            targets = await self.delivery.card_targets(item.chat, edited) if edited else {}
            steps = self._steps(item.locale, replies, targets)
        except Exception as exc:  # a payload or message key that cannot be rendered
            log.exception("outbox item %s cannot be rendered", item.id)
            await self.delivery.failed(item.id, f"render: {exc!r}", item.attempts, permanent=True)
            stats.failed += 1
            return
        await self._deliver(item, steps, stats)

    async def _deliver(self, item: OutboxItem, steps: list[Step], stats: DrainStats) -> None:
        """Make each call of an item, waiting out flood control; mark the item when done."""
        chat_id = chat_id_of(item.chat)
        cards: list[tuple[int, int]] = []
        for index, step in enumerate(steps):
            floods = timeouts = 0
            while True:
                if self._stopping and index == 0:
                    return  # nothing of it went out: it stays pending for the next start
                if step.picture is not None and step.picture in self._uploads:
                    await asyncio.shield(self._uploads[step.picture])  # upload each picture once
                await self.limiter.acquire(chat_id)
                if step.picture is not None and step.picture in self._uploads:
                    continue  # an upload began while we waited: this slot goes unused
                try:
                    message = await step.send(chat_id)
                    if step.card is not None and isinstance(message, Message):
                        cards.append((step.card, message.message_id))
                    break
                except RetryAfter as exc:
                    stats.floods += 1
                    floods += 1
                    if floods > self.flood_retries:
                        await self._failed(item, exc, stats)
                        return
                    log.warning("flood control for chat %s: waiting %ss", chat_id, retry_seconds(exc))
                    self.limiter.hold(chat_id, retry_seconds(exc))
                except ChatMigrated as exc:  # a group became a supergroup: same chat, new id
                    if chat_id == exc.new_chat_id:
                        await self._failed(item, exc, stats, permanent=True)
                        return
                    chat_id = exc.new_chat_id
                except Forbidden:
                    log.info("chat %s blocked the bot; outbox item %s dropped", chat_id, item.id)
                    await self.delivery.blocked(item.id, item.user_id)
                    stats.blocked += 1
                    return
                except BadRequest as exc:
                    await self._failed(item, exc, stats, permanent=True)
                    return
                except TimedOut as exc:
                    stats.timeouts += 1
                    timeouts += 1
                    if timeouts > self.timeout_retries:
                        await self._failed(item, exc, stats)
                        return
                    await self.sleep(float(2**timeouts))
                except TelegramError as exc:
                    await self._failed(item, exc, stats)
                    return
        await self.delivery.sent(item.id, chat=item.chat, cards=cards)  # the very next statement (module docstring)
        stats.sent += 1

    async def _failed(self, item: OutboxItem, exc: Exception, stats: DrainStats, *, permanent: bool = False) -> None:
        """Record a failed try: retried later with backoff, or given up."""
        log.warning("outbox item %s to %s failed: %s", item.id, item.chat, exc)
        error = f"{type(exc).__name__}: {exc}"
        retry_at = await self.delivery.failed(item.id, error, item.attempts, permanent=permanent)
        if retry_at is None:
            stats.failed += 1
        else:
            stats.retrying += 1

    def _steps(self, locale: str, replies: tuple[Reply, ...], targets: dict[int, int]) -> list[Step]:
        """The Bot API calls that deliver these replies, in order (`targets`: the message of each
        initiative's card in the chat, for the replies that edit it)."""
        steps: list[Step] = []
        for reply in replies:
            keyboard = markup(self.catalog, locale, reply, self.bot.username)
            if reply.edit:
                target = reply.target if reply.target is not None else targets.get(reply.card or 0)
                text = (
                    None
                    if reply.key == KEEP_TEXT
                    else self.catalog.render(locale, reply.key, reply.args, escape=html.escape)
                )
                steps.append(
                    Step(partial(self._edit, target, text, keyboard), card=None if text is None else reply.card)
                )
                continue
            text = self.catalog.render(locale, reply.key, reply.args, escape=html.escape)
            photo = _lone_photo(reply)
            if photo is not None and len(text) <= MessageLimit.CAPTION_LENGTH:
                steps.append(self._photo_step(photo, text, keyboard))
                continue
            if text.strip():
                parts = split_text(text)
                for index, part in enumerate(parts):
                    last = index == len(parts) - 1
                    steps.append(
                        Step(partial(self._text, part, keyboard if last else None), card=reply.card if last else None)
                    )
            steps.extend(self._extras(reply))
        return steps

    def _extras(self, reply: Reply) -> list[Step]:
        """Calls for a reply's file and attachments (photos as albums, documents one by one)."""
        steps: list[Step] = []
        if reply.file is not None:
            steps.append(Step(partial(self._file, reply.file)))
        photos = [a for a in reply.media if a.kind == "photo"]
        for start in range(0, len(photos), 10):
            batch = photos[start : start + 10]
            if len(batch) == 1:
                steps.append(self._photo_step(batch[0], html.escape(batch[0].caption or ""), None))
            else:
                steps.append(Step(partial(self._album, batch)))
        for doc in (a for a in reply.media if a.kind != "photo"):
            steps.append(Step(partial(self._document, doc)))
        return steps

    def _photo_step(self, photo: FileOut | Attachment, caption: str, keyboard: Markup) -> Step:
        """The call sending a picture (noting its digest when it is sent from bytes)."""
        if isinstance(photo, Attachment):
            return Step(partial(self._photo, photo, None, caption, keyboard))
        digest = hashlib.sha256(photo.content).hexdigest()
        return Step(partial(self._photo, photo, digest, caption, keyboard), digest)

    async def _text(self, text: str, keyboard: Markup, chat_id: int | str) -> Message:
        """Send one text message."""
        return await self.bot.send_message(**text_message(chat_id, text, keyboard))

    async def _edit(self, target: int | None, text: str | None, keyboard: Markup, chat_id: int | str) -> Any:
        """Edit an earlier message: its text and buttons, or (`text` None) only its buttons. A message
        that shows this already counts as done; one gone or too old to edit (or never sent) is left
        as it is when only its buttons were to change, else a new message takes its place (a card
        too long for one message is edited in its last part, the one carrying the buttons)."""
        last = split_text(text)[-1] if text is not None else None
        if target is not None:
            try:
                if last is None:
                    inline = keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None
                    return await self.bot.edit_message_reply_markup(chat_id, target, reply_markup=inline)
                return await self.bot.edit_message_text(**text_message(chat_id, last, keyboard), message_id=target)
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return None
                log.info("message %s in chat %s cannot be edited (%s)", target, chat_id, exc.message)
        if text is None:
            return None
        parts = split_text(text)
        for part in parts[:-1]:
            await self._text(part, None, chat_id)
        return await self._text(parts[-1], keyboard, chat_id)

    async def _album(self, photos: list[Attachment], chat_id: int | str) -> None:
        """Send photos as one album, each with the caption the worker wrote (plain text)."""
        media = [InputMediaPhoto(await photo_source(p, self.files), caption=p.caption) for p in photos]
        await self.bot.send_media_group(chat_id, media)

    async def _document(self, doc: Attachment, chat_id: int | str) -> None:
        """Send a document Telegram already has, with the worker's caption (plain text)."""
        await self.bot.send_document(chat_id, doc.file_id, caption=doc.caption)

    async def _file(self, file: FileOut, chat_id: int | str) -> None:
        """Send a file from bytes as a document."""
        await self.bot.send_document(chat_id, InputFile(file.content, filename=file.name))

    async def _photo(
        self, photo: FileOut | Attachment, digest: str | None, caption: str, keyboard: Markup, chat_id: int | str
    ) -> None:
        """Send a picture with a caption: bytes the first time, then by the file_id Telegram gave."""
        params: dict[str, Any] = {"chat_id": chat_id, "reply_markup": keyboard}
        if caption:
            params.update(caption=caption, parse_mode=ParseMode.HTML)
        if isinstance(photo, Attachment):  # one Telegram has, or one the bot keeps (sent on Zalo)
            await self.bot.send_photo(photo=await photo_source(photo, self.files), **params)
            return
        assert digest is not None
        known = self.photo_ids.get(digest)
        if known is not None:
            await self.bot.send_photo(photo=known, **params)
            return
        upload: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._uploads[digest] = upload
        try:
            sent = await self.bot.send_photo(photo=InputFile(photo.content, filename=photo.name), **params)
            file_id = sent.photo[-1].file_id if sent.photo else None
            if file_id:
                self.photo_ids[digest] = file_id
            upload.set_result(file_id)
        finally:
            if not upload.done():
                upload.set_result(None)
            self._uploads.pop(digest, None)


def _log_failure(task: asyncio.Task[DrainStats]) -> None:
    """Log a drain started by `wake` that failed (the next poll tries again)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("outbox drain failed", exc_info=task.exception())


def _lone_photo(reply: Reply) -> FileOut | None:
    """The picture the bot drew for a reply (a chart) that can carry its text as a caption, if that
    is all it has. Attachments follow their text instead: a card's text is edited in place later."""
    image = reply.file is not None and reply.file.name.lower().endswith(IMAGE_SUFFIXES)
    return reply.file if image and not reply.media else None
