"""The composition root: wires configuration, storage, the core and the channels together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from bot import admin, campaign_admin, operator
from bot.clock import Clock, local, utc_now
from bot.config import Config
from bot.conversation import Conversation
from bot.delivery import Delivery
from bot.digest import reviewer_digest
from bot.domain import UserRef
from bot.errors import InvalidInput
from bot.i18n import Catalog
from bot.job_process import JobProcess
from bot.job_summary import run_summary, sent_summary
from bot.jobs import JobFunction, JobRunner, deliverable
from bot.leaderboard_job import leaderboard
from bot.messages import Notice, Reply
from bot.reminders import reminders
from bot.report import admin_report
from bot.scheduler import Scheduler, Sender
from bot.similar import DuplicateFinder
from handlers.console.channel import ConsoleChannel
from handlers.files import FileStore
from handlers.pictures import PictureLinks
from handlers.plain import plain
from handlers.telegram.application import Services, build_application, publish_commands
from handlers.telegram.sender import CHANNEL as TELEGRAM
from handlers.telegram.sender import OutboxSender
from handlers.zalo.channel import BLOCKED, FAILED, QUOTA, SENT, ZaloChannel
from handlers.zalo.client import ZaloClient
from handlers.zalo.inbound import CHANNEL as ZALO
from handlers.zalo.polling import poll
from handlers.zalo.sender import ZaloSender
from storage.engine import Database
from storage.migrate import upgrade
from storage.store import SqlStore, seed

log = logging.getLogger(__name__)
RETRYING = "retrying"  # a message `jobs run --send` left for the next drain
JOBS: dict[str, JobFunction] = {
    "reminders": reminders,
    "reviewer_digest": reviewer_digest,
    "admin_report": admin_report,
    "leaderboard": leaderboard,
}


@dataclass
class Runtime:
    """Everything built from the configuration."""

    config: Config
    store: SqlStore
    conversation: Conversation
    catalog: Catalog
    delivery: Delivery
    jobs: JobRunner
    settled: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Stop background loading, release the database."""
        if self.settled is not None:
            self.settled.cancel()
            gc.unfreeze()  # what was frozen may be collected again once the runtime is gone
        if self.conversation.finder is not None:
            await self.conversation.finder.close()
        await self.store.close()


async def housekeeping(runtime: Runtime) -> dict[str, int]:
    """Forget old handled update ids, and finished outbox messages and their unused shared files past
    their retention; how many of each."""
    keep = timedelta(days=runtime.config.jobs.outbox_keep_days)
    return {
        "updates": await runtime.conversation.prune_updates(),
        "outbox": await runtime.delivery.prune(keep),
        "blobs": await runtime.delivery.prune_blobs(keep),
    }


async def open_runtime(config: Config, clock: Clock = utc_now, *, migrate: bool = True) -> Runtime:
    """Migrate the database, seed the configured units, build the core."""
    if migrate:
        await upgrade(config.database.url)
    store = SqlStore(Database(config.database.url))
    await seed(store, config.units, config.campaigns, now=clock())
    finder = DuplicateFinder(store)
    delivery = Delivery(store, clock)
    conversation = Conversation(store, config, delivery, clock, finder=finder)
    jobs = JobRunner(store, config, JOBS, delivery, clock=clock, campaigns=conversation.campaigns, finder=finder)
    return Runtime(config, store, conversation, Catalog(), delivery, jobs)


async def warm_up(runtime: Runtime) -> None:
    """Start loading the duplicate index of every campaign in the background: polling starts at once,
    and hints come from what is loaded until it is done (`bot/similar.py`)."""
    async with runtime.store.transaction() as tx:
        keys = [campaign.key for campaign in await tx.campaigns()]
    runtime.conversation.finder.start(keys)
    runtime.settled = asyncio.create_task(settle(runtime), name="settle")


