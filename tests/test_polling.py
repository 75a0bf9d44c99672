"""`sangkien run` with a token: long polling starts, answers an update, stores it, and shuts down."""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import run_jobs, run_telegram, run_zalo
from bot.config import Config, TelegramSection
from tests.conftest import FakeClock
from tests.fake_telegram import FakeBotApi, Person
from tests.fake_zalo import TOKEN, FakeZalo, FakeZaloServer
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, zalo, zalo_server

__all__ = ["zalo", "zalo_server"]  # fixtures

LAN = Person(501)
MAI = "zl-2002"
START = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 1764000000,
        "chat": {"id": LAN.id, "type": "private", "first_name": LAN.first_name},
        "from": LAN.as_dict(),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
}


def interrupt() -> None:
    """What python-telegram-bot's handler of SIGINT/SIGTERM does: leave the loop by SystemExit."""
    raise SystemExit


class PollingApi(FakeBotApi):
    """The fake Bot API with one update to hand out; stops the bot's loop once it was answered."""

    def __init__(self, zalo: FakeZalo | None = None) -> None:
        super().__init__()
        self.pending = [START]
        self.interrupted = False
        self.zalo = zalo  # also wait for the Zalo channel to have answered

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        """getUpdates hands out the pending updates once; everything else as the fake does."""
        if method == "getUpdates":
            handed, self.pending = self.pending, []
            return handed
        return super()._result(method, params)

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Answer; on a poll after the bot has replied, stop the event loop as Ctrl+C would."""
        if url.endswith("/getUpdates"):
            answered = any(c.method == "sendMessage" for c in self.calls) and (self.zalo is None or self.zalo.sent)
            if not self.interrupted and answered:
                self.interrupted = True
                asyncio.get_running_loop().call_soon(interrupt)
            await asyncio.sleep(0.01)  # a long poll that comes back empty
        return await super().do_request(url, method, request_data, *args, **kwargs)


def run_in_thread(config: Config, api: PollingApi) -> None:
    """Run `run_telegram` until the fake API interrupts it; fail on any error."""
    failures: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            run_telegram(config, api, signals=False)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the bot did not stop"
    assert failures == []


def stored_people(config: Config) -> list[tuple[str, str, str]]:
    """Who the database knows, by channel."""
    with sqlite3.connect(config.database.url.removeprefix("sqlite+aiosqlite:///")) as conn:
        return sorted(conn.execute("select channel, external_id, reg_step from app_user").fetchall())


def test_run_polls_answers_stores_and_shuts_down(config: Config) -> None:
    polling = config.model_copy(update={"telegram": TelegramSection(token="123456:TEST")})
    api = PollingApi()
    run_in_thread(polling, api)

    methods = [c.method for c in api.calls]
    assert methods[0] == "getMe"
    menus = [c.params for c in api.calls if c.method == "setMyCommands"]
    assert [m.get("language_code") for m in menus] == [None, "en"]
    assert menus[0]["commands"][0] == {"command": "new", "description": "Gửi sáng kiến mới"}
    assert menus[1]["commands"][0] == {"command": "new", "description": "Submit a new initiative"}
    polls = [c.params for c in api.calls if c.method == "getUpdates"]
    assert polls[0]["allowed_updates"] == ["message", "edited_message", "callback_query"]
    [reply] = [c for c in api.calls if c.method == "sendMessage"]
    assert reply.params["chat_id"] == LAN.id
    assert "Chọn ngôn ngữ" in reply.params["text"]
    assert stored_people(config) == [("telegram", str(LAN.id), "language")]


def test_run_serves_telegram_and_zalo_in_one_process(config: Config, tmp_path: Path) -> None:
    server = FakeZaloServer().start()
    try:
        config.zalo.token, config.zalo.base_url, config.zalo.files_dir = TOKEN, server.url, str(tmp_path)
        config.zalo.poll_timeout = 1
        server.fake.updates.put(server.fake.message("zl-1", "/start"))
        run_in_thread(config, PollingApi(server.fake))
    finally:
        server.stop()
    assert "Chọn ngôn ngữ" in server.fake.texts("zl-1")[0]
    assert stored_people(config) == [("telegram", str(LAN.id), "language"), ("zalo", "zl-1", "language")]
    assert server.fake.calls[:2] == ["getMe", "deleteWebhook"]  # polling needs Zalo's webhook off


async def test_run_serves_zalo_alone_when_only_zalo_has_a_token(config: Config, tmp_path: Path) -> None:
    server = FakeZaloServer().start()
    config.telegram.token = ""
    config.zalo.token, config.zalo.base_url, config.zalo.files_dir = TOKEN, server.url, str(tmp_path)
    config.zalo.poll_timeout = 1
    server.fake.updates.put(server.fake.message("zl-1", "/start"))
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(config, stop))
    for _ in range(200):
        if server.fake.sent:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    server.stop()
    assert "Chọn ngôn ngữ" in server.fake.texts("zl-1")[0]


def run_by(claimed_by: str) -> int:
    """The process id in a run's claim (`host:pid:nonce`)."""
    return int(claimed_by.split(":")[-2])


