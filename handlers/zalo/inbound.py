"""Read a Zalo update (polled or posted, flat or wrapped) into what the channel acts on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

CHANNEL = "zalo"
TEXT, IMAGE = "message.text.received", "message.image.received"
OTHER_KINDS = {
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    "message.unsupported.received": "unsupported",
}


@dataclass(frozen=True)
class ZaloMessage:
    """One message a person sent the bot in a private chat."""

    kind: str  # "text", "image", or one of OTHER_KINDS' values
    user_id: str
    chat_id: str
    seq: int
    text: str = ""
    photo_url: str = ""
    display_name: str = ""


def unwrap(body: Any) -> dict[str, Any] | None:
    """The event of a body as posted (`{event_name, message}`) or wrapped (`{ok, result}`)."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict) and body.get("ok") is True:
        body = body["result"]
    if isinstance(body, dict) and isinstance(body.get("event_name"), str) and isinstance(body.get("message"), dict):
        return body
    return None


def event_kind(body: Any) -> str:
    """The event name of an update ("message.text.received"), for the metrics."""
    event = unwrap(body)
    return str(event["event_name"])[:64] if event is not None else "unknown"


def seq_of(message_id: str) -> int:
    """A positive 63-bit number for Zalo's string message id (what the core dedupes deliveries on)."""
    return int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big") >> 1 or 1


def read(body: Any, bot_id: str = "") -> ZaloMessage | None:
    """The message of an update, or None for what the bot ignores: an unknown event, the bot's own
    echo, a group chat (Zalo bots work in private chats only), a body without sender or id."""
    event = unwrap(body)
    if event is None:
        return None
    name, message = event["event_name"], event["message"]
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict):
        return None
    user_id, chat_id, message_id = str(sender.get("id") or ""), str(chat.get("id") or ""), message.get("message_id")
    if not user_id or not chat_id or not isinstance(message_id, str) or not message_id:
        return None
    if sender.get("is_bot") or (bot_id and user_id == bot_id):
        return None
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        return None
    who = ZaloMessage("text", user_id, chat_id, seq_of(message_id), display_name=str(sender.get("display_name") or ""))
    if name == TEXT and isinstance(message.get("text"), str):
        return replace(who, text=message["text"])
    if name == IMAGE and isinstance(message.get("photo_url"), str) and message["photo_url"]:
        caption = message.get("caption") if isinstance(message.get("caption"), str) else ""
        return replace(who, kind="image", photo_url=message["photo_url"], text=caption)
    if name in OTHER_KINDS:
        return replace(who, kind=OTHER_KINDS[name])
    return None
