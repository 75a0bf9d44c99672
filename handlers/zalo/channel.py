"""The Zalo channel: an update in, the core's event, its replies out as Zalo messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain import Attachment, UserRef
from bot.i18n import Catalog
from bot.messages import Command, Core, Inbound, Other, Payload, Reply, Text, Upload
from handlers.choices import NumberedMenus
from handlers.files import PREFIX, FileStore, image_suffix
from handlers.pictures import PictureLinks
from handlers.zalo.client import Forbidden, QuotaExceeded, ZaloClient, ZaloError
from handlers.zalo.inbound import CHANNEL, ZaloMessage, read
from handlers.zalo.outbound import Rendered, is_picture, render

log = logging.getLogger(__name__)
QUOTA_TRIES = 3
SENT, QUOTA, BLOCKED, FAILED = "sent", "quota", "blocked", "failed"  # what became of a send


class ZaloChannel:
    """Serves one Zalo bot: each person's updates in order, menus read back by number or text (the
    core keeps each chat's menu in the database)."""

    def __init__(
        self,
        core: Core,
        catalog: Catalog,
        client: ZaloClient,
        files: FileStore,
        *,
        bot_id: str = "",
        pictures: PictureLinks | None = None,
        on_send: Callable[[bool], None] | None = None,
    ) -> None:
        self.core = core
        self.catalog = catalog
        self.client = client
        self.files = files
        self.bot_id = bot_id
        self.pictures = pictures
        self.on_send = on_send or (lambda _ok: None)
        self.numbering = NumberedMenus(catalog)
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    async def process(self, body: Any) -> bool:
        """Handle one update as Zalo delivered it; False when it is one the bot ignores."""
        message = read(body, self.bot_id)
        if message is None:
            log.debug("ignored a Zalo update: %.200r", body)
            return False
        key = message.user_id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(message)
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]
        return True

    async def _handle(self, message: ZaloMessage) -> None:
        """Ask the core, send what it answers to this chat (the Zalo sender sends what it tells others)."""
        payload = await self._payload(message)
        ref = UserRef(CHANNEL, message.user_id)
        outcome = await self.core.handle(
            Inbound(
                ref,
                payload,
                seq=message.seq,
                private=True,
                chat_key=f"{CHANNEL}:{message.chat_id}",
                numbering=self.numbering,
            )
        )
        replies = list(outcome.replies)
        if outcome.alert:
            replies.insert(0, Reply(outcome.alert))
        if replies:  # what others are told is in the outbox, committed: the Zalo sender sends it
            sent = await self.send(message.chat_id, outcome.locale, replies)
            if sent == SENT and outcome.kept:
                await self.core.delivered(outcome.kept)

    async def _payload(self, message: ZaloMessage) -> Payload:
        """What the message carries, in the core's terms."""
        if message.kind == "text":
            text = message.text.strip()  # a number or an option's text: the core reads it against the menu
            if text.startswith("/") and len(text) > 1:
                head, _, rest = text[1:].partition(" ")
                return Command(head.lower(), rest.strip())
            return Text(message.text)
        if message.kind == "image":
            try:
                content = await self.client.download(message.photo_url)
            except ZaloError:
                log.warning("could not download the photo of %s", message.user_id, exc_info=True)
                return Other("photo_unreadable")
            file_id = await self.files.put(content, image_suffix(content))
            name = file_id.removeprefix(PREFIX)
            caption = message.text.strip() or None
            return Upload(Attachment("photo", file_id, name[:32], len(content), "image/jpeg", name, caption))
        return Other(message.kind)

    async def send(self, chat_id: str, locale: str, replies: list[Reply]) -> str:
        """Send replies as one text (in parts of 2,000 characters), then their pictures. Returns
        SENT, or why not: QUOTA, BLOCKED, FAILED."""
        rendered = render(self.catalog, locale, replies, pictures=self.pictures is not None)
        if rendered.text:
            result = await self._guarded(chat_id, self.client.send_message, chat_id, rendered.text)
            if result != SENT:
                return result
        for url in await self._picture_urls(rendered):
            await self._guarded(chat_id, self.client.send_photo, chat_id, url)
        return SENT

    async def _picture_urls(self, rendered: Rendered) -> list[str]:
        """Links to the pictures of a reply (none without a public URL: the text stands alone)."""
        if self.pictures is None:
            return []
        ids = [a.file_id for a in rendered.media if a.kind == "photo" and a.file_id.startswith(PREFIX)]
        for file in rendered.files:
            if is_picture(file):
                ids.append(await self.files.put(file.content, image_suffix(file.content)))
        return [self.pictures.link(file_id) for file_id in ids]

    async def _guarded(self, chat_id: str, call: Callable[..., Awaitable[Any]], *args: Any) -> str:
        """Run one send: wait out the quota a few times, log a refusal; never raise a Zalo error."""
        for attempt in range(1, QUOTA_TRIES + 1):
            try:
                await call(*args)
                self.on_send(True)
                return SENT
            except QuotaExceeded as exc:
                if attempt == QUOTA_TRIES:
                    log.error("Zalo quota still exceeded for chat %s after %s tries; message dropped", chat_id, attempt)
                    self.on_send(False)
                    return QUOTA
                log.warning("Zalo quota exceeded; sends to chat %s wait %ss", chat_id, exc.retry_after)
            except Forbidden as exc:
                log.info("Zalo chat %s refuses the bot: %s", chat_id, exc)
                self.on_send(False)
                return BLOCKED
            except ZaloError as exc:
                log.warning("sending to Zalo chat %s failed: %s", chat_id, exc)
                self.on_send(False)
                return FAILED
        return QUOTA
