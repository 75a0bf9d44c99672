"""The console channel end to end: typed lines in, numbered buttons and plain text out."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.app import run_console
from bot.config import Config
from bot.i18n import format_date
from bot.submission import add_months
from storage.engine import Database
from storage.store import SqlStore

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

REGISTRATION = [
    "/start",
    "1",  # Tiếng Việt
    "1",  # Đồng ý
    "Nguyễn Thị Lan",
    "0912 345 678",
    "cong ty may",
    "1",  # Công đoàn Công ty May 10
]
SUBMISSION = [
    "/new",
    "Máy cắt vải tự động",
    "3",  # Tăng năng suất lao động
    "1",  # Giải pháp kỹ thuật
    "Cắt thủ công, chậm và lệch đường may",
    "Gắn cảm biến quang và bàn trượt",
    "Năng suất tăng 20 %",
    "50 triệu",
    "01/02/2026",
    "2",  # Bỏ qua: co-authors
    "2",  # Bỏ qua: conditions
    "2",  # Bỏ qua: confidential
    "1",  # Xong: attachments
    "1",  # Gửi sáng kiến
]
TAG = re.compile(r"</?(?:b|i|u|s|a|code|pre|tg-spoiler)\b[^>]*>")


async def console(config: Config, *lines: str, person: str = "tester") -> str:
    """Run one console session fed `lines`; return everything it printed."""
    stdout = io.StringIO()
    await run_console(config, person, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
    return stdout.getvalue()


async def query(config: Config, sql: str) -> list[tuple[object, ...]]:
    """Read the database the console wrote, as an auditor would."""
    store = SqlStore(Database(config.database.url))
    try:
        async with store.transaction() as tx:
            return [tuple(row) for row in (await tx.conn.execute(text(sql))).all()]
    finally:
        await store.close()


def today() -> datetime:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))


async def test_a_worker_registers_and_submits_in_the_console(config: Config) -> None:
    out = await console(config, *REGISTRATION, *SUBMISSION)
    year = today().year
    receipt = out[out.index("Biên nhận sáng kiến") :]
    assert f"SK-{year}-000001" in receipt
    assert "Máy cắt vải tự động" in receipt
    assert format_date(add_months(today().date(), 3)) in receipt
    assert "Đăng ký xong! Chào Nguyễn Thị Lan, đơn vị: Công đoàn Công ty May 10." in out
    assert "Giá trị làm lợi: 50.000.000 đ" in out
    assert TAG.search(out) is None
    assert "&lt;" not in out and "&amp;" not in out
    assert await rows_of(config) == (
        [("Nguyễn Thị Lan", "+84912345678", "MAY10", "done")],
        [(f"SK-{year}-000001", "submitted", 50_000_000, "2026-02-01", "productivity")],
    )


async def rows_of(config: Config) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    users = await query(
        config,
        "select u.full_name, u.phone, unit.code, u.reg_step from app_user u"
        " join unit on unit.id = u.unit_id where u.channel = 'console'",
    )
    items = await query(
        config, "select code, status, benefit_vnd, cast(applied_since as varchar(10)), category from initiative"
    )
    return users, items


async def test_buttons_are_shown_as_numbered_choices_and_picked_by_number(
    config: Config,
) -> None:
    out = await console(config, "/start", "2", "9", "1")
    assert "  [1] ✅ Tiếng Việt\n  [2] English\n" in out
    assert out.count("  [1] ✅ I agree\n  [2] I do not agree\n") == 2
    assert "Please choose one of the options below" in out  # 9 is not a shown choice
    assert out.rstrip().endswith("What is your full name? (for example: Nguyễn Thị Lan)\n>")
    assert await query(config, "select locale, reg_step from app_user") == [("en", "name")]


async def test_state_survives_between_console_sessions(config: Config) -> None:
    await console(config, *REGISTRATION, *SUBMISSION[:5])
    middle = await console(config, "/new", "1", "Gắn cảm biến quang và bàn trượt")
    assert "(“Máy cắt vải tự động”, đang ở bước 5/12)" in middle
    assert "Bước 6/12" in middle
    await console(config, *SUBMISSION[6:9])
    # a new session shows no buttons until asked: /new offers [1] continue
    finish = await console(config, "/new", "1", "2", "2", "2", "1", "1")
    assert "Biên nhận sáng kiến" in finish
    listing = await console(config, "/my")
    code = f"SK-{today().year}-000001"
    assert f"[1] {code} · Máy cắt vải tự động · Đã gửi" in listing
    assert await query(config, "select count(*) from initiative") == [(1,)]


async def test_user_text_is_printed_verbatim_without_markup(config: Config) -> None:
    title = "Dao <cắt> & kéo <b>mới</b> &amp; {code}"
    await console(config, *REGISTRATION, "/new", title)
    out = await console(config, "/new")
    assert f"(“{title}”, đang ở bước 2/12)" in out
    assert await query(config, "select title from initiative") == [(title,)]


async def test_each_console_user_is_a_separate_person(config: Config) -> None:
    await console(config, *REGISTRATION, *SUBMISSION)
    other = await console(config, "/my", person="someone-else")
    assert "SK-" not in other
    assert "Bạn hãy hoàn tất đăng ký trước (gõ /start)." in other
    assert await query(config, "select external_id, reg_step from app_user order by id") == [
        ("tester", "done"),
        ("someone-else", "language"),
    ]


async def test_co_authors_are_typed_on_one_line_separated_by_semicolons(config: Config) -> None:
    core = SUBMISSION[: SUBMISSION.index("01/02/2026") + 1]
    out = await console(config, *REGISTRATION, *core, "50; Nguyễn Văn Bình – 30; Trần Thị Cúc – 20")
    assert "Cần điều kiện gì để áp dụng" in out.rsplit(">", 2)[-2]
    assert await query(config, "select name, percent from coauthor order by id") == [
        ("Nguyễn Văn Bình", 30),
        ("Trần Thị Cúc", 20),
    ]
    assert await query(config, "select step, author_percent from initiative") == [("conditions", 50)]


async def test_a_file_that_cannot_be_read_is_reported_and_the_step_stays(config: Config) -> None:
    out = await console(config, *REGISTRATION, "/new", "Máy cắt", "3", "1", ":photo /nonexistent/anh.jpg")
    assert "Không đọc được tệp “/nonexistent/anh.jpg”" in out
    assert await query(config, "select step, problem from initiative") == [("problem", None)]
    assert await query(config, "select count(*) from attachment") == [(0,)]


async def test_a_file_sent_with_a_caption_keeps_it(config: Config, tmp_path: Path) -> None:
    photo = tmp_path / "truoc.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    attach = len(SUBMISSION) - 2  # at the attachments step, before "Xong"
    lines = [*SUBMISSION[:attach], f":photo {photo} | Máy cắt trước khi cải tiến", *SUBMISSION[attach:]]
    out = await console(config, *REGISTRATION, *lines)
    assert "Tệp đính kèm: 1\n• Ảnh 1: “Máy cắt trước khi cải tiến”" in out
    assert await query(config, "select file_name, caption from attachment") == [
        ("truoc.jpg", "Máy cắt trước khi cải tiến")
    ]
