"""A fake Bot API that enforces Telegram's flood limits on the event loop's (virtual) clock.

Every send is checked against three sliding windows: more than 30 messages in any 1 s overall,
more than 1 in any 1 s to one private chat, more than 20 in any 60 s to one group. A send that
would exceed one is refused with 429 and the `retry_after` (whole seconds) after which it would
pass, as Telegram does; sends that passed are logged with their time for an audit, and delivered
ones counted per chat. Chats in `blocked` answer 403 (after counting against the limits).
"""

from __future__ import annotations

import asyncio
import json
import math
from array import array
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from tests.fake_telegram import BOT_USER

SENDS = {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"}
EPS = 1e-6  # float noise of virtual time, far below anything Telegram could measure


@dataclass
class Verdict:
    """The audit of the accepted sends."""

    accepted: int
    overall_breaks: int
    private_breaks: int
    group_breaks: int
    duplicates: int
    first: float
    last: float

    @property
    def clean(self) -> bool:
        """True when no limit was broken and no chat got more than one message."""
        return not (self.overall_breaks or self.private_breaks or self.group_breaks or self.duplicates)


@dataclass
class LimitedBotApi(BaseRequest):
    """Answers like the Bot API after `latency` seconds of round trip, refusing floods with 429."""

    latency: float = 0.0
    overall: tuple[int, float] = (30, 1.0)
    private: tuple[int, float] = (1, 1.0)
    group: tuple[int, float] = (20, 60.0)
    blocked: set[int] = field(default_factory=set)
    per_chat: Counter[int] = field(default_factory=Counter)
    floods: int = 0
    uploads: int = 0
    times: array[float] = field(default_factory=lambda: array("d"))
    chats: array[int] = field(default_factory=lambda: array("q"))
    _overall: deque[float] = field(default_factory=deque)
    _chat: OrderedDict[int, deque[float]] = field(default_factory=OrderedDict)
    _ids: int = 100

    @property
    def read_timeout(self) -> float | None:
        """No timeout: nothing goes over a network."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _retry_after(self, now: float, chat_id: int) -> float:
        """Seconds until a send to `chat_id` would respect every window (0: it does now)."""
        limit, period = self.group if chat_id < 0 else self.private
        waits = [0.0]
        if len(self._overall) >= self.overall[0]:
            waits.append(self._overall[-self.overall[0]] + self.overall[1] - now)
        recent = self._chat.get(chat_id, ())
        if len(recent) >= limit:
            waits.append(recent[-limit] + period - now)
        return max(waits)

    def _accept(self, now: float, chat_id: int) -> None:
        """Count a send that passed the limits in the windows and the log (a 403 counts too)."""
        self._overall.append(now)
        if len(self._overall) > self.overall[0]:
            self._overall.popleft()
        limit = (self.group if chat_id < 0 else self.private)[0]
        recent = self._chat.setdefault(chat_id, deque(maxlen=limit))
        recent.append(now)
        self._chat.move_to_end(chat_id)
        while self._chat:  # forget chats whose last send can no longer matter (oldest use first)
            oldest, times = next(iter(self._chat.items()))
            if times[-1] + (self.group if oldest < 0 else self.private)[1] > now:
                break
            del self._chat[oldest]
        self.times.append(now)
        self.chats.append(chat_id)

    def _answer(self, method: str, chat_id: int) -> dict[str, Any]:
        """The Message a successful send returns."""
        self._ids += 1
        message: dict[str, Any] = {
            "message_id": self._ids,
            "date": 1764000000,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
        }
        if method == "sendPhoto":
            message["photo"] = [{"file_id": "chart-id", "file_unique_id": "chart", "width": 800, "height": 600}]
        return message

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Check the send against the limits at the moment it arrives, then answer."""
        name = url.rsplit("/", 1)[-1]
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        if name not in SENDS:
            result: Any = BOT_USER if name == "getMe" else True
            return 200, json.dumps({"ok": True, "result": result}).encode()
        params = request_data.parameters if request_data else {}
        chat_id = int(str(params["chat_id"]))
        now = asyncio.get_running_loop().time()
        wait = self._retry_after(now, chat_id)
        if wait > EPS:
            self.floods += 1
            retry = max(1, math.ceil(wait))
            body = {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry}"}
            body["parameters"] = {"retry_after": retry}
            return 429, json.dumps(body).encode()
        self._accept(now, chat_id)
        if chat_id in self.blocked:
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return 403, json.dumps(body).encode()
        self.per_chat[chat_id] += 1
        if request_data is not None and request_data.multipart_data:
            self.uploads += 1
        answer = json.dumps({"ok": True, "result": self._answer(name, chat_id)}).encode()
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        return 200, answer

    def audit(self) -> Verdict:
        """Recheck every accepted send against the three windows, from the log alone."""
        times, chats = self.times, self.chats
        n, (limit, period) = len(times), self.overall
        overall = sum(1 for i in range(limit, n) if times[i] - times[i - limit] < period - EPS)
        last_private: dict[int, float] = {}  # private chats allow one per period: the last time is enough
        last_group: dict[int, deque[float]] = {}
        private = group = 0
        private_period = self.private[1]
        group_limit, group_period = self.group
        assert self.private[0] == 1
        for moment, chat in zip(times, chats, strict=True):
            if chat > 0:
                before = last_private.get(chat)
                private += before is not None and moment - before < private_period - EPS
                last_private[chat] = moment
                continue
            seen = last_group.setdefault(chat, deque(maxlen=group_limit))
            group += len(seen) == group_limit and moment - seen[0] < group_period - EPS
            seen.append(moment)
        duplicates = sum(count - 1 for count in self.per_chat.values() if count > 1)
        return Verdict(n, overall, private, group, duplicates, times[0] if n else 0.0, times[-1] if n else 0.0)
