"""A small async client of the Zalo Bot API on httpx: `ok` always read, idle polls and quota handled."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from handlers.plain import split_paragraphs

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000  # characters of a message text or a photo caption
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # a photo a worker sends, at most
Json = dict[str, Any]


class ZaloError(Exception):
    """The Bot API refused a call (`ok: false`, whatever the HTTP status) or could not be reached."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class BadRequest(ZaloError):
    """400: a parameter was wrong (an unknown chat, a text too long)."""


class Unauthorized(ZaloError):
    """401: the token is wrong."""


class Forbidden(ZaloError):
    """403: the bot may not write to this person (for example they blocked it)."""


class NotFound(ZaloError):
    """404: no such method or object."""


class QuotaExceeded(ZaloError):
    """429: the bot's quota is used up; the client pauses its sends for `retry_after` seconds."""

    def __init__(self, code: int, description: str, retry_after: float) -> None:
        super().__init__(code, description)
        self.retry_after = retry_after


class NetworkError(ZaloError):
    """The server did not answer in time, or not with JSON."""


ERRORS: dict[int, type[ZaloError]] = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound}
IDLE = 408  # getUpdates had nothing to deliver: poll again


class ZaloClient:
    """One bot's calls: `POST {base}/bot<TOKEN>/<method>` with a JSON body."""

    def __init__(
        self,
        token: str,
        base_url: str = "",
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.base = f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/bot{token}"
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.backoff = 0.0
        self.paused_until = 0.0  # time.monotonic() before which sends wait (after a 429)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def call(self, method: str, params: Json | None = None, *, timeout: float | None = None) -> Any:
        """Call one method and return its `result`; raise the typed error of a refusal."""
        try:
            response = await self.http.post(f"{self.base}/{method}", json=params or {}, timeout=timeout or self.timeout)
        except httpx.TimeoutException as exc:
            raise NetworkError(IDLE, f"{method} timed out") from exc
        except httpx.HTTPError as exc:
            raise NetworkError(0, f"{method}: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise NetworkError(response.status_code, f"{method}: not JSON") from exc
        if isinstance(body, dict) and body.get("ok") is True:
            self.backoff = 0.0
            return body.get("result")
        code = int(body.get("error_code") or response.status_code) if isinstance(body, dict) else response.status_code
        description = str(body.get("description", "")) if isinstance(body, dict) else ""
        if code == 429:
            self.backoff = min(self.max_backoff, max(1.0, self.backoff * 2))
            self.paused_until = time.monotonic() + self.backoff
            raise QuotaExceeded(code, description, self.backoff)
        raise ERRORS.get(code, ZaloError)(code, description)

    async def _send(self, method: str, params: Json) -> Any:
        """A send: wait out the pause a quota error started, then call."""
        wait = self.paused_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        return await self.call(method, params)

    async def get_me(self) -> Json:
        """The bot's own account (`id`, `account_name`, `display_name`)."""
        result: Json = await self.call("getMe")
        return result

    async def get_updates(self, timeout: int = 30) -> Json | None:
        """Wait up to `timeout` seconds for one update; None when there was none (408)."""
        try:
            result = await self.call("getUpdates", {"timeout": timeout}, timeout=timeout + self.timeout)
        except ZaloError as error:
            if error.code == IDLE:
                return None
            raise
        return result if isinstance(result, dict) and result else None

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        """Have updates posted to `url` with `secret_token` in `X-Bot-Api-Secret-Token`."""
        if not 8 <= len(secret_token) <= 256:
            raise ValueError("the webhook secret token must have 8 to 256 characters")
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        """Stop webhook delivery (getUpdates works again)."""
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> Json:
        """Where updates are delivered now."""
        result: Json = await self.call("getWebhookInfo")
        return result

    async def send_message(self, chat_id: str, text: str) -> list[Any]:
        """Send a text, split on paragraph boundaries into parts of at most 2,000 characters."""
        return [await self._send("sendMessage", {"chat_id": chat_id, "text": part}) for part in split_paragraphs(text)]

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> Any:
        """Send a photo by its URL (Zalo takes no upload), with a caption of at most 2,000 characters."""
        params: Json = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption[:TEXT_LIMIT]
        return await self._send("sendPhoto", params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        """Show that the bot is typing."""
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def download(self, url: str, *, limit: int = DOWNLOAD_LIMIT) -> bytes:
        """Fetch a file a person sent (its URL expires soon), refusing one larger than `limit`."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with self.http.stream("GET", url, timeout=self.timeout) as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ZaloError(413, f"file larger than {limit} bytes")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise NetworkError(0, f"download failed: {exc}") from exc
        return b"".join(chunks)
