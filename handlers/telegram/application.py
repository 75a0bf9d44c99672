"""The python-telegram-bot Application: one handler for every update, per-user ordering, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.i18n import Catalog
from bot.messages import Core, Shown
from handlers.files import FileStore
from handlers.telegram.api import make_bot
from handlers.telegram.inbound import to_inbound
from handlers.telegram.outbound import send_replies

log = logging.getLogger(__name__)
Hook = Callable[[Application[Any, Any, Any, Any, Any, Any]], Coroutine[Any, Any, None]]


@dataclass
class Services:
    """What the Telegram handlers need, kept in `bot_data["services"]`."""

    core: Core
    catalog: Catalog
    files: FileStore | None = None  # photos the bot keeps itself (sent on Zalo), uploaded to Telegram


class PerUserProcessor(BaseUpdateProcessor):
    """Process updates of different people concurrently, and each person's in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}  # updates of each sender holding or waiting for its lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's coroutine under its sender's lock (dropped once nobody holds or awaits it)."""
        key = 0
        if isinstance(update, Update):
            key = (
                update.effective_user.id
                if update.effective_user
                else (update.effective_chat.id if update.effective_chat else 0)
            )
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Translate the update, let the core handle it, send what it answers (the outbox's sender
    sends what the core told others)."""
    event = to_inbound(update)
    if event is None:
        return
    services: Services = context.bot_data["services"]
    bot = context.bot
    outcome = await services.core.handle(event)
    query = update.callback_query
    if query is not None:
        alert = services.catalog.render(outcome.locale, outcome.alert) if outcome.alert else None
        try:
            await bot.answer_callback_query(query.id, text=alert, show_alert=True if alert else None)
        except TelegramError:  # a query answered late or twice: the press itself still counts
            log.info("could not answer callback query of update %s", update.update_id)
    chat = update.effective_chat
    if chat is not None and outcome.replies:  # what others are told is in the outbox, committed
        sent = await send_replies(
            bot, chat.id, services.catalog, outcome.locale, outcome.replies, query, services.files
        )
        if sent.complete and outcome.kept:
            await services.core.delivered(outcome.kept)
        await services.core.shown(event, outcome, Shown.of(event.chat_key, outcome.replies, sent.messages))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every failure; tell the person something went wrong, in their language if known."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    services: Services = context.bot_data["services"]
    user = update.effective_user
    locale = "en" if user and (user.language_code or "").startswith("en") else "vi"
    try:
        await context.bot.send_message(update.effective_chat.id, services.catalog.render(locale, "error.internal"))
    except Exception:
        log.exception("could not report the failure to chat %s", update.effective_chat.id)


async def process_posted(application: Application[Any, Any, Any, Any, Any, Any], data: Any) -> None:
    """Handle one update Telegram posted to the webhook, in order with its sender's other updates."""
    update = Update.de_json(data, application.bot)
    await application.update_processor.process_update(update, application.process_update(update))


def update_kind(data: Any) -> str:
    """What a posted update carries ("message", "callback_query", …), for the metrics."""
    keys = [key for key in data if key != "update_id"] if isinstance(data, dict) else []
    return keys[0] if keys else "unknown"


COMMANDS = ("new", "my", "pending", "profile", "reminders", "language", "privacy", "cancel", "help")


async def publish_commands(bot: Bot, catalog: Catalog) -> None:
    """Show the command menu in Vietnamese by default and in English to English-language clients."""
    for language in ("vi", "en"):
        commands = [BotCommand(name, catalog.render(language, f"command.{name}")) for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=None if language == "vi" else language)


def build_application(
    token: str,
    services: Services | None = None,
    *,
    base_url: str = "",
    base_file_url: str = "",
    request: BaseRequest | None = None,
    post_init: Hook | None = None,
    post_stop: Hook | None = None,
    post_shutdown: Hook | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the Application; `request` replaces the network (tests, benchmarks)."""
    bot = make_bot(token, base_url=base_url, base_file_url=base_file_url, request=request)
    # no JobQueue: one channel-free scheduler per process runs the jobs and drains (bot/scheduler.py)
    builder = ApplicationBuilder().bot(bot).concurrent_updates(PerUserProcessor()).job_queue(None)
    if post_init is not None:
        builder = builder.post_init(post_init)
    if post_stop is not None:
        builder = builder.post_stop(post_stop)
    if post_shutdown is not None:
        builder = builder.post_shutdown(post_shutdown)
    application = builder.build()
    if services is not None:
        application.bot_data["services"] = services
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application
