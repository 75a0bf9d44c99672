"""A fake Zalo Bot API: a real HTTP server on 127.0.0.1 that answers like the Bot API and records sends."""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "1234:zalo-test-token"
BOT_ID = "bot-7777"
LIMIT = 2000


@dataclass
class Sent:
    """One accepted send: the method and its parameters."""

    method: str
    params: dict[str, Any]

    @property
    def chat(self) -> str:
        return str(self.params.get("chat_id"))

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")


@dataclass
class FakeZalo:
    """The server's state: known chats, queued updates, what was sent, failures to inject."""

    token: str = TOKEN
    chats: set[str] = field(default_factory=set)
    updates: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    sent: list[Sent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # chats that blocked the bot (403)
    quota_errors: int = 0  # answer this many sends with 429 before accepting again
    webhook: dict[str, Any] = field(default_factory=dict)
    base_url: str = ""
    listener: Callable[[Sent], None] | None = None  # told of each accepted send (from the server's thread)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def message(self, user: str, text: str | None = None, *, event: str = "", **extra: Any) -> dict[str, Any]:
        """An update from `user` in its private chat (the chat is then known to the server)."""
        self.chats.add(user)
        body: dict[str, Any] = {
            "message_id": f"m{next(self.ids):08x}",
            "date": 1764700000000,
            "from": {"id": user, "display_name": f"User {user}", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"},
            **extra,
        }
        if text is not None:
            body["text"] = text
        return {"event_name": event or "message.text.received", "message": body}

    def photo(self, user: str, name: str, content: bytes, caption: str = "") -> dict[str, Any]:
        """An image update whose `photo_url` the server serves (as Zalo's CDN would, for a while)."""
        self.files[name] = content
        return self.message(
            user, event="message.image.received", photo_url=f"{self.base_url}/files/{name}", caption=caption
        )

    def texts(self, chat: str) -> list[str]:
        """The texts (and captions) sent to `chat`, in order."""
        return [s.text for s in self.sent if s.chat == chat]

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body of one call."""
        with self.lock:
            self.calls.append(method)
            if method in ("sendMessage", "sendPhoto", "sendChatAction"):
                if self.quota_errors:
                    self.quota_errors -= 1
                    return 429, {"ok": False, "error_code": 429, "description": "Quota exceeded"}
                if str(params.get("chat_id")) not in self.chats:
                    return 200, {"ok": False, "error_code": 400, "description": "Invalid chat_id"}
                if str(params.get("chat_id")) in self.blocked:
                    return 200, {"ok": False, "error_code": 403, "description": "The user has blocked the bot"}
            if method == "sendMessage":
                text = params.get("text")
                if not isinstance(text, str) or not 1 <= len(text) <= LIMIT:
                    return 200, {"ok": False, "error_code": 400, "description": "text must be 1-2000 characters"}
            photo = str(params.get("photo", ""))
            if method == "sendPhoto" and (len(str(params.get("caption", ""))) > LIMIT or not photo.startswith("http")):
                return 200, {"ok": False, "error_code": 400, "description": "bad photo or caption"}
            if method in ("sendMessage", "sendPhoto"):
                self.sent.append(Sent(method, dict(params)))
                if self.listener is not None:
                    self.listener(self.sent[-1])
                return 200, {"ok": True, "result": {"message_id": f"s{next(self.ids):08x}", "date": 1764700000000}}
            if method == "sendChatAction":
                return 200, {"ok": True, "result": True}
            if method == "getMe":
                return 200, {"ok": True, "result": {"id": BOT_ID, "account_name": "sangkien_bot", "display_name": "SK"}}
            if method == "setWebhook":
                self.webhook = dict(params)
                return 200, {"ok": True, "result": {"url": params.get("url")}}
            if method == "deleteWebhook":
                self.webhook = {}
                return 200, {"ok": True, "result": True}
            if method == "getWebhookInfo":
                return 200, {"ok": True, "result": {"url": self.webhook.get("url", "")}}
        if method == "getUpdates":
            try:
                update = self.updates.get(timeout=min(float(params.get("timeout", 0)), 0.5))
            except queue.Empty:
                return 408, {"ok": False, "error_code": 408, "description": "Request timeout"}
            return 200, {"ok": True, "result": update}
        return 404, {"ok": False, "error_code": 404, "description": "Not found"}


class _Handler(BaseHTTPRequestHandler):
    """Routes `POST /bot<TOKEN>/<method>` and `GET /files/<name>`."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a poll cut short)
            pass

    def do_GET(self) -> None:
        """Serve a file a person sent."""
        name = self.path.removeprefix("/files/")
        content = self.server.fake.files.get(name)
        if content is None:
            self._reply(404, b"gone", "text/plain")
        else:
            self._reply(200, content, "image/jpeg")

    def do_POST(self) -> None:
        """Answer one Bot API call."""
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        prefix, _, method = self.path.lstrip("/").partition("/")
        if prefix != f"bot{fake.token}":
            status, body = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        else:
            try:
                params = json.loads(raw or b"{}")
            except ValueError:
                params = None
            if not isinstance(params, dict):
                status, body = 400, {"ok": False, "error_code": 400, "description": "Bad JSON"}
            else:
                status, body = fake.answer(method, params)
        self._reply(status, json.dumps(body).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeZalo) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeZaloServer:
    """The server running in a thread; `url` is the base URL to give the client."""

    def __init__(self) -> None:
        self.fake = FakeZalo()
        self._server = _Server(self.fake)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.fake.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeZaloServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
