"""The `sangkien` command line and the configuration it loads."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config import DEFAULT_CONFIG, ROOT, load_config
from storage.tables import metadata
from tests.test_console import REGISTRATION

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

ENV = (
    "SANGKIEN_TELEGRAM_TOKEN",
    "SANGKIEN_TELEGRAM_BASE_URL",
    "SANGKIEN_TELEGRAM_BASE_FILE_URL",
    "SANGKIEN_DATABASE_URL",
    "SANGKIEN_ADMINS",
    "SANGKIEN_CONFIG",
    "SANGKIEN_ZALO_TOKEN",
    "SANGKIEN_ZALO_BASE_URL",
    "SANGKIEN_ZALO_SECRET",
    "SANGKIEN_TELEGRAM_SECRET",
    "SANGKIEN_PUBLIC_URL",
)
CONFIG = """
[database]
url = "sqlite+aiosqlite:///data/sangkien.db"

[[campaigns]]
key = "c2026"
name = "Phong trào 2026"
start = 2026-01-01
end = 2027-12-31

[[units]]
code = "MAY10"
name = "Công đoàn Công ty May 10"
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bot.toml in a temporary folder, with no SANGKIEN_* variables around."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "conf" / "bot.toml"
    path.parent.mkdir()
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_run_without_a_token_explains_how_to_get_one_and_exits_2(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_file), "run"]) == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and "/newbot" in err
    assert "SANGKIEN_TELEGRAM_TOKEN" in err
    assert "sangkien console" in err
    assert not (config_file.parent / "data").exists()


def test_run_webhook_needs_a_public_url(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--config", str(config_file), "run", "--webhook"]) == 2  # no token at all
    monkeypatch.setenv("SANGKIEN_ZALO_TOKEN", "1234:zalo")
    assert main(["--config", str(config_file), "run", "--webhook"]) == 2
    assert "public_url" in capsys.readouterr().err
    assert not (config_file.parent / "data").exists()


def test_python_m_bot_run_without_a_token_exits_2(config_file: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config_file), "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "BotFather" in done.stderr


def test_run_or_console_without_a_token_runs_the_console(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\n"))
    assert main(["--config", str(config_file), "run", "--or-console", "--user", "lan"]) == 0
    captured = capsys.readouterr()
    assert "BotFather" in captured.err
    assert "[1] ✅ Tiếng Việt" in captured.out
    assert (config_file.parent / "data" / "sangkien.db").is_file()


def test_db_upgrade_creates_the_database_with_every_table(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_file), "db", "upgrade"]) == 0
    database = config_file.parent / "data" / "sangkien.db"
    assert str(database) in capsys.readouterr().out
    with sqlite3.connect(database) as conn:
        names = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
    assert set(metadata.tables) <= names
    assert "alembic_version" in names


def test_environment_overrides_the_file(config_file: Path) -> None:
    config = load_config(
        config_file,
        env={
            "SANGKIEN_TELEGRAM_TOKEN": "123:ABC",
            "SANGKIEN_TELEGRAM_BASE_URL": "http://localhost:8081/bot",
            "SANGKIEN_TELEGRAM_BASE_FILE_URL": "http://localhost:8081/file/bot",
            "SANGKIEN_DATABASE_URL": "sqlite+aiosqlite:////srv/sangkien.db",
            "SANGKIEN_ADMINS": "1, 2",
        },
    )
    assert config.telegram.token == "123:ABC"
    assert config.telegram.base_url == "http://localhost:8081/bot"
    assert config.telegram.base_file_url == "http://localhost:8081/file/bot"
    assert config.database.url == "sqlite+aiosqlite:////srv/sangkien.db"
    assert config.bot.admins == ["telegram:1", "telegram:2"]


def test_without_overrides_the_file_wins_and_sqlite_paths_are_relative_to_it(
    config_file: Path,
) -> None:
    config = load_config(config_file, env={})
    expected = (config_file.parent / "data" / "sangkien.db").resolve()
    assert config.database.url == f"sqlite+aiosqlite:///{expected}"
    assert config.telegram.token == ""
    assert config.bot.admins == []
    assert [c.key for c in config.campaigns] == ["c2026"]


