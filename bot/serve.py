"""`sangkien run --webhook`: Telegram's and Zalo's webhooks, health and metrics from one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telegram.request import HTTPXRequest

from bot.app import Runtime, open_runtime, start_telegram, telegram_application, zalo_channel, zalo_sender
from bot.clock import Clock, utc_now
from bot.config import Config
from handlers.files import FileStore
from handlers.pictures import PictureLinks
from handlers.telegram.application import process_posted, update_kind
from handlers.telegram.counting import CountedRequest
from handlers.web.app import Webhook, web_app
from handlers.web.metrics import Metrics
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.client import ZaloClient
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


async def health(runtime: Runtime, telegram: Any, metrics: Metrics) -> dict[str, Any]:
    """Database reachable (the outbox backlog is read from it), scheduler running, backlog size and age."""
    count, age = await runtime.delivery.backlog()
    metrics.backlog.set(count)
    metrics.backlog_age.set(age)
    scheduler = telegram.job_queue.scheduler.running if telegram is not None and telegram.job_queue else None
    return {
        "ok": scheduler is not False,
        "database": "ok",
        "scheduler": {True: "running", False: "stopped", None: "none"}[scheduler],
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
    try:
        if config.telegram.token:
            secret = config.telegram.webhook_secret or secrets.token_urlsafe(32)
            network = request or HTTPXRequest(connection_pool_size=256)
            counted = CountedRequest(network, partial(metrics.sent, "telegram"))
            telegram = served.telegram = telegram_application(runtime, request=counted)
            await telegram.initialize()
            served.closers.append(telegram.shutdown)
            sender = await start_telegram(telegram, runtime)
            await telegram.start()
            served.closers += [telegram.stop, sender.stop]
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
            stop = asyncio.Event()
            sending = asyncio.create_task(zalo_sender(runtime, channel).run(stop))
            served.closers += [lambda: sending, stop.set]  # closed last first: stop, then wait
            if register:
                await client.set_webhook(f"{public}/zalo", secret)
            hooks.append(Webhook("zalo", "/zalo", ZALO_HEADER, secret, channel.process, event_kind))
            served.secrets["zalo"] = secret
    except BaseException:
        await served.close()
        raise
    served.app = web_app(
        hooks,
        metrics=metrics,
        health=partial(health, runtime, served.telegram, metrics),
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
