"""Bad input gets a clear answer in the person's language, and the draft stays where it was."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from storage.store import SqlTx
from tests.conftest import FLOW_ANSWERS, FakeClock, Harness, answer_until, draft_row, register
from tests.fake_telegram import Call, Person, TelegramDriver, button, in_order, messages, one_message, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

LAN = Person(501)
JOHN = Person(502, first_name="John", language_code="en")
GROUP = {"id": -1001234567, "type": "group", "title": "Tổ may 3"}
SENT = ("sendMessage", "editMessageText")


@pytest.fixture
async def lan(tg: TelegramDriver) -> Person:
    """A registered worker who speaks Vietnamese."""
    await register(tg, LAN)
    return LAN


async def snapshot(harness: Harness) -> list[tuple[Any, ...]]:
    """Every initiative row with its children, to prove nothing changed."""
    return [
        *await harness.query("select * from initiative order by id"),
        *await harness.query("select initiative_id, name, percent from coauthor order by id"),
        *await harness.query("select initiative_id, file_id from attachment order by id"),
    ]


async def refused_in_place(
    harness: Harness, calls: list[Call], expected: str, step: str, before: list[Any], asked: list[Call]
) -> Call:
    """One message names the problem and then, after a blank line, asks the question of `asked`
    again with its buttons; nothing was stored. Return that message."""
    question = messages(asked)[-1]
    message = one_message(calls)
    error, _, again = message.text.partition("\n\n")
    assert expected in error, message.text
    assert again and question.text.endswith(again), (message.text, question.text)
    assert message.buttons == question.buttons
    assert await draft_row(harness, "step") == (step,)
    assert await snapshot(harness) == before
    return message


def long_text(length: int) -> str:
    """A realistic answer of exactly `length` characters."""
    return ("Cải tiến dây chuyền " * (length // 20 + 1))[:length]


Send = Callable[[TelegramDriver, Person], Awaitable[list[Call]]]


def typed(text: str) -> Send:
    """The person types `text`."""
    return lambda tg, person: tg.text(person, text)


# (step the draft waits at, what the person sends, part of the answer they get)
BAD_ANSWERS: list[tuple[str, Send, str]] = [
    ("title", typed(""), "Câu trả lời đang trống"),
    ("title", typed("   \n\t  "), "Câu trả lời đang trống"),
    ("problem", typed("  "), "Câu trả lời đang trống"),
    ("title", typed(long_text(201)), "dài 201 ký tự, tối đa là 200"),
    ("problem", typed(long_text(4001)), "dài 4.001 ký tự, tối đa là 4.000"),
    ("problem", lambda tg, p: tg.sticker(p), "cần câu trả lời bằng chữ"),
    ("problem", lambda tg, p: tg.voice(p), "cần câu trả lời bằng chữ"),
    ("problem", lambda tg, p: tg.location(p), "cần câu trả lời bằng chữ"),
    ("title", lambda tg, p: tg.photo(p, "ph1"), "cần câu trả lời bằng chữ"),
    ("attachments", typed("ảnh đây"), "hãy gửi ảnh hoặc tệp tài liệu"),
    ("attachments", lambda tg, p: tg.sticker(p), "hãy gửi ảnh hoặc tệp tài liệu"),
    ("category", typed("bánh mì"), "chọn một trong các lựa chọn"),
    ("benefit_vnd", typed("nhiều lắm"), "Hãy gõ theo mẫu: “50 triệu”, “1,5 tỷ”"),
    ("benefit_vnd", typed("50 triệu 3 tỷ abc"), "Chưa đọc được số tiền"),
    ("applied_since", typed("hôm qua"), "ví dụ 15/03/2026"),
    ("applied_since", typed("31/02/2026"), "Không có ngày 31/2/2026: tháng 2/2026 chỉ có 28 ngày"),
    ("applied_since", typed("01/12/2026"), "không thể là một ngày trong tương lai"),
    ("coauthors", typed("50\nNguyễn Văn Bình – 30"), "đang là 80%, phải đúng 100%"),
    ("coauthors", typed("60\nBình – 30\nCúc – 20"), "đang là 110%"),
    ("coauthors", typed("một mình tôi"), "Chưa đọc được danh sách"),
    ("coauthors", typed("Nguyễn Văn Bình – 50\nTrần Thị Cúc – 50"), "Dòng đầu là % của bạn (chỉ ghi số)"),
    ("coauthors", typed("50\nNguyễn Văn Bình – 12.50"), "bằng số nguyên"),
    ("coauthors", typed("50\nBình – 25\nBình – 25"), "“Bình” có hai lần trong danh sách"),
    ("coauthors", typed(f"50\n{'Nguyễn Văn Bình ' * 20}– 50"), "dài 319 ký tự, tối đa là 100"),
    ("coauthors", typed("50\n😀😀 – 50"), "“😀😀” không phải là một họ tên"),
    ("coauthors", typed("50; 123 – 50"), "“123” không phải là một họ tên"),
    ("coauthors", typed("50\n<b>x</b> – 50"), "“&lt;b&gt;x&lt;/b&gt;” không phải là một họ tên"),
    ("coauthors", typed("50\nBình – 25\nTôi – 25"), "“Tôi” là bạn: % của bạn ghi ở dòng đầu"),
    ("coauthors", typed("60"), "đang là 60%, phải đúng 100%"),
    ("benefit_vnd", typed("-5 triệu"), "phải lớn hơn 0"),
    ("benefit_vnd", typed("5.000.000.000.000.000"), "tối đa 1 triệu tỷ đồng"),
    ("applied_since", typed("01/01/1899"), "từ năm 1950 trở về sau"),
    ("title", typed("\u200b\u200b"), "Câu trả lời đang trống"),
    ("title", typed("/foo"), "Bot không hiểu lệnh /foo"),
    ("solution", typed("/foo bar"), "Bot không hiểu lệnh /foo"),
]


@pytest.mark.parametrize(("step", "send", "expected"), BAD_ANSWERS)
async def test_bad_answer_is_explained_and_draft_stays_at_its_step(
    tg: TelegramDriver, harness: Harness, lan: Person, step: str, send: Send, expected: str
) -> None:
    asked = await answer_until(tg, lan, step)
    before = await snapshot(harness)
    calls = await send(tg, lan)
    message = await refused_in_place(harness, calls, expected, step, before, asked)
    in_order(message.text, expected, "\n\nBước ", "/12")  # the same question again, "Bước n/12"
    if step not in ("title", "category"):
        assert await draft_row(harness, "title") == (FLOW_ANSWERS["title"],)


async def test_a_hundred_percent_alone_means_no_co_authors(tg: TelegramDriver, harness: Harness, lan: Person) -> None:
    await answer_until(tg, lan, "coauthors")
    calls = await tg.text(lan, "100")
    assert "Cần <b>điều kiện</b> gì để áp dụng" in one_message(calls).text
    assert await draft_row(harness, "author_percent", "step") == (100, "conditions")
    assert await harness.query("select name from coauthor") == []


async def test_bad_answers_are_explained_in_english_to_an_english_speaker(tg: TelegramDriver, harness: Harness) -> None:
    await register(tg, JOHN, lang="English")
    labels = {"category": "Labour productivity", "kind": "Technical solution"}
    asked = await answer_until(tg, JOHN, "benefit_vnd", **labels)
    before = await snapshot(harness)
    calls = await tg.text(JOHN, "lots")
    await refused_in_place(harness, calls, "I could not read that amount", "benefit_vnd", before, asked)
    calls = await tg.text(JOHN, "   ")
    await refused_in_place(harness, calls, "The answer is empty", "benefit_vnd", before, asked)
    calls = await tg.sticker(JOHN)
    await refused_in_place(harness, calls, "This step needs a text answer", "benefit_vnd", before, asked)


async def test_markup_in_a_title_is_escaped_in_the_summary_and_stored_verbatim(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    title = "<b>x</b> & *y*_"
    calls = await answer_until(tg, lan, "summary", title=title)
    summary = [c for c in calls if c.method == "sendMessage"][-1]
    assert summary.params["parse_mode"] == "HTML"
    assert "&lt;b&gt;x&lt;/b&gt; &amp; *y*_" in summary.text
    assert "<b>x</b>" not in summary.text
    assert await draft_row(harness, "title") == (title,)


async def test_group_chat_gets_one_notice_then_silence_and_no_user(tg: TelegramDriver, harness: Harness) -> None:
    calls = await tg.text(LAN, "/start", chat=GROUP)
    sent = [c for c in calls if c.method in SENT]
    assert len(sent) == 1
    assert sent[0].params["chat_id"] == GROUP["id"]
    assert "chỉ trả lời trong tin nhắn riêng" in sent[0].text
    keyboard = sent[0].keyboard["inline_keyboard"]  # one tap opens the private chat
    assert keyboard == [[{"text": "💬 Nhắn riêng cho bot", "url": "https://t.me/sangkien_test_bot"}]]
    for later in ("/new", "Xin chào", "/help"):
        assert [c for c in await tg.text(LAN, later, chat=GROUP) if c.method in SENT] == []
    where = {"latitude": 21.0, "longitude": 105.8}
    located = await tg.deliver(tg._message(LAN, GROUP, location=where))
    assert [c for c in located if c.method in SENT] == []
    assert await harness.query("select count(*) from app_user") == [(0,)]


async def test_the_same_update_delivered_twice_is_processed_once(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "problem")
    raw = tg._message(lan, text="Cắt thủ công")
    first = await tg.deliver(raw)
    version = await draft_row(harness, "version")
    again = await tg.deliver(raw)
    assert len(texts(first)) == 1
    assert again == []
    assert await draft_row(harness, "step", "problem", "solution") == (
        "solution",
        "Cắt thủ công",
        None,
    )
    assert await draft_row(harness, "version") == version


async def test_a_button_press_delivered_twice_is_processed_once(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    calls = await answer_until(tg, lan, "solution")
    data = button(calls, "Quay lại")
    raw = {
        "update_id": 999,
        "callback_query": {
            "id": "q999",
            "from": lan.as_dict(),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1764000000,
                "chat": {"id": lan.id, "type": "private"},
                "text": "…",
            },
        },
    }
    assert texts(await tg.deliver(raw))
    assert texts(await tg.deliver(raw)) == []
    assert await draft_row(harness, "step") == ("problem",)


async def forged(tg: TelegramDriver, harness: Harness, lan: Person, kind: str) -> str:
    """Callback data of the `kind` of forgery, with the draft waiting at the summary."""
    calls = await answer_until(tg, lan, "summary")
    (draft_id,) = await draft_row(harness, "id")
    if kind == "stale_submit":
        stale = button(calls, "Gửi sáng kiến")
        calls = await tg.press(lan, button(calls, "Sửa một mục"))
        calls = await tg.press(lan, button(calls, "Tên"))
        await tg.text(lan, "Tên mới")
        return stale
    if kind == "other_persons_draft":
        binh = Person(777, first_name="Bình")
        await register(tg, binh)
        await answer_until(tg, binh, "problem")
        (other,) = await harness.query("select id from initiative where status='draft' and id != :i", i=draft_id)
        return f"v1:cancelok:{other[0]}"
    return {
        "garbage": "\x00garbage;drop table initiative",
        "other_version": f"v2:submit:{draft_id}:1",
        "bad_argument": f"v1:submit:{draft_id}:<b>",
        "too_many_args": f"v1:cancelok:{draft_id}:1",
        "unknown_action": f"v1:approve:{draft_id}",
        "wrong_step": f"v1:cat:{draft_id}:0",
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "other_version",
        "bad_argument",
        "too_many_args",
        "unknown_action",
        "wrong_step",
        "other_persons_draft",
        "stale_submit",
    ],
)
async def test_forged_or_stale_button_is_refused_and_changes_nothing(
    tg: TelegramDriver, harness: Harness, lan: Person, kind: str
) -> None:
    data = await forged(tg, harness, lan, kind)
    before = await snapshot(harness)
    calls = await tg.press(lan, data)
    assert "Nút này đã hết hiệu lực" in texts(calls)[0]
    assert await snapshot(harness) == before
    assert await harness.query("select count(*) from domain_event") == [(0,)]
    assert await harness.query("select count(*) from initiative where code is not null") == [(0,)]


@pytest.mark.parametrize("restarted", [False, True], ids=["ids-grow", "ids-started-over"])
async def test_old_update_ids_are_forgotten_chunk_by_chunk_and_recent_ones_still_refuse_repeats(
    tg: TelegramDriver, harness: Harness, clock: FakeClock, lan: Person, restarted: bool
) -> None:
    """Ids older than the window go, a few per transaction; a repeat of a recent update is still
    refused. After a quiet week Telegram may start its ids over, on ids the bot still keeps: those
    updates are answered, not taken for repeats."""
    for _ in range(5):
        await tg.text(lan, "/help")
    kept = [seq for (seq,) in await harness.query("select seq from processed_update order by seq")]
    assert len(kept) >= 7
    clock.now += timedelta(days=8)
    if restarted:
        tg.update_ids = itertools.count(kept[2])  # lands on ids handled 8 days ago
    recent = [tg._message(lan, text="/help") for _ in range(3)]
    for update in recent:
        assert "/new" in texts(await tg.deliver(update))[0]
    assert harness.runtime is not None
    taken_over = {u["update_id"] for u in recent}
    assert await harness.runtime.conversation.prune_updates(chunk=2) == len(set(kept) - taken_over)
    assert await harness.query("select seq from processed_update order by seq") == [(u["update_id"],) for u in recent]
    for update in recent:
        assert await tg.deliver(update) == []


async def test_on_postgresql_an_old_id_is_taken_over_and_the_prune_walks_the_key() -> None:
    """The PostgreSQL statements: the claim takes over a row older than the window (ids started
    over), the prune pages through (channel, seq); update ids past 2^31 are bound as BIGINT."""

    class Capture:
        def __init__(self) -> None:
            self.statements: list[Any] = []

        async def execute(self, statement: Any, parameters: Any = None) -> Any:
            self.statements.append(statement)
            return SimpleNamespace(rowcount=1, all=lambda: [])

    conn = Capture()
    tx = SqlTx(conn, "postgresql")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert await tx.claim_update("telegram", 3_000_000_000, now=now, seen_after=now - timedelta(days=7))
    assert await tx.prune_updates(before=now, after=("telegram", 3_000_000_000), scan=10) == (0, None)
    claim, page = (" ".join(str(s.compile(dialect=postgresql.dialect())).split()) for s in conn.statements)
    assert "ON CONFLICT (channel, seq) DO UPDATE" in claim and "%(seq)s::BIGINT" in claim, claim
    assert "WHERE processed_update.created_at < %(seen_after)s" in claim, claim
    assert "(processed_update.channel, processed_update.seq) > (" in page and "::BIGINT)" in page, page


async def test_a_forged_summary_button_cannot_skip_the_questions_still_to_answer(
    tg: TelegramDriver, harness: Harness, lan: Person
) -> None:
    await answer_until(tg, lan, "benefit_vnd")
    (draft_id,) = await draft_row(harness, "id")
    before = await snapshot(harness)
    calls = await tg.press(lan, f"v1:summary:{draft_id}")
    assert "Nút này đã hết hiệu lực" in texts(calls)[0]
    assert "Giá trị làm lợi" in texts(calls)[-1]  # asked again
    assert await snapshot(harness) == before
    assert await draft_row(harness, "step") == ("benefit_vnd",)
