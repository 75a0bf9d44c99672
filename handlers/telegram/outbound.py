"""Render core replies as Telegram messages and send them, surviving Telegram's errors."""

from __future__ import annotations

import asyncio
import html
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.domain import Attachment
from bot.i18n import Catalog
from bot.messages import KEEP_TEXT, PRIVATE_CHAT_LINK, Reply
from handlers.files import PREFIX, FileStore
from handlers.telegram.api import TelegramBot

log = logging.getLogger(__name__)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def _cut(line: str, limit: int) -> int:
    """Where to cut a line longer than `limit`: after a blank if one is near, never inside an
    HTML entity such as `&amp;` (a cut entity makes Telegram refuse the whole part)."""
    space = line.rfind(" ", limit // 2, limit)
    cut = space + 1 if space != -1 else limit
    amp = line.rfind("&", max(0, cut - 8), cut)
    if amp > 0 and ";" not in line[amp:cut]:
        cut = amp
    return cut


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split a long message at line breaks so each part fits Telegram's limit."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = _cut(line, limit)
            parts += [current, line[:cut]]
            current, line = "", line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    parts.append(current)
    return [p for p in parts if p] or [""]


def markup(catalog: Catalog, locale: str, reply: Reply, bot_username: str | None = None) -> Markup:
    """The keyboard of a reply (the `reply_markup` of the message), if it has one; a button to the
    private chat links to https://t.me/<bot_username>."""
    if reply.ask_contact:
        label = catalog.render(locale, "register.share_phone")
        return ReplyKeyboardMarkup(
            [[KeyboardButton(label, request_contact=True)]], resize_keyboard=True, one_time_keyboard=True
        )
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    keyboard = [
        [
            InlineKeyboardButton(catalog.render(locale, b.label, b.args), url=f"https://t.me/{bot_username}")
            if b.data == PRIVATE_CHAT_LINK
            else InlineKeyboardButton(catalog.render(locale, b.label, b.args), callback_data=b.data)
            for b in row
            if b.data != PRIVATE_CHAT_LINK or bot_username
        ]
        for row in reply.buttons
    ]
    keyboard = [row for row in keyboard if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def text_message(chat_id: int | str, text: str, keyboard: Markup = None) -> dict[str, Any]:
    """The arguments of `Bot.send_message` (and `edit_message_text`) for one HTML text."""
    return {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML, "reply_markup": keyboard}


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (python-telegram-bot gives an int or a timedelta, and
    warns when the int form is read; the warning is for code that compares it with numbers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


FLOOD_TRIES = 3  # a reply waits out Telegram's flood control this often before it is dropped


async def guarded(action: Callable[[], Awaitable[Any]], chat_id: int) -> Any:
    """Run one Bot API call and return its result (None when it failed): wait out flood control, log
    blocked users and other errors; never raise a Telegram error (what the core committed stands,
    and the other messages still go)."""
    for attempt in range(1, FLOOD_TRIES + 1):
        try:
            return await action()
        except RetryAfter as exc:
            delay = retry_seconds(exc)
            if attempt == FLOOD_TRIES:
                log.error("flood control for chat %s after %s tries; message dropped", chat_id, attempt)
                return None
            log.warning("flood control for chat %s: waiting %ss", chat_id, delay)
            await asyncio.sleep(float(delay))
        except Forbidden:
            log.info("chat %s blocked the bot; reply dropped", chat_id)
            return None
        except TelegramError:
            log.exception("sending to chat %s failed", chat_id)
            return None
    return None


async def edited(bot: TelegramBot, edit: dict[str, Any]) -> bool:
    """Edit the pressed message in place; False when a new message should be sent instead."""
    try:
        await bot.edit_message_text(**edit)
        return True
    except BadRequest as exc:
        if "message is not modified" in exc.message.lower():  # a double tap: it already shows this
            return True
        log.debug("could not edit message in chat %s (%s); sending a new one", edit["chat_id"], exc.message)
        return False
    except TelegramError:
        # flood control, a network failure: a new message takes the normal guarded path
        log.warning("editing a message in chat %s failed; sending a new one", edit["chat_id"], exc_info=True)
        return False


@dataclass
class Sent:
    """What `send_replies` did: whether every message went out, and which message (its id) carries
    the buttons of each reply, by the reply's index (the pressed one when it was edited in place)."""

    complete: bool = True
    messages: dict[int, int] = field(default_factory=dict)


async def _edit_earlier(bot: TelegramBot, chat_id: int, reply: Reply, text: str, keyboard: Markup) -> bool:
    """Edit the earlier message `reply.target`: only its buttons (gone or too old to edit: nothing
    left to do), or its text; False when a new message should be sent instead."""
    assert reply.target is not None
    if reply.key != KEEP_TEXT:
        return await edited(bot, {**text_message(chat_id, text, keyboard), "message_id": reply.target})
    inline = keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None
    try:
        await bot.edit_message_reply_markup(chat_id, reply.target, reply_markup=inline)
    except TelegramError as exc:  # not modified, gone, too old: the buttons are not live either way
        log.debug("could not change the buttons of message %s in chat %s: %s", reply.target, chat_id, exc)
    return True


async def send_replies(
    bot: TelegramBot,
    chat_id: int,
    catalog: Catalog,
    locale: str,
    replies: list[Reply],
    query: CallbackQuery | None = None,
    files: FileStore | None = None,
) -> Sent:
    """Send each reply in order (editing the pressed message, or an earlier one, where the reply
    asks for it); say whether every message went out and which messages carry buttons.

    A plain text followed by another new message goes out as the start of that message: one
    message instead of two ("Draft started" above the first question).
    """
    lead = ""
    shown = Sent()
    for index, reply in enumerate(replies):
        text = catalog.render(locale, reply.key, reply.args, escape=html.escape) if reply.key != KEEP_TEXT else ""
        keyboard = markup(catalog, locale, reply, bot.username)
        if reply.edits_earlier and await _edit_earlier(bot, chat_id, reply, text, keyboard):
            continue
        following = replies[index + 1] if index + 1 < len(replies) else None
        if following is not None and not following.edit and _plain(reply):
            lead = f"{lead}{text}\n\n"
            continue
        text, lead = lead + text, ""
        parts = split_text(text)
        pressed = query.message if query is not None else None
        if (
            reply.edit
            and not reply.edits_earlier
            and pressed is not None
            and len(parts) == 1
            and (keyboard is None or isinstance(keyboard, InlineKeyboardMarkup))
        ):
            edit = {**text_message(pressed.chat.id, parts[0], keyboard), "message_id": pressed.message_id}
            if await edited(bot, edit):
                shown.messages[index] = pressed.message_id
                continue
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            message = text_message(chat_id, part, keyboard if last else None)
            result = await guarded(partial(bot.send_message, **message), chat_id)
            shown.complete = result is not None and shown.complete
            if last and isinstance(result, Message):
                shown.messages[index] = result.message_id
        shown.complete = await _send_extras(bot, chat_id, reply, files) and shown.complete
    return shown


def _plain(reply: Reply) -> bool:
    """True for a reply that is only text: it can lead the next message."""
    return not (reply.buttons or reply.ask_contact or reply.remove_keyboard or reply.edit or reply.file or reply.media)


async def photo_source(item: Attachment, files: FileStore | None) -> str | bytes:
    """What to send of a photo: its Telegram file id, or the bytes of one the bot keeps (sent on Zalo)."""
    if files is not None and item.file_id.startswith(PREFIX):
        content = await files.get(item.file_id)
        if content is not None:
            return content
    return item.file_id


async def _went(action: Callable[[], Awaitable[Any]], chat_id: int) -> bool:
    """Run one Bot API call through `guarded`; True when it went out."""
    return await guarded(action, chat_id) is not None


async def _send_extras(bot: TelegramBot, chat_id: int, reply: Reply, files: FileStore | None = None) -> bool:
    """Send a reply's file and attachments (photos as albums, documents one by one); True if all went."""
    sent = True
    if reply.file is not None:
        upload = InputFile(reply.file.content, filename=reply.file.name)
        sent = await _went(partial(bot.send_document, chat_id, upload), chat_id) and sent
    photos = [a for a in reply.media if a.kind == "photo"]
    for start in range(0, len(photos), 10):
        batch = photos[start : start + 10]
        if len(batch) == 1:
            photo = await photo_source(batch[0], files)
            sent = (
                await guarded(partial(bot.send_photo, chat_id, photo, caption=batch[0].caption), chat_id) is not None
                and sent
            )
        else:
            media = [InputMediaPhoto(await photo_source(p, files), caption=p.caption) for p in batch]
            sent = await _went(partial(bot.send_media_group, chat_id, media), chat_id) and sent
    for doc in (a for a in reply.media if a.kind != "photo"):
        sent = (
            await guarded(partial(bot.send_document, chat_id, doc.file_id, caption=doc.caption), chat_id) is not None
            and sent
        )
    return sent