async def settle(runtime: Runtime) -> None:
    """Once the duplicate indexes have loaded, freeze what is alive by then (modules, configuration,
    the indexes: 10⁶ entries at scale) out of the garbage collector's reach (`gc.freeze`): a full
    collection would otherwise walk all of it on the event loop, a pause of about half a second."""
    await runtime.conversation.finder.loaded()
    gc.freeze()


def telegram_application(runtime: Runtime, **kwargs: Any) -> Any:
    """Build the Telegram application on an open runtime."""
    telegram = runtime.config.telegram
    return build_application(
        telegram.token,
        Services(runtime.conversation, runtime.catalog, files=FileStore(runtime.config.zalo.files_dir)),
        base_url=telegram.base_url,
        base_file_url=telegram.base_file_url,
        **kwargs,
    )


def zalo_channel(
    runtime: Runtime,
    client: ZaloClient,
    *,
    bot_id: str = "",
    pictures: PictureLinks | None = None,
    on_send: Callable[[bool], None] | None = None,
) -> ZaloChannel:
    """The Zalo channel on an open runtime."""
    files = FileStore(runtime.config.zalo.files_dir)
    return ZaloChannel(
        runtime.conversation, runtime.catalog, client, files, bot_id=bot_id, pictures=pictures, on_send=on_send
    )


def zalo_sender(runtime: Runtime, channel: ZaloChannel) -> ZaloSender:
    """The one sender of Zalo chats in this process, woken after each commit that wrote to the outbox."""
    sender = ZaloSender(channel, runtime.delivery, per_second=runtime.config.zalo.sends_per_second)
    runtime.delivery.subscribe(ZALO, sender.wake)
    return sender


@dataclass
class ZaloPolling:
    """Zalo served by long polling beside whatever else runs in the process; its outbox sender is
    drained by the process's scheduler (closed first)."""

    client: ZaloClient
    channel: ZaloChannel
    sender: ZaloSender
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    async def close(self) -> None:
        """Stop polling once the updates in hand are done; close the connections."""
        self.stop.set()
        for task in self.tasks:
            try:
                await task
            except Exception:  # shutting down anyway: say what failed, close the rest
                log.exception("a Zalo task ended with an error")
        await self.client.close()


async def start_zalo_polling(runtime: Runtime) -> ZaloPolling:
    """Check the token, switch Zalo's webhook off (getUpdates needs that), and start polling."""
    zalo = runtime.config.zalo
    client = ZaloClient(zalo.token, zalo.base_url, timeout=zalo.request_timeout)
    me = await client.get_me()
    await client.delete_webhook()
    channel = zalo_channel(runtime, client, bot_id=str(me.get("id") or ""))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(poll(client, channel, stop, timeout=zalo.poll_timeout))]
    log.info("Zalo bot %s is polling", me.get("account_name") or me.get("id"))
    return ZaloPolling(client, channel, zalo_sender(runtime, channel), stop, tasks)


async def run_zalo(config: Config, stop: asyncio.Event | None = None) -> None:
    """Serve Zalo alone by long polling until interrupted (or `stop` is set)."""
    runtime = await open_runtime(config)
    stop = stop or asyncio.Event()
    try:
        with stopped_by_signals(stop):
            polling = await start_zalo_polling(runtime)
            scheduler = await start_background(runtime, {ZALO: polling.sender})
            await stop.wait()
            await scheduler.close()
            await polling.close()
    finally:
        await runtime.close()


