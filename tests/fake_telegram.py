"""A fake Bot API behind python-telegram-bot's request seam, and builders of realistic updates."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Sáng kiến",
    "username": "sangkien_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str | None, bytes]] = field(default_factory=dict)
    result: Any = None  # what the fake Bot API answered (a sent Message as a dict, True…)

    @property
    def text(self) -> str:
        """The text (or caption) sent."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button."""
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = (markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    @property
    def message_id(self) -> int:
        """The id of the message sent, or of the message edited."""
        if "message_id" in self.params:
            return int(self.params["message_id"])
        assert isinstance(self.result, dict), self.result
        return int(self.result["message_id"])

    @property
    def keyboard(self) -> dict[str, Any]:
        """The reply markup as a dict."""
        markup = self.params.get("reply_markup")
        return json.loads(markup) if isinstance(markup, str) else (markup or {})


class FakeBotApi(BaseRequest):
    """Records every call and answers as the Bot API would; `fail` queues error answers."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._ids = itertools.count(100)

    @property
    def read_timeout(self) -> float | None:
        """No timeout: nothing goes over a network."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def fail(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """Make the next call of `method` fail with this Bot API error."""
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.failures.setdefault(method, []).append((status, body))

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """A Message object for a sent message."""
        chat_id = int(params.get("chat_id", 0))
        return {
            "message_id": next(self._ids),
            "date": 1764000000,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            **extra,
        }

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        """The result a successful call returns."""
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            return self._message(params, text=params.get("text", ""))
        if method in ("editMessageText", "editMessageReplyMarkup"):  # the same message, changed
            edited = self._message(params, text=params.get("text", "…"))
            return {**edited, "message_id": int(params["message_id"])}
        if method == "sendDocument":
            return self._message(params, document={"file_id": "doc", "file_unique_id": "doc"})
        if method == "sendPhoto":
            return self._message(params, photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}])
        if method == "sendMediaGroup":
            media = params.get("media", [])
            count = len(json.loads(media) if isinstance(media, str) else media)
            return [
                self._message(
                    params,
                    photo=[{"file_id": "p", "file_unique_id": f"p{i}", "width": 1, "height": 1}],
                )
                for i in range(count)
            ]
        if method == "getUpdates":
            return []
        return True

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """Record the call and answer it."""
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str | None, bytes]] = {}
        for part, (filename, content, *_rest) in (request_data.multipart_data if request_data else {}).items():
            files[part] = (filename, content if isinstance(content, bytes) else content.read())
        call = Call(name, params, files)
        self.calls.append(call)
        queued = self.failures.get(name)
        if queued:
            status, body = queued.pop(0)
            return status, json.dumps(body).encode()
        call.result = self._result(name, params)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()


@dataclass
class Person:
    """A Telegram user who writes to the bot in a private chat."""

    id: int
    first_name: str = "Lan"
    username: str | None = None
    language_code: str = "vi"

    def as_dict(self) -> dict[str, Any]:
        """The User object."""
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
            "language_code": self.language_code,
        }


@dataclass
class TelegramDriver:
    """Feeds realistic updates through `Application.process_update` and reads what was sent."""

    app: Application[Any, Any, Any, Any, Any, Any]
    api: FakeBotApi
    update_ids: Any = field(default_factory=lambda: itertools.count(1))
    message_ids: Any = field(default_factory=lambda: itertools.count(1))
    settle: Callable[[], Awaitable[Any]] | None = None  # sends what the update put in the outbox

    async def deliver(self, raw: dict[str, Any]) -> list[Call]:
        """Process one raw update, then send what it told others (the outbox); return the calls it caused."""
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(raw, self.app.bot))
        if self.settle is not None:
            await self.settle()
        return self.api.calls[before:]

    def _message(self, person: Person, chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
        """A raw message update."""
        chat = chat or {"id": person.id, "type": "private", "first_name": person.first_name}
        message = {
            "message_id": next(self.message_ids),
            "date": 1764000000,
            "from": person.as_dict(),
            "chat": chat,
            **content,
        }
        return {"update_id": next(self.update_ids), "message": message}

    async def text(self, person: Person, text: str, chat: dict[str, Any] | None = None) -> list[Call]:
        """The person types `text` (commands included)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.deliver(self._message(person, chat, **content))

    def carrying(self, chat_id: int, data: str) -> int:
        """The id of the latest message in the chat that shows a button carrying `data` (1 if none)."""
        for call in reversed(self.api.calls):
            chat = call.params.get("chat_id")
            if chat is not None and int(chat) == chat_id and any(d == data for _, d in call.buttons):
                if call.method == "sendMessage" and call.result is None:
                    continue  # refused by the fake Bot API: never shown
                return call.message_id
        return 1

    async def press(self, person: Person, data: str, message_id: int | None = None) -> list[Call]:
        """The person presses an inline button carrying `data` (on the latest message showing it,
        unless `message_id` names another)."""
        if message_id is None:
            message_id = self.carrying(person.id, data)
        message = {
            "message_id": message_id,
            "date": 1764000000,
            "from": BOT_USER,
            "chat": {"id": person.id, "type": "private"},
            "text": "…",
        }
        query = {
            "id": str(next(self.update_ids) * 7),
            "from": person.as_dict(),
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        return await self.deliver({"update_id": next(self.update_ids), "callback_query": query})

    async def contact(self, person: Person, phone: str, *, own: bool = True) -> list[Call]:
        """The person shares a contact (their own by default)."""
        contact = {
            "phone_number": phone,
            "first_name": person.first_name,
            "user_id": person.id if own else 99,
        }
        return await self.deliver(self._message(person, contact=contact))

    async def photo(self, person: Person, unique: str, size: int = 54321, caption: str | None = None) -> list[Call]:
        """The person sends a photo (Telegram sends several sizes), perhaps with a caption."""
        sizes = [
            {
                "file_id": f"{unique}-s",
                "file_unique_id": f"{unique}-s",
                "width": 90,
                "height": 90,
                "file_size": 900,
            },
            {
                "file_id": f"{unique}-id",
                "file_unique_id": unique,
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]
        return await self.deliver(self._message(person, photo=sizes, **({"caption": caption} if caption else {})))

    async def document(
        self, person: Person, unique: str, name: str = "ban-ve.pdf", caption: str | None = None
    ) -> list[Call]:
        """The person sends a document, perhaps with a caption."""
        doc = {
            "file_id": f"{unique}-id",
            "file_unique_id": unique,
            "file_name": name,
            "mime_type": "application/pdf",
            "file_size": 120000,
        }
        return await self.deliver(self._message(person, document=doc, **({"caption": caption} if caption else {})))

    async def sticker(self, person: Person) -> list[Call]:
        """The person sends a sticker."""
        sticker = {
            "file_id": "st",
            "file_unique_id": "st",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self.deliver(self._message(person, sticker=sticker))

    async def voice(self, person: Person) -> list[Call]:
        """The person sends a voice note."""
        return await self.deliver(self._message(person, voice={"file_id": "v", "file_unique_id": "v", "duration": 3}))

    async def location(self, person: Person) -> list[Call]:
        """The person shares a location."""
        return await self.deliver(self._message(person, location={"latitude": 21.0, "longitude": 105.8}))


def texts(calls: list[Call]) -> list[str]:
    """Texts of the messages sent or edited."""
    return [c.text for c in messages(calls)]


def messages(calls: list[Call]) -> list[Call]:
    """The messages sent or edited, in order (a plain reply followed by another new message is
    not a message of its own: it leads that message, a blank line before the next reply)."""
    return [c for c in calls if c.method in ("sendMessage", "editMessageText")]


def one_message(calls: list[Call]) -> Call:
    """The only message sent or edited (fails if there were none or several)."""
    sent = messages(calls)
    assert len(sent) == 1, [c.text for c in sent]
    return sent[0]


def in_order(text: str, *parts: str) -> None:
    """Assert that each part occurs in `text` after the end of the one before."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found != -1, f"{part!r} not found after position {at} in {text!r}"
        at = found + len(part)


def refused(calls: list[Call], error: str, question: str) -> Call:
    """The one message of a refused answer: the error (or part of it), then, at the start of a
    paragraph after it, the question asked again; return it (the question's buttons are on it)."""
    message = one_message(calls)
    in_order(message.text, error, f"\n\n{question}")
    return message


def last_buttons(calls: list[Call]) -> list[tuple[str, str]]:
    """Buttons of the last message that had any."""
    for call in reversed(calls):
        if call.buttons:
            return call.buttons
    return []


def button(calls: list[Call], label_part: str) -> str:
    """Callback data of the button whose label contains `label_part`."""
    for call in reversed(calls):
        for label, data in call.buttons:
            if label_part in label:
                return data
    raise AssertionError(f"no button containing {label_part!r} in {[c.buttons for c in calls]}")