async def _console_as(
    config_file: Path,
    person: str,
    lines: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run `sangkien console --user PERSON` on `lines` (in a thread: main runs its own event loop)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert await asyncio.to_thread(main, ["--config", str(config_file), "console", "--user", person]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "toml"),
    [("console:boss", ""), ("", 'admins = [123, "console:boss"]'), ("9001, console:boss", "")],
    ids=["environment", "bot.toml", "mixed"],
)
async def test_a_console_person_named_channel_id_is_an_admin(
    config_file: Path, env: str, toml: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if toml:
        config_file.write_text(f"[bot]\n{toml}\n" + CONFIG, encoding="utf-8")
    if env:
        monkeypatch.setenv("SANGKIEN_ADMINS", env)
    out = await _console_as(config_file, "boss", [*REGISTRATION, "/campaigns"], monkeypatch, capsys)
    assert "Phong trào 2026" in out.rsplit("> ", 2)[-2]
    assert "chỉ dành cho quản trị viên" not in out
    assert (
        await asyncio.to_thread(main, ["--config", str(config_file), "reviewers", "grant", "console:boss", "MAY10"])
        == 0
    )
    assert capsys.readouterr().out.startswith("Đã cấp quyền xét duyệt cho Nguyễn Thị Lan")  # found by channel:id
    with sqlite3.connect(config_file.parent / "data" / "sangkien.db") as conn:  # no sender for the console
        assert conn.execute("select count(*) from outbox").fetchall() == [(0,)]
    out = await _console_as(config_file, "9001", [*REGISTRATION, "/campaigns"], monkeypatch, capsys)
    assert "chỉ dành cho quản trị viên" in out  # console:9001 is not telegram:9001
    hint = "Lưu ý: 9001 có trong danh sách quản trị viên như một ID Telegram"
    assert (hint in out and "ghi console:9001 trong bot.admins hoặc SANGKIEN_ADMINS" in out) == ("9001" in env)


@pytest.mark.parametrize(
    ("env", "toml", "shown"),
    [
        ("boss", "", "SANGKIEN_ADMINS: 'boss' is not a person"),
        ("telgram:5", "", "SANGKIEN_ADMINS: 'telgram:5' is not a person"),
        ("", 'admins = ["console:"]', "bot.admins: 'console:' is not a person"),
        ("", 'admins = "1"', "bot.admins: admins must be a list"),
    ],
)
def test_a_bad_admin_is_refused_in_one_line_without_a_traceback(
    config_file: Path, env: str, toml: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if toml:
        config_file.write_text(f"[bot]\n{toml}\n" + CONFIG, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k not in ENV} | ({"SANGKIEN_ADMINS": env} if env else {})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config_file), "jobs", "list"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and shown in done.stderr and "Traceback" not in done.stderr
    assert "console:boss" in done.stderr  # says what to write instead


def test_sangkien_config_picks_the_file(config_file: Path) -> None:
    config = load_config(env={"SANGKIEN_CONFIG": str(config_file)})
    assert [u.code for u in config.units] == ["MAY10"]


def test_the_shipped_bot_toml_loads_and_is_consistent() -> None:
    assert DEFAULT_CONFIG == ROOT / "bot.toml"
    config = load_config(DEFAULT_CONFIG, env={})
    assert config.bot.locale == "vi"
    assert ZoneInfo(config.bot.timezone).key == "Asia/Ho_Chi_Minh"
    assert config.database.url == f"sqlite+aiosqlite:///{ROOT / 'data' / 'sangkien.db'}"
    assert len(config.campaigns) >= 1
    for campaign in config.campaigns:
        assert campaign.start < campaign.end
        assert [c.key for c in campaign.categories] == [
            "pandemic",
            "production",
            "productivity",
            "union",
        ]
    codes = [unit.code for unit in config.units]
    assert len(codes) == len(set(codes)) >= 2
    assert all(unit.parent in codes for unit in config.units if unit.parent is not None)
    assert any(unit.parent is None for unit in config.units)
    assert {unit.sector for unit in config.units} <= {"enterprise", "public"}
    assert {unit.level for unit in config.units} <= {"grassroots", "upper", "city"}


def test_jobs_list_shows_every_job_with_its_schedule(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file), "jobs", "list"]) == 0
    out = capsys.readouterr().out
    for name, cron in (
        ("leaderboard", "0 8 * * mon"),
        ("reminders", "0 9 * * *"),
        ("reviewer_digest", "0 8 * * mon-fri"),
    ):
        assert any(line.startswith(name) and cron in line for line in out.splitlines())


def test_jobs_run_records_the_run_and_refuses_to_send_without_a_token(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_file), "jobs", "run", "reminders"]) == 0
    assert capsys.readouterr().out.startswith("Đã chạy “nhắc nhở”: xếp 0 tin nhắn")
    database = config_file.parent / "data" / "sangkien.db"
    with sqlite3.connect(database) as conn:
        assert conn.execute("select job from job_run").fetchall() == [("reminders",)]
    assert main(["--config", str(config_file), "jobs", "run", "admin_report", "--send"]) == 2
    assert "--send cần token Telegram hoặc Zalo" in capsys.readouterr().err
    with sqlite3.connect(database) as conn:  # refused before the run was claimed: it can still run this minute
        assert conn.execute("select job from job_run").fetchall() == [("reminders",)]


def test_reviewers_and_campaigns_on_the_cli(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file), "campaigns", "change", "c2026", "target", "250", "MAY10"]) == 0
    assert "250" in capsys.readouterr().out
    assert main(["--config", str(config_file), "campaigns", "change", "nope", "end", "01/01/2027"]) == 1
    assert main(["--config", str(config_file), "campaigns", "list"]) == 0
    assert "Công đoàn Công ty May 10: gửi 0 / 250 (0%)" in capsys.readouterr().out
    assert main(["--config", str(config_file), "reviewers", "grant", "@nobody", "MAY10"]) == 1


def test_jobs_run_prints_a_readable_summary_and_when_held_messages_go(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=2)).time()  # quiet hours: now
    config_file.write_text(
        f"[bot]\nadmins = [42]\n[jobs]\nquiet_start = {start:%H:%M:%S}\nquiet_end = {end:%H:%M:%S}\n" + CONFIG,
        encoding="utf-8",
    )
    assert main(["--config", str(config_file), "jobs", "run", "admin_report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Đã chạy “báo cáo tiến độ”: xếp 1 tin nhắn vào hàng chờ gửi; 0 tin đã có từ lần chạy trước")
    release = (now + timedelta(hours=2)).replace(second=0)
    assert f"Đang trong giờ yên lặng: các tin nhắn này sẽ được gửi từ {release:%H:%M %d/%m/%Y}." in out
    assert "{" not in out and "'queued'" not in out


def test_an_admin_report_with_no_admin_says_so(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file), "jobs", "run", "admin_report"]) == 0
    out = capsys.readouterr().out
    assert "xếp 0 tin nhắn" in out
    assert "Chưa cấu hình quản trị viên nào (bot.admins trong bot.toml hoặc SANGKIEN_ADMINS)" in out
