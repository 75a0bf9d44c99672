"""Translate a Telegram update into the core's inbound event."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.domain import Attachment, UserRef
from bot.messages import Command, Contact, Edited, Inbound, Other, Payload, Press, Text, Upload

CHANNEL = "telegram"
_OTHER_KINDS = (
    "sticker",
    "voice",
    "video_note",
    "location",
    "venue",
    "audio",
    "video",
    "animation",
    "poll",
    "dice",
)


def _payload(message: Message) -> Payload:
    """Read what a message carries."""
    if message.text is not None:
        first = message.entities[0] if message.entities else None
        if first is not None and first.type == MessageEntity.BOT_COMMAND and first.offset == 0:  # as Telegram marks it
            head, _, rest = message.text[1:].partition(" ")
            return Command(head.split("@", 1)[0].lower(), rest.strip())
        return Text(message.text)
    if message.contact is not None:
        own = (
            message.contact.user_id is not None
            and message.from_user is not None
            and message.contact.user_id == message.from_user.id
        )
        return Contact(message.contact.phone_number, own)
    if message.photo:
        photo = message.photo[-1]
        return Upload(
            Attachment(
                "photo", photo.file_id, photo.file_unique_id, photo.file_size, "image/jpeg", caption=message.caption
            )
        )
    if message.document is not None:
        doc = message.document
        return Upload(
            Attachment(
                "document",
                doc.file_id,
                doc.file_unique_id,
                doc.file_size,
                doc.mime_type,
                doc.file_name,
                message.caption,
            )
        )
    for kind in _OTHER_KINDS:
        if getattr(message, kind, None):
            return Other(kind)
    return Other("unsupported")


def to_inbound(update: Update) -> Inbound | None:
    """Return the core event for `update`, or None for updates the bot ignores."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    if update.callback_query is not None:
        payload: Payload = Press(update.callback_query.data or "")
    elif update.message is not None:
        payload = _payload(update.message)
    elif update.edited_message is not None:
        payload = Edited()
    else:
        return None
    query = update.callback_query
    pressed = query.message.message_id if query is not None and query.message is not None else None
    replied = update.message.reply_to_message if update.message is not None else None
    author = replied.from_user if replied is not None else None
    return Inbound(
        ref=UserRef(CHANNEL, str(user.id)),
        payload=payload,
        seq=update.update_id,
        private=chat.type == ChatType.PRIVATE,
        chat_key=f"{CHANNEL}:{chat.id}",
        username=user.username,
        reply_to=UserRef(CHANNEL, str(author.id)) if author is not None and not author.is_bot else None,
        pressed=pressed,
    )
