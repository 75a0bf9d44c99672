"""`sangkien run` with a token: long polling starts, answers an update, stores it, and shuts down."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

from bot.app import run_telegram
from bot.config import Config, TelegramSection
from tests.fake_telegram import FakeBotApi, Person

LAN = Person(501)
START = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 1764000000,
        "chat": {"id": LAN.id, "type": "private", "first_name": LAN.first_name},
        "from": LAN.as_dict(),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
}


def interrupt() -> None:
    """What python-telegram-bot's handler of SIGINT/SIGTERM does: leave the loop by SystemExit."""
    raise SystemExit


class PollingApi(FakeBotApi):
    """The fake Bot API with one update to hand out; stops the bot's loop once it was answered."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = [START]
        self.interrupted = False

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        """getUpdates hands out the pending updates once; everything else as the fake does."""
        if method == "getUpdates":
            handed, self.pending = self.pending, []
            return handed
        return super()._result(method, params)

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Answer; on a poll after the bot has replied, stop the event loop as Ctrl+C would."""
        if url.endswith("/getUpdates"):
            if not self.interrupted and any(c.method == "sendMessage" for c in self.calls):
                self.interrupted = True
                asyncio.get_running_loop().call_soon(interrupt)
            await asyncio.sleep(0.01)  # a long poll that comes back empty
        return await super().do_request(url, method, request_data, *args, **kwargs)


def test_run_polls_answers_stores_and_shuts_down(config: Config) -> None:
    polling = config.model_copy(update={"telegram": TelegramSection(token="123456:TEST")})
    api = PollingApi()
    failures: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            run_telegram(polling, api, signals=False)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the bot did not stop"
    assert failures == []

    methods = [c.method for c in api.calls]
    assert methods[0] == "getMe"
    menus = [c.params for c in api.calls if c.method == "setMyCommands"]
    assert [m.get("language_code") for m in menus] == [None, "en"]
    assert menus[0]["commands"][0] == {"command": "new", "description": "Gửi sáng kiến mới"}
    assert menus[1]["commands"][0] == {"command": "new", "description": "Submit a new initiative"}
    polls = [c.params for c in api.calls if c.method == "getUpdates"]
    assert polls[0]["allowed_updates"] == ["message", "edited_message", "callback_query"]
    [reply] = [c for c in api.calls if c.method == "sendMessage"]
    assert reply.params["chat_id"] == LAN.id
    assert "Chọn ngôn ngữ" in reply.params["text"]
    with sqlite3.connect(config.database.url.removeprefix("sqlite+aiosqlite:///")) as conn:
        stored = conn.execute("select channel, external_id, reg_step from app_user").fetchall()
    assert stored == [("telegram", str(LAN.id), "language")]
