"""The bot's Bot API client: python-telegram-bot's, plus calls that skip building its objects."""

from __future__ import annotations

from typing import Any

from telegram import InputFile
from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

Json = dict[str, Any]


class LeanBot(ExtBot[None]):
    """ExtBot with `call`: a Bot API method with JSON-ready parameters, answered with raw JSON.

    python-telegram-bot turns every answer into objects (a sent message into a `Message` with its
    keyboard); the bot never reads most of them, and building them took a sixth of each update's
    time (bench/bench_conversation.py). On the way out it also walks the parameters for defaults
    and objects to convert, which JSON-ready parameters do not need. `call` keeps the same
    transport (`BaseRequest.post`), timeouts and errors (`BadRequest`, `Forbidden`, `RetryAfter`…)
    and leaves the answer as Telegram sent it.
    """

    async def call(self, method: str, params: Json) -> Any:
        """Call `method` (camelCase, as in the Bot API docs) with JSON-ready parameters (an
        `InputFile` to upload is the one object allowed); parameters set to None are left out."""
        data = RequestData([_parameter(name, value) for name, value in params.items() if value is not None])
        return await self.request.post(f"{self.base_url}/{method}", request_data=data)


def _parameter(name: str, value: Any) -> RequestParameter:
    """One parameter as python-telegram-bot sends it; only an upload needs its conversion."""
    return (
        RequestParameter.from_input(name, value)
        if isinstance(value, InputFile)
        else RequestParameter(name, value, None)
    )


def lean_bot(token: str, *, base_url: str = "", base_file_url: str = "", request: BaseRequest | None = None) -> LeanBot:
    """The bot with the connection pools python-telegram-bot's ApplicationBuilder would give it;
    `request` replaces the network (tests, benchmarks)."""
    urls: dict[str, Any] = {"base_url": base_url} if base_url else {}
    if base_file_url:
        urls["base_file_url"] = base_file_url
    return LeanBot(
        token,
        request=request or HTTPXRequest(connection_pool_size=256),
        get_updates_request=request or HTTPXRequest(connection_pool_size=1),
        **urls,
    )
