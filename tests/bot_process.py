"""Bot processes for the multi-process tests: the real runtime, Application and outbox sender against
a fake Bot API that appends every call it accepted to a file.

`python -m tests.bot_process` is a zygote: it imports the bot once, then for each JSON line on its
stdin forks a bot process running that spec and prints its pid (forking spares each process the
seconds of imports, so twenty `kill -9`s stay quick). A spec holds:
  db, calls, log        database URL; the file of accepted calls (JSON lines); the progress log
  lease                 seconds of the outbox and job-run leases
  send_delay            seconds a sendMessage waits before the fake Bot API accepts it
  slow_route            seconds the core waits, inside the update's transaction, before routing
  start_at              wall-clock time (time.time()) to begin at
  updates               raw Telegram updates, handled one after the other
  job                   scheduled time (ISO) of a run of the `probe` job
  drain                 keep draining the outbox until nothing due is pending
The log gets "ready", "handled <update_id>", "probe ran", "job <claimed|none>", "done".
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from telegram import Update
from telegram.request import RequestData

from bot import router
from bot.app import open_runtime, telegram_application, telegram_sender
from bot.config import BotSection, Config, DatabaseSection, TelegramSection
from bot.jobs import JobContext, JobRunner, Outgoing
from handlers.telegram.limiter import RateLimiter
from tests.conftest import ADMIN_ID, UNITS, UNPACED, campaign
from tests.fake_telegram import FakeBotApi

LIFETIME = 120.0  # a bot process that has not finished by then (a failing test) ends anyway


class RecordingApi(FakeBotApi):
    """The fake Bot API, appending each call it accepted to a file shared by every process."""

    def __init__(self, path: str, send_delay: float) -> None:
        super().__init__()
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.send_delay = send_delay

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Answer as the Bot API would, then note the call (one write: whole lines, whatever the timing)."""
        name = url.rsplit("/", 1)[-1]
        if name == "sendMessage" and self.send_delay:
            await asyncio.sleep(self.send_delay)
        answer = await super().do_request(url, method, request_data, *args, **kwargs)
        params = self.calls[-1].params
        line = {"pid": os.getpid(), "method": name, "chat_id": params.get("chat_id"), "text": params.get("text")}
        os.write(self.fd, (json.dumps(line, ensure_ascii=False) + "\n").encode())
        return answer


def config_for(url: str) -> Config:
    """The configuration of the test suite, on this database."""
    return Config(
        bot=BotSection(page_size=3, admins=[ADMIN_ID]),
        database=DatabaseSection(url=url),
        telegram=TelegramSection(token="123456:TEST"),
        campaigns=[campaign()],
        units=UNITS,
    )


async def run(spec: dict[str, Any]) -> None:
    """One bot process doing what `spec` says."""
    log_fd = os.open(spec["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def log(message: str) -> None:
        os.write(log_fd, f"{os.getpid()} {message}\n".encode())

    config = config_for(spec["db"])
    runtime = await open_runtime(config, migrate=False)
    lease = timedelta(seconds=spec.get("lease", 120))
    runtime.delivery.lease = lease
    api = RecordingApi(spec["calls"], spec.get("send_delay", 0.0))
    application = telegram_application(runtime, request=api)
    await application.initialize()
    sender = telegram_sender(runtime, application.bot, limiter=RateLimiter(UNPACED))
    if spec.get("slow_route"):
        routed = router.route

        async def slow_route(turn: Any, event: Any) -> Any:
            await asyncio.sleep(spec["slow_route"])
            return await routed(turn, event)

        router.route = slow_route  # type: ignore[assignment]

    async def probe(context: JobContext) -> AsyncIterator[Outgoing]:
        log("probe ran")
        await asyncio.sleep(0.5)  # long enough for the other process to try the same run
        for outgoing in ():  # a job yields its messages: this one has none
            yield outgoing

    jobs = JobRunner(runtime.store, config, {"probe": probe}, runtime.delivery, lease=lease)
    log("ready")
    if "start_at" in spec:
        await asyncio.sleep(max(0.0, spec["start_at"] - time.time()))
    for raw in spec.get("updates", []):
        await application.process_update(Update.de_json(raw, application.bot))
        log(f"handled {raw['update_id']}")
    if "job" in spec:
        report = await jobs.run("probe", datetime.fromisoformat(spec["job"]))
        log(f"job {'claimed' if report is not None else 'none'}")
    while spec.get("drain"):
        await sender.drain()
        async with runtime.store.transaction() as tx:
            due = text("select count(*) from outbox where status = 'pending' and not_before <= :now")
            pending = (await tx.conn.execute(due, {"now": datetime.now(UTC).replace(tzinfo=None)})).scalar()
        if not pending:
            break
        await asyncio.sleep(0.1)
    log("done")
    await application.shutdown()
    await runtime.close()


def zygote() -> None:
    """Fork a bot process for each spec read from stdin; print its pid."""
    for line in sys.stdin:
        while True:  # reap the processes that ended
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        spec = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                asyncio.run(asyncio.wait_for(run(spec), LIFETIME))
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        print(pid, flush=True)


if __name__ == "__main__":
    zygote()