async def serve_zalo_until(zalo: ZaloDriver, config: Config, chat: str, job: str) -> list[str]:
    """`sangkien run` with only a Zalo token and `job` due this minute (the others off): serve until
    something new reaches `chat`, stop; what reached it."""
    config.telegram.token = ""  # `sangkien run` with only SANGKIEN_ZALO_TOKEN
    config.zalo.poll_timeout = 1
    config.jobs.quiet_start = config.jobs.quiet_end  # no quiet hours, whatever the time the test runs
    for name in ("reminders", "leaderboard", "reviewer_digest", "admin_report"):
        config.jobs.spec(name).enabled = name == job
    config.jobs.spec(job).cron, config.jobs.spec(job).grace_minutes = "* * * * *", 10  # due this minute
    before = len(zalo.fake.texts(chat))
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(config, stop))
    for _ in range(1200):  # the run made up at start (in the jobs process) queues it, the Zalo drain sends it
        if len(zalo.fake.texts(chat)) > before or task.done():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    return zalo.fake.texts(chat)[before:]


@pytest.mark.postgresql
async def test_zalo_alone_runs_the_scheduled_jobs_and_delivers_what_they_queue(
    zalo: ZaloDriver, clock: FakeClock, config: Config
) -> None:
    clock.now = datetime.now(UTC) - timedelta(hours=25)  # a draft left a day ago
    await zalo.say(MAI, *REGISTRATION, *CORE[:4])
    [reminder] = await serve_zalo_until(zalo, config, MAI, "reminders")
    assert "Bạn còn một sáng kiến chưa gửi xong (“Máy cắt vải tự động”, đang ở bước 4/" in reminder
    assert await zalo.query("select chat, status from outbox") == [(f"zalo:{MAI}", "sent")]
    [(job, claimed_by)] = await zalo.query("select job, claimed_by from job_run")
    assert job == "reminders" and run_by(claimed_by) != os.getpid()  # run in the jobs process, not the bot's


@pytest.mark.postgresql
async def test_the_leaderboard_run_by_sangkien_run_draws_its_chart_in_the_jobs_process(
    zalo: ZaloDriver, clock: FakeClock, config: Config
) -> None:
    clock.now = datetime.now(UTC) - timedelta(days=2)  # submitted within the week the board counts
    await zalo.say(MAI, *REGISTRATION, *CORE, "1", "1")
    [board] = await serve_zalo_until(zalo, config, MAI, "leaderboard")
    assert "Bảng xếp hạng tuần" in board and "Tuần này: thứ 1/1." in board
    charts = [
        base64.b64decode(payload) for (payload,) in await zalo.query("select payload from outbox where status = 'blob'")
    ]
    assert any(chart.startswith(b"\x89PNG") for chart in charts)  # drawn from the jobs process
    [(claimed_by,)] = await zalo.query("select claimed_by from job_run where job = 'leaderboard'")
    assert run_by(claimed_by) != os.getpid()


async def test_jobs_run_send_with_only_a_zalo_token_delivers_on_zalo(
    zalo: ZaloDriver, clock: FakeClock, config: Config, capsys: Any
) -> None:
    clock.now = datetime.now(UTC) - timedelta(hours=25)  # a draft left a day ago
    await zalo.say(MAI, *REGISTRATION, *CORE[:4])
    config.telegram.token = ""  # `sangkien jobs run reminders --send` with only SANGKIEN_ZALO_TOKEN
    config.jobs.quiet_start = config.jobs.quiet_end  # no quiet hours, whatever the time the test runs
    before = len(zalo.fake.texts(MAI))
    assert await run_jobs(config, "run", "reminders", send=True) == 0
    [reminder] = zalo.fake.texts(MAI)[before:]
    assert "Bạn còn một sáng kiến chưa gửi xong" in reminder
    assert "Đã gửi ngay: 1 tin; lỗi 0; bị chặn 0; sẽ thử lại 0." in capsys.readouterr().out
    assert (f"zalo:{MAI}", "sent") in await zalo.query("select chat, status from outbox")
    assert [name for (name,) in await zalo.query("select job from job_run")] == ["reminders"]
