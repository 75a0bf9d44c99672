"""`sangkien run --webhook`: Telegram's and Zalo's webhooks, health and metrics from one ASGI app."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telegram.request import HTTPXRequest

from bot.app import (
    Runtime,
    open_runtime,
    start_background,
    start_telegram,
    telegram_application,
    zalo_channel,
    zalo_sender,
)
from bot.clock import Clock, utc_now
from bot.config import Config
from bot.scheduler import Scheduler, Sender
from handlers.files import FileStore
from handlers.pictures import PictureLinks
from handlers.telegram.application import process_posted, update_kind
from handlers.telegram.counting import CountedRequest
from handlers.telegram.sender import CHANNEL as TELEGRAM
from handlers.web.app import Webhook, web_app
from handlers.web.metrics import Metrics
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.client import ZaloClient
from handlers.zalo.inbound import CHANNEL as ZALO
from handlers.zalo.inbound import event_kind

log = logging.getLogger(__name__)
TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_HEADER = "X-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


@dataclass
class Served:
    """The web app and what it was built on; `close` releases it all."""

    app: Any
    runtime: Runtime
    metrics: Metrics
    telegram: Any = None
    zalo: ZaloChannel | None = None
    scheduler: Scheduler | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def close(self) -> None:
        """Stop the channels (last opened first) and the database."""
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                result = closer()
                if result is not None:
                    await result
        await self.runtime.close()


async def health(runtime: Runtime, scheduler: Scheduler, metrics: Metrics) -> dict[str, Any]:
    """Database reachable (the outbox backlog is read from it), scheduler running, backlog size and age."""
    count, age = await runtime.delivery.backlog()
    metrics.backlog.set(count)
    metrics.backlog_age.set(age)
    return {
        "ok": scheduler.alive,
        "database": "ok",
        "scheduler": "running" if scheduler.alive else "stopped",
        "outbox": {"backlog": count, "oldest_seconds": round(age, 1)},
    }


async def open_webhook(
    config: Config,
    *,
    request: Any = None,
    zalo_client: ZaloClient | None = None,
    clock: Clock = utc_now,
    migrate: bool = True,
    register: bool = True,
) -> Served:
    """Open the runtime and every channel with a token, and build the app that serves their webhooks;
    with `register`, tell Telegram and Zalo where to post (`[webhook] public_url`)."""
    runtime = await open_runtime(config, clock, migrate=migrate)
    metrics = Metrics()
    served = Served(None, runtime, metrics)
    public = config.webhook.public_url.rstrip("/")
    if register and not public:
        raise ValueError("--webhook needs [webhook] public_url (or SANGKIEN_PUBLIC_URL)")
    pictures = PictureLinks(public, config.webhook.picture_minutes) if public else None
    hooks: list[Webhook] = []
    senders: dict[str, Sender] = {}
    try:
        if config.telegram.token:
            secret = config.telegram.webhook_secret or secrets.token_urlsafe(32)
            network = request or HTTPXRequest(connection_pool_size=256)
            counted = CountedRequest(network, partial(metrics.sent, "telegram"))
            telegram = served.telegram = telegram_application(runtime, request=counted)
            await telegram.initialize()
            served.closers.append(telegram.shutdown)
            senders[TELEGRAM] = await start_telegram(telegram, runtime)
            await telegram.start()
            served.closers.append(telegram.stop)
            if register:
                await telegram.bot.set_webhook(
                    f"{public}/telegram", secret_token=secret, allowed_updates=ALLOWED_UPDATES
                )
            process = partial(process_posted, telegram)
            hooks.append(Webhook("telegram", "/telegram", TELEGRAM_HEADER, secret, process, update_kind))
            served.secrets["telegram"] = secret
        if config.zalo.token:
            zalo = config.zalo
            secret = zalo.webhook_secret or secrets.token_urlsafe(32)
            client = zalo_client or ZaloClient(zalo.token, zalo.base_url, timeout=zalo.request_timeout)
            served.closers.append(client.close)
            me = await client.get_me()
            channel = served.zalo = zalo_channel(
                runtime,
                client,
                bot_id=str(me.get("id") or ""),
                pictures=pictures,
                on_send=partial(metrics.sent, "zalo"),
            )
            senders[ZALO] = zalo_sender(runtime, channel)
            if register:
                await client.set_webhook(f"{public}/zalo", secret)
            hooks.append(Webhook("zalo", "/zalo", ZALO_HEADER, secret, channel.process, event_kind))
            served.secrets["zalo"] = secret
        scheduler = served.scheduler = await start_background(runtime, senders)
        served.closers.append(scheduler.close)  # closed first: the senders finish before the channels go
    except BaseException:
        await served.close()
        raise
    served.app = web_app(
        hooks,
        metrics=metrics,
        health=partial(health, runtime, scheduler, metrics),
        files=FileStore(config.zalo.files_dir),
        pictures=pictures,
        concurrency=config.webhook.concurrency,
    )
    return served


async def serve_webhook(config: Config) -> None:
    """Serve the webhooks with uvicorn on `[webhook] host:port` until interrupted."""
    import uvicorn

    served = await open_webhook(config)
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                served.app, host=config.webhook.host, port=config.webhook.port, log_level="warning", lifespan="off"
            )
        )
        where = (config.webhook.host, config.webhook.port, config.webhook.public_url)
        log.info("serving webhooks on %s:%s for %s", *where)
        await server.serve()
    finally:
        await served.close()
