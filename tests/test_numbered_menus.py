"""Numbered menus are kept in the database: a restart or a second process reads "2" as the option shown."""

from __future__ import annotations

import io

import pytest

from bot import operator
from bot.app import open_runtime, run_console
from bot.config import Config
from handlers.console.channel import ConsoleChannel
from tests.conftest import FakeClock
from tests.fake_zalo import FakeZaloServer
from tests.zalo_support import CORE, REGISTRATION, ZaloDriver, zalo, zalo_process, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

LAN = "zl-1001"
HUNG = "zl-2002"
ENGLISH_CONSENT = "Do you agree"


async def test_a_number_typed_after_a_restart_picks_the_option_shown_before_it(
    zalo: ZaloDriver, config: Config, clock: FakeClock, zalo_server: FakeZaloServer
) -> None:
    first = await zalo.say(LAN, "/start")
    assert "1. ✅ Tiếng Việt\n2. English" in first[-1]
    await zalo.runtime.close()  # the bot stops; a new process starts on the same database
    async with zalo_process(config, clock, zalo_server) as restarted:
        answer = await restarted.say(LAN, "2")
    assert ENGLISH_CONSENT in answer[-1]
    assert await zalo_query(config, clock, zalo_server, "select locale from app_user") == [("en",)]


async def test_two_processes_on_one_database_share_each_chat_s_menu(
    zalo: ZaloDriver, config: Config, clock: FakeClock, zalo_server: FakeZaloServer
) -> None:
    async with zalo_process(config, clock, zalo_server) as other:
        processes = [zalo, other]
        for step, text in enumerate(REGISTRATION):  # every other message reaches the other process
            await processes[step % 2].say(LAN, text)
        answer = await other.say(LAN, "2")  # the main menu of the last answer: Sáng kiến của tôi
    assert "Đăng ký xong! Chào Nguyễn Thị Lan" in zalo.fake.texts(LAN)[-2]
    assert "Bạn chưa gửi sáng kiến nào" in answer[0]
    assert await zalo.query("select u.full_name, n.code from app_user u join unit n on n.id = u.unit_id") == [
        ("Nguyễn Thị Lan", "MAY10")
    ]


async def test_a_reviewer_decides_by_number_from_a_card_sent_before_a_restart(
    zalo: ZaloDriver, config: Config, clock: FakeClock, zalo_server: FakeZaloServer
) -> None:
    await zalo.say(HUNG, "/start", "1", "1", "Trần Văn Hùng", "0987 654 321", "may 10", "1")
    async with zalo.runtime.store.transaction() as tx:
        await operator.grant(tx, "0987654321", "MAY10", now=clock())
    await zalo.say(LAN, *REGISTRATION, *CORE, "1", "1")  # Xong, Gửi sáng kiến: the card goes to Hùng
    assert "1. ✅ Công nhận" in zalo.fake.texts(HUNG)[-1]
    await zalo.runtime.close()
    async with zalo_process(config, clock, zalo_server) as restarted:
        answer = await restarted.say(HUNG, "1")
        assert answer[0].startswith("Đã công nhận sáng kiến SK-")
        assert await restarted.query("select status from initiative") == [("approved",)]


async def zalo_query(config: Config, clock: FakeClock, server: FakeZaloServer, sql: str) -> list[tuple[object, ...]]:
    """Read the database after every process stopped."""
    async with zalo_process(config, clock, server) as reader:
        return await reader.query(sql)


async def console(config: Config, *lines: str) -> str:
    """One console session (a process of its own) fed `lines`; what it printed."""
    stdout = io.StringIO()
    await run_console(config, "lan", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
    return stdout.getvalue()


async def test_the_console_reads_a_number_against_the_menu_of_its_previous_session(config: Config) -> None:
    first = await console(config, "/start")
    assert "[2] English" in first
    again = await console(config, "2")
    assert ENGLISH_CONSENT in again


async def test_deleting_the_account_drops_the_menus_that_named_its_initiatives(zalo: ZaloDriver) -> None:
    await zalo.say(LAN, *REGISTRATION, *CORE, "1", "1", "/my")  # the list offers the initiative by its title
    [(menu,)] = await zalo.query("select options from offered_menu where chat_key = :chat", chat=f"zalo:{LAN}")
    assert "Máy cắt vải tự động" in menu
    answer = await zalo.say(LAN, "/privacy", "xoa tai khoan", "1")  # Xoá tài khoản, then Có, xoá tài khoản
    assert "Đã xoá tài khoản của bạn" in answer[0]
    assert await zalo.query("select options from offered_menu") == []


async def test_two_console_processes_on_one_database_read_each_other_s_menus(config: Config) -> None:
    first, second = await open_runtime(config, migrate=False), await open_runtime(config, migrate=False)
    try:
        out = io.StringIO()
        consoles = [ConsoleChannel(r.conversation, r.catalog, "lan", io.StringIO(), out) for r in (first, second)]
        lines = ["/start", "2", "1", "Nguyen Thi Lan", "0912 345 678", "cong ty may", "1"]  # English, I agree, …
        for step, line in enumerate(lines):  # every other line reaches the other process
            await consoles[step % 2].send(line)
    finally:
        await first.close()
        await second.close()
    assert "You are registered! Welcome, Nguyen Thi Lan, unit: Công đoàn Công ty May 10." in out.getvalue()