@contextlib.contextmanager
def stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` while inside; off the main thread (where Python delivers no
    signals) nothing is installed."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def start_telegram(application: Any, runtime: Runtime) -> OutboxSender:
    """The command menu and the outbox sender of Telegram chats (drained by the scheduler)."""
    await publish_commands(application.bot, runtime.catalog)
    sender = telegram_sender(runtime, application.bot)
    log.info("bot @%s is up", application.bot.username)
    return sender


async def start_background(
    runtime: Runtime, senders: dict[str, Sender], *, catch_up: bool = True, process: JobProcess | None = None
) -> Scheduler:
    """What runs once per process, whichever channels it serves: the duplicate index loading, and the
    scheduler (cron jobs and runs missed while down, made up at once, both in a worker process;
    housekeeping, each channel's outbox drain); `catch_up=False` leaves the first making up of missed
    runs to its interval, and `process` replaces the worker (benches)."""
    await warm_up(runtime)
    process = process or JobProcess(open_runtime, runtime.config)
    scheduler = Scheduler(runtime.jobs, senders, lambda: housekeeping(runtime), process)
    scheduler.start(catch_up=catch_up)
    return scheduler


def telegram_sender(runtime: Runtime, bot: Any, *, wake: bool = True, **options: Any) -> OutboxSender:
    """The one sender of Telegram chats in this process, woken after each commit that wrote to the
    outbox (unless `wake` is False: tests drain it themselves)."""
    options.setdefault("files", FileStore(runtime.config.zalo.files_dir))
    sender = OutboxSender(bot, runtime.catalog, runtime.delivery, **options)
    if wake:
        runtime.delivery.subscribe(TELEGRAM, sender.wake)
    return sender


def run_telegram(config: Config, request: Any = None, *, signals: bool = True) -> None:
    """Run long polling until interrupted; the runtime opens in post_init and closes on shutdown.

    `request` replaces the network and `signals=False` lets it run off the main thread (tests)."""
    holder: dict[str, Any] = {}

    async def post_init(application: Any) -> None:
        runtime = await open_runtime(config)
        holder["runtime"] = runtime
        services = Services(runtime.conversation, runtime.catalog, files=FileStore(runtime.config.zalo.files_dir))
        senders: dict[str, Sender] = {}
        if config.zalo.token:  # Zalo in the same process: each channel's sender sends its chats' notices
            holder["zalo"] = await start_zalo_polling(runtime)
            senders[ZALO] = holder["zalo"].sender
        application.bot_data["services"] = services
        senders[TELEGRAM] = await start_telegram(application, runtime)
        holder["scheduler"] = await start_background(runtime, senders)

    async def post_stop(_application: Any) -> None:
        if "scheduler" in holder:  # stops the senders once their message in hand is done
            await holder["scheduler"].close()
        if "zalo" in holder:
            await holder["zalo"].close()

    async def post_shutdown(_application: Any) -> None:
        if "runtime" in holder:
            await holder["runtime"].close()

    telegram = config.telegram
    application = build_application(
        telegram.token,
        base_url=telegram.base_url,
        base_file_url=telegram.base_file_url,
        request=request,
        post_init=post_init,
        post_stop=post_stop,
        post_shutdown=post_shutdown,
    )
    allowed = ["message", "edited_message", "callback_query"]
    if signals:
        application.run_polling(allowed_updates=allowed)
    else:
        application.run_polling(allowed_updates=allowed, stop_signals=None)


async def run_console(config: Config, person: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """Run the console channel on the configured database (default: this process's stdio)."""
    runtime = await open_runtime(config)
    try:
        out = stdout or sys.stdout
        hint = admin.telegram_admin_only(config, UserRef("console", person))
        if hint is not None:
            out.write(plain(runtime.catalog.render(config.bot.locale, hint.key, hint.args)) + "\n")
        channel = ConsoleChannel(
            runtime.conversation, runtime.catalog, person, stdin or sys.stdin, out, runtime.delivery
        )
        await channel.run()
    finally:
        await runtime.close()


async def run_reviewers(config: Config, action: str, person: str, unit: str) -> int:
    """`sangkien reviewers list|grant|revoke`: print the outcome, return the exit status."""
    runtime = await open_runtime(config)
    try:
        async with runtime.store.transaction() as tx:
            now, notices = utc_now(), list[Notice]()
            if action == "list":
                reply = await operator.listing(tx)
            elif action == "grant":
                reply, notices = await operator.grant(tx, person, unit, now=now)
            else:
                reply, notices = await operator.revoke(tx, person, unit, now=now)
            # the person is told through the outbox, in the same transaction; the running bot sends it
            # (a channel without an outbox sender, the console, is not written to)
            notices = [n for n in notices if n.chat.partition(":")[0] in deliverable(config)]
            await runtime.delivery.enqueue_notices(
                tx, notices, job_run_id=None, key_prefix=f"cli:{action}:{unit}:{now.isoformat()}"
            )
        status = 0
    except InvalidInput as error:
        reply, status = Reply(error.key, error.args_), 1
    finally:
        await runtime.close()
    print(plain(runtime.catalog.render(config.bot.locale, reply.key, reply.args)))
    return status


def _print(runtime: Runtime, replies: list[Reply], file: TextIO | None = None) -> None:
    """Print replies as plain text in the configured language."""
    for reply in replies:
        print(plain(runtime.catalog.render(runtime.config.bot.locale, reply.key, reply.args)), file=file)


async def run_jobs(config: Config, action: str, name: str, *, send: bool = False) -> int:
    """`sangkien jobs list|run NAME [--send]`."""
    runtime = await open_runtime(config)
    try:
        if action == "list":
            for info in await runtime.jobs.describe():
                when = local(info.next_run, config.bot.timezone).strftime("%d/%m/%Y %H:%M") if info.next_run else "-"
                last = local(info.last_run, config.bot.timezone).strftime("%d/%m/%Y %H:%M") if info.last_run else "-"
                state = "on" if info.enabled else "off"
                print(f"{info.name:16} {state:3} {info.cron:18} next {when:16} last {last}")
            return 0
        if name not in runtime.jobs.jobs:
            print(f"job {name} is not available in this version", file=sys.stderr)
            return 2
        if send and not (config.telegram.token or config.zalo.token):  # before the run is claimed
            _print(runtime, [Reply("jobs.send_needs_token")], file=sys.stderr)
            return 2
        report = await runtime.jobs.run(name)
        _print(runtime, run_summary(config, name, report))
        if not send:
            _print(runtime, [Reply("jobs.run_waiting")])
            return 0
        sent = await send_outbox_now(runtime)
        await runtime.jobs.report_deliveries()
        _print(runtime, [sent_summary(sent[SENT], sent[FAILED], sent[BLOCKED], sent[RETRYING])])
        return 0
    finally:
        await runtime.close()


async def send_outbox_now(runtime: Runtime) -> Counter[str]:
    """Drain the outbox once on every channel that has a token (`jobs run --send`)."""
    config, counts = runtime.config, Counter[str]()
    if config.telegram.token:
        application = telegram_application(runtime)
        async with application:
            stats = await telegram_sender(runtime, application.bot, wake=False).drain()
        counts.update({SENT: stats.sent, FAILED: stats.failed, BLOCKED: stats.blocked, RETRYING: stats.retrying})
    if config.zalo.token:
        zalo = config.zalo
        client = ZaloClient(zalo.token, zalo.base_url, timeout=zalo.request_timeout)
        try:
            drained = await zalo_sender(runtime, zalo_channel(runtime, client)).drain()
        finally:
            await client.close()
        counts.update(
            {SENT: drained[SENT], FAILED: drained[FAILED], BLOCKED: drained[BLOCKED], RETRYING: drained[QUOTA]}
        )
    return counts


async def run_campaigns(config: Config, words: list[str]) -> int:
    """`sangkien campaigns list` or `sangkien campaigns change WORDS…`."""
    runtime = await open_runtime(config)
    status = 0
    try:
        async with runtime.store.transaction() as tx:
            if words:
                replies = [await campaign_admin.change(tx, words, now=utc_now())]
            else:
                replies = await campaign_admin.overview(tx)
    except InvalidInput as error:
        replies, status = [Reply(error.key, error.args_)], 1
    finally:
        await runtime.close()
    _print(runtime, replies)
    return status
