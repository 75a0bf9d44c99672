"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL for marked modules), a fixed
clock, the real Application."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from bot.app import Runtime, open_runtime, telegram_application, telegram_sender, warm_up
from bot.config import BotSection, Campaign, Config, DatabaseSection, TelegramSection, UnitSeed
from handlers.telegram import outbound
from handlers.telegram.limiter import Limits, RateLimiter
from handlers.telegram.sender import OutboxSender
from storage.migrate import upgrade_sync
from tests.fake_telegram import Call, FakeBotApi, Person, TelegramDriver, button
from tests.postgresql_server import Server, create_database, programs, server_url_from_env

ADMIN_ID = 900
UNPACED = Limits(overall=10**6, private=10**6, group=10**6)  # tests do not wait out Telegram's pacing
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


UNITS = [
    UnitSeed(code="LDLD-HN", name="Liên đoàn Lao động thành phố Hà Nội", level="city", sector="public"),
    UnitSeed(code="CD-KCN", name="Công đoàn các Khu công nghiệp Hà Nội", parent="LDLD-HN", level="upper"),
    UnitSeed(code="MAY10", name="Công đoàn Công ty May 10", parent="CD-KCN", headcount=1200),
    UnitSeed(code="MAYDUC", name="Công đoàn Công ty May Đức Giang", parent="CD-KCN", headcount=800),
    UnitSeed(code="DIENCO", name="Công đoàn Công ty Điện cơ Thống Nhất", parent="CD-KCN", headcount=450),
]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once by Alembic; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of modules marked `postgresql` run on SQLite and again on PostgreSQL (unless `sqlite_only`)."""
    marked = metafunc.definition.get_closest_marker("postgresql")
    if marked and "db_url" in metafunc.fixturenames and not metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, template_db: Path, tmp_path: Path) -> str:
    """A fresh, migrated database for this test: a SQLite file, or a PostgreSQL database when asked."""
    if getattr(request, "param", "sqlite") == "postgresql":
        server, template = request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template")
        return create_database(server, f"sangkien_test_{os.getpid()}_{next(_databases)}", template=template)
    target = tmp_path / "sangkien.db"
    shutil.copy(template_db, target)
    return f"sqlite+aiosqlite:///{target}"


_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[URL]:
    """A PostgreSQL server for the session: `SANGKIEN_TEST_POSTGRESQL_URL`, else a throwaway one."""
    given = server_url_from_env()
    if given is not None:
        yield given
        return
    bin_dir = programs()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    try:
        server = Server(bin_dir)
    except KeyError:
        pytest.skip("running as root, and there is no postgres account to run PostgreSQL as")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: URL) -> str:
    """A PostgreSQL database migrated once by Alembic; each test gets a copy."""
    name = f"sangkien_template_{os.getpid()}"
    upgrade_sync(create_database(pg_server, name))
    return name


def campaign() -> Campaign:
    """The one campaign of the tests."""
    return Campaign(key="c2026", name="Phong trào 2026", start=date(2026, 1, 1), end=date(2027, 12, 31))


@pytest.fixture
def config(db_url: str) -> Config:
    """A configuration with one campaign and a small unit hierarchy."""
    return Config(
        bot=BotSection(page_size=3, admins=[ADMIN_ID]),
        database=DatabaseSection(url=db_url),
        telegram=TelegramSection(token="123456:TEST"),
        campaigns=[campaign()],
        units=UNITS,
    )


@pytest.fixture
def clock() -> FakeClock:
    """The time the core sees."""
    return FakeClock()


class Harness:
    """The bot as a whole: runtime, Application and a driver; can be restarted on the same data."""

    def __init__(self, config: Config, clock: FakeClock) -> None:
        self.config = config
        self.clock = clock
        self.api = FakeBotApi()
        self.runtime: Runtime | None = None
        self.driver: TelegramDriver | None = None
        self.sender: OutboxSender | None = None

    async def start(self) -> TelegramDriver:
        """Open the runtime and a fresh Application; the outbox is drained after every update (by
        the sender production wakes after each commit; here without Telegram's pacing)."""
        self.runtime = await open_runtime(self.config, self.clock, migrate=False)
        await warm_up(self.runtime)
        await self.runtime.conversation.finder.loaded()  # hints in tests see every earlier initiative
        app = telegram_application(self.runtime, request=self.api)
        await app.initialize()
        ids = self.driver.update_ids if self.driver else None
        self.sender = telegram_sender(self.runtime, app.bot, wake=False, limiter=RateLimiter(UNPACED))
        self.driver = TelegramDriver(app, self.api, settle=self.sender.drain)
        if ids is not None:
            self.driver.update_ids = ids
        return self.driver

    async def stop(self) -> None:
        """Shut the Application and the database down, as a restart would."""
        if self.driver is not None:
            await self.driver.app.shutdown()
        if self.runtime is not None:
            await self.runtime.close()

    async def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Read the database directly, as an auditor would."""
        from sqlalchemy import text

        assert self.runtime is not None
        async with self.runtime.store.transaction() as tx:
            return [tuple(map(as_text, r)) for r in (await tx.conn.execute(text(sql), params)).all()]


def as_text(value: Any) -> Any:
    """A date or time as SQLite keeps it (ISO text, times in UTC), whichever database returned it."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@pytest.fixture
async def harness(config: Config, clock: FakeClock) -> AsyncIterator[Harness]:
    """A running bot on a fresh database."""
    h = Harness(config, clock)
    await h.start()
    yield h
    await h.stop()


@pytest.fixture
def tg(harness: Harness) -> TelegramDriver:
    """The Telegram driver of the running bot."""
    assert harness.driver is not None
    return harness.driver


async def person_row(harness: Harness, person: Person, *columns: str) -> tuple[Any, ...]:
    """The given columns (of app_user `u` and its unit `n`) of the one row of `person`."""
    rows = await harness.query(
        f"select {', '.join(columns)} from app_user u left join unit n on n.id = u.unit_id where u.external_id = :ext",
        ext=str(person.id),
    )
    assert len(rows) == 1
    return rows[0]


async def register(
    tg: TelegramDriver,
    person: Person,
    *,
    unit_query: str = "may 10",
    lang: str = "Tiếng Việt",
    name: str = "Nguyễn Thị Lan",
) -> list[Call]:
    """Take `person` through registration; return the calls of the last step."""
    calls = await tg.text(person, "/start")
    calls = await tg.press(person, button(calls, lang))
    calls = await tg.press(person, button(calls, "✅"))
    await tg.text(person, name)
    await tg.text(person, "0912 345 678")
    calls = await tg.text(person, unit_query)
    units = [call for call in calls if call.buttons][-1]  # not a message the outbox sent meanwhile
    return await tg.press(person, units.buttons[0][1])


async def open_phone_edit(tg: TelegramDriver, person: Person) -> list[Call]:
    """Register `person`, open /profile and press "Sửa số điện thoại" (the share-contact keyboard shows)."""
    await register(tg, person)
    calls = await tg.press(person, button(await tg.text(person, "/profile"), "Sửa số điện thoại"))
    assert calls[-1].keyboard["keyboard"][0][0]["request_contact"] is True
    return calls


CORE_ANSWERS = [
    "Máy cắt vải tự động",
    None,
    None,
    "Cắt thủ công, chậm và lệch đường may",
    "Gắn cảm biến quang và bàn trượt",
    "Năng suất tăng 20 %",
    "50 triệu",
    "01/02/2026",
]


async def fill_core(tg: TelegramDriver, person: Person, title: str = "Máy cắt vải tự động") -> list[Call]:
    """Start /new and answer the seven core fields; return the calls of the last answer."""
    calls = await tg.text(person, "/new")
    calls = await tg.text(person, title)
    calls = await tg.press(person, calls[-1].buttons[2][1])  # productivity
    calls = await tg.press(person, calls[-1].buttons[0][1])  # technical
    for answer in CORE_ANSWERS[3:]:
        assert answer is not None
        calls = await tg.text(person, answer)
    return calls


async def submit(tg: TelegramDriver, person: Person, title: str = "Máy cắt vải tự động") -> list[Call]:
    """Fill the core, skip the optional fields, press Submit; return the receipt calls."""
    calls = await fill_core(tg, person, title)
    for _ in range(3):
        calls = await tg.press(person, button(calls, "Bỏ qua"))
    calls = await tg.press(person, button(calls, "Xong"))
    return await press_submit(tg, person, calls)


async def press_submit(tg: TelegramDriver, person: Person, calls: list[Call]) -> list[Call]:
    """Press Submit on the summary, and "Submit anyway" if look-alikes are shown first."""
    calls = await tg.press(person, button(calls, "Gửi sáng kiến"))
    if any("Vẫn gửi" in label for call in calls for label, _ in call.buttons):
        calls = await tg.press(person, button(calls, "Vẫn gửi"))
    return calls


# One valid answer per field of the submission flow (buttons are pressed by label).
FLOW_ANSWERS: dict[str, str] = {
    "title": "Máy cắt vải tự động",
    "category": "Tăng năng suất lao động",
    "kind": "Giải pháp kỹ thuật",
    "problem": "Cắt thủ công, chậm và lệch đường may",
    "solution": "Gắn cảm biến quang và bàn trượt",
    "benefit": "Năng suất tăng 20 %",
    "benefit_vnd": "50 triệu",
    "applied_since": "01/02/2026",
    "coauthors": "50\nNguyễn Văn Bình – 30\nTrần Thị Cúc – 20",
    "conditions": "Cần khí nén 6 bar",
    "confidential": "Sơ đồ mạch cảm biến",
    "attachments": "Xong",
}
BUTTON_STEPS = ("category", "kind", "attachments")


async def answer_until(tg: TelegramDriver, person: Person, step: str, **answers: str) -> list[Call]:
    """Send /new, then answer field after field (FLOW_ANSWERS unless overridden) until the
    draft waits at `step` ("summary" for the end); return the calls of the last answer."""
    calls = await tg.text(person, "/new")
    for name, default in FLOW_ANSWERS.items():
        if name == step:
            return calls
        answer = answers.get(name, default)
        if name in BUTTON_STEPS:
            calls = await tg.press(person, button(calls, answer))
        else:
            calls = await tg.text(person, answer)
    return calls


async def draft_row(harness: Harness, *columns: str) -> tuple[Any, ...]:
    """The given columns of the one open draft (fails unless exactly one exists)."""
    rows = await harness.query(f"select {', '.join(columns)} from initiative where status='draft'")
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Flood-control waits of direct answers are recorded instead of slept."""
    waited: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        waited.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(outbound.asyncio, "sleep", fake_sleep)
    return waited
