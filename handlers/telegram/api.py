"""The bot's Bot API client: python-telegram-bot's `ExtBot`, built the way `ApplicationBuilder` builds it."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

TelegramBot = ExtBot[None]


def make_bot(
    token: str,
    *,
    base_url: str = "",
    base_file_url: str = "",
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> TelegramBot:
    """The bot with the connection pools `ApplicationBuilder` would give it (256 for calls, one for
    getUpdates) and a self-hosted Bot API server's URLs when given; `request` replaces the network
    (tests, benchmarks)."""
    urls: dict[str, Any] = {"base_url": base_url} if base_url else {}
    if base_file_url:
        urls["base_file_url"] = base_file_url
    return ExtBot(
        token,
        request=request or HTTPXRequest(connection_pool_size=256),
        get_updates_request=request or HTTPXRequest(connection_pool_size=1),
        rate_limiter=rate_limiter,
        **urls,
    )
