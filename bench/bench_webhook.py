"""The Zalo registration + submission flow through the webhook app beside the same flow by polling.

N simulated workers (default 100) at once each register (7 updates) and submit a full initiative
(14 updates) on Zalo, against a real SQLite file, with the fake Zalo Bot API of the tests (a real
HTTP server on 127.0.0.1, in a thread of this process) receiving every reply:
- webhook: `sangkien run --webhook`'s app served by uvicorn on 127.0.0.1, each update POSTed by an
  httpx client pool; an update's latency is its POST, which returns once the reply was sent;
- polling: `sangkien run`'s Zalo polling (`start_zalo_polling`, with the process's scheduler), the
  same updates queued at the fake server and fetched by the bot's getUpdates loop (one update per
  call, as Zalo does); an update's latency runs from queueing to its reply.
Both modes run in the same process, on a fresh database each, alternately (webhook, polling in odd
rounds, polling, webhook in even ones: A B B A), so the host's noise falls on both alike.

    .venv/bin/python -W ignore bench/bench_webhook.py [--workers 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from bot.app import open_runtime, start_background, start_zalo_polling  # noqa: E402
from bot.config import BotSection, Campaign, Config, DatabaseSection, TelegramSection  # noqa: E402
from bot.serve import ZALO_HEADER, open_webhook  # noqa: E402
from storage.migrate import upgrade_sync  # noqa: E402
from tests.conftest import UNITS  # noqa: E402
from tests.fake_zalo import TOKEN, FakeZalo, FakeZaloServer, Sent  # noqa: E402

WORDS = [
    "máy",
    "cắt",
    "vải",
    "bàn",
    "trượt",
    "cảm",
    "biến",
    "quang",
    "khuôn",
    "dập",
    "băng",
    "tải",
    "robot",
    "hàn",
    "sơn",
    "tĩnh",
    "điện",
    "đèn",
    "led",
    "tiết",
    "kiệm",
]
Send = Callable[[str, dict[str, Any]], Awaitable[str]]
Measured = tuple[float, list[float], int]  # wall seconds, latency of each update, receipts


def flow(index: int) -> list[str]:
    """One worker's 21 answers: registration (options picked by number), then a full submission with
    distinct text (options picked by their text, typed without diacritics)."""
    title = " ".join(WORDS[(index * 7 + k * 3) % len(WORDS)] for k in range(5)) + f" {index}"
    return [
        "/start", "1", "1", f"Nguyễn Văn Thợ {chr(65 + index % 26)}", f"09{index:08d}", "cong ty may 10", "1",
        "/new", title, "tang nang suat lao dong", "giai phap ky thuat", f"Vấn đề {index}: làm thủ công",
        f"Giải pháp {index}: {title}", "Năng suất tăng 20 %", "50 triệu", "01/02/2026",
        "bo qua", "bo qua", "bo qua", "xong", "gui sang kien",
    ]  # fmt: skip


def config_for(folder: Path, template: Path, public_url: str) -> Config:
    """A bot on a fresh copy of the migrated database, Zalo only."""
    shutil.copy(template, folder / "bench.db")
    config = Config(
        bot=BotSection(),
        database=DatabaseSection(url=f"sqlite+aiosqlite:///{folder / 'bench.db'}"),
        telegram=TelegramSection(token=""),
        campaigns=[Campaign(key="c2026", name="Phong trào 2026", start=date(2026, 1, 1), end=date(2027, 12, 31))],
        units=UNITS,
    )
    config.zalo.token, config.zalo.files_dir = TOKEN, str(folder / "files")
    config.webhook.public_url = public_url
    return config


async def drive(fake: FakeZalo, workers: int, send: Send) -> Measured:
    """Run every worker's flow concurrently; wall time, latencies and receipts."""
    latencies: list[float] = []
    receipts = 0

    async def worker(index: int) -> None:
        nonlocal receipts
        user = f"zl-{index}"
        fake.chats.add(user)
        reply = ""
        for answer in flow(index):
            started = time.perf_counter()
            reply = await send(user, fake.message(user, answer))
            latencies.append(time.perf_counter() - started)
        if "Vẫn gửi" in reply:  # look-alikes were shown first
            started = time.perf_counter()
            reply = await send(user, fake.message(user, "van gui"))
            latencies.append(time.perf_counter() - started)
        receipts += "Biên nhận" in reply

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return time.perf_counter() - started, latencies, receipts


async def webhook_mode(server: FakeZaloServer, config: Config, workers: int, port: int, connections: int) -> Measured:
    """The webhook app on 127.0.0.1, updates POSTed by an httpx pool."""
    fake = server.fake
    served = await open_webhook(config, register=False)
    web = uvicorn.Server(uvicorn.Config(served.app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    task = asyncio.create_task(web.serve())
    while not web.started:
        await asyncio.sleep(0.01)
    headers = {ZALO_HEADER: served.secrets["zalo"]}
    last: dict[str, str] = {}
    fake.listener = lambda sent: last.__setitem__(sent.chat, sent.text)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:

        async def send(user: str, body: dict[str, Any]) -> str:
            response = await client.post("/zalo", json=body, headers=headers)
            response.raise_for_status()
            return last[user]

        result = await drive(fake, workers, send)
    fake.listener = None
    web.should_exit = True
    await task
    await served.close()
    return result


async def polling_mode(server: FakeZaloServer, config: Config, workers: int) -> Measured:
    """The bot's getUpdates loop; an update counts as answered when its reply reaches the fake."""
    fake = server.fake
    config.zalo.poll_timeout = 1  # stopping waits for the poll in flight
    runtime = await open_runtime(config)
    polling = await start_zalo_polling(runtime)
    scheduler = await start_background(runtime, {"zalo": polling.sender})
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[str]] = {}

    def arrived(sent: Sent) -> None:
        future = waiting.get(sent.chat)
        if future is not None:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(sent.text))

    fake.listener = arrived

    async def send(user: str, body: dict[str, Any]) -> str:
        waiting[user] = loop.create_future()
        fake.updates.put(body)
        return await waiting[user]

    result = await drive(fake, workers, send)
    fake.listener = None
    await scheduler.close()
    await polling.close()
    await runtime.close()
    return result


def row(mode: str, measured: Measured, workers: int) -> str:
    """One markdown line of results."""
    wall, latencies, receipts = measured
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    return (
        f"| {mode} | {len(latencies):,} | {len(latencies) / wall:,.0f} | {statistics.median(ordered) * 1000:.1f} ms "
        f"| {p99:.1f} ms | {ordered[-1] * 1000:.0f} ms | {receipts}/{workers} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=18089)
    parser.add_argument("--connections", type=int, default=0, help="the httpx pool posting updates (0: one per worker)")
    parser.add_argument("--concurrency", type=int, default=0, help="[webhook] concurrency (0: bot.toml's default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.db"
        upgrade_sync(f"sqlite+aiosqlite:///{template}")
        print("| round | mode | updates | updates/s | p50 | p99 | max | receipts |")
        print("|---|---|---|---|---|---|---|---|")
        for round_no in range(1, args.rounds + 1):
            for mode in ("webhook", "polling") if round_no % 2 else ("polling", "webhook"):
                folder = Path(tmp) / f"{mode}-{round_no}"
                folder.mkdir()
                server = FakeZaloServer().start()
                config = config_for(folder, template, f"http://127.0.0.1:{args.port}")
                config.zalo.base_url = server.url
                try:
                    if mode == "webhook":
                        if args.concurrency:
                            config.webhook.concurrency = args.concurrency
                        connections = args.connections or args.workers
                        measured = await webhook_mode(server, config, args.workers, args.port, connections)
                    else:
                        measured = await polling_mode(server, config, args.workers)
                finally:
                    server.stop()
                print(f"| {round_no} " + row(mode, measured, args.workers), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
