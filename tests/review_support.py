"""Shared cast and helpers of the review tests: people, granting, cards, presses in a group."""

from __future__ import annotations

from typing import Any

from bot.config import UnitSeed
from tests.conftest import ADMIN_ID, CORE_ANSWERS, UNITS, Harness
from tests.fake_telegram import BOT_USER, Call, Person, TelegramDriver, button

WORKER = Person(501, first_name="Lan")
REVIEWER = Person(601, first_name="Hùng", username="hung_cd")
SECOND = Person(602, first_name="Minh", username="minh_cd")
THIRD = Person(603, first_name="Hoa", username="hoa_cd")
UPPER = Person(701, first_name="Dũng", username="dung_kcn")
OUTSIDER = Person(801, first_name="Tú", username="tu_out")
ADMIN = Person(ADMIN_ID, first_name="Admin")

NAMES = {
    WORKER.id: "Nguyễn Thị Lan",
    REVIEWER.id: "Trần Văn Hùng",
    SECOND.id: "Lê Văn Minh",
    THIRD.id: "Phạm Thị Hoa",
    UPPER.id: "Đỗ Văn Dũng",
    OUTSIDER.id: "Vũ Văn Tú",
    ADMIN_ID: "Quản Trị Viên",
}
GROUP_ID = -100500
GROUP = {"id": GROUP_ID, "type": "supergroup", "title": "Hội đồng sáng kiến May 10"}


def units_with(code: str, **changes: Any) -> list[UnitSeed]:
    """The test hierarchy with one unit changed (e.g. council mode, a review group)."""
    return [u.model_copy(update=changes) if u.code == code else u for u in UNITS]


def sent_to(calls: list[Call], person: Person | int, method: str = "sendMessage") -> list[Call]:
    """The calls of `method` the bot made to one chat (a person's private chat or a group)."""
    chat = person if isinstance(person, int) else person.id
    return [c for c in calls if c.method == method and int(c.params.get("chat_id", 0)) == chat]


def cards(calls: list[Call], person: Person | int) -> list[Call]:
    """The review cards (messages with review buttons) sent to one chat."""
    return [c for c in sent_to(calls, person) if any(":rv:" in d for _, d in c.buttons)]


def edits(calls: list[Call]) -> list[Call]:
    """Messages edited in place."""
    return [c for c in calls if c.method == "editMessageText"]


def alert(calls: list[Call]) -> dict[str, Any]:
    """The parameters of the one answerCallbackQuery call."""
    answers = [c.params for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1, answers
    return answers[0]


async def enroll(
    tg: TelegramDriver,
    person: Person,
    *,
    unit_query: str = "may 10",
    phone: str = "0912 345 678",
    english: bool = False,
    name: str | None = None,
) -> list[Call]:
    """Register `person` (name from NAMES by default) with a phone number and unit of choice."""
    calls = await tg.text(person, "/start")
    calls = await tg.press(person, button(calls, "English" if english else "Tiếng Việt"))
    calls = await tg.press(person, button(calls, "✅"))
    await tg.text(person, name or NAMES[person.id])
    await tg.text(person, phone)
    calls = await tg.text(person, unit_query)
    return await tg.press(person, calls[-1].buttons[0][1])


async def enroll_admin(tg: TelegramDriver) -> None:
    """Register the admin (in another unit) once per bot."""
    if not getattr(tg, "admin_enrolled", False):
        await enroll(tg, ADMIN, unit_query="dien co", phone="0900 000 900")
        setattr(tg, "admin_enrolled", True)  # noqa: B010


async def grant(tg: TelegramDriver, person: Person, unit_label: str = "May 10", **enrol: Any) -> list[Call]:
    """Register `person` (and the admin, the first time) and grant reviewer rights on a unit."""
    if not enrol.pop("registered", False):
        await enroll(tg, person, **enrol)
    await enroll_admin(tg)
    calls = await tg.text(ADMIN, f"/grant @{person.username}")
    return await tg.press(ADMIN, button(calls, unit_label))


async def submit_as(
    tg: TelegramDriver,
    person: Person,
    title: str = "Máy cắt vải tự động",
    *,
    english: bool = False,
    category: int = 2,
) -> list[Call]:
    """Submit the core fields (Vietnamese or English buttons; category by its button index,
    2 = productivity); return the receipt calls."""
    calls = await tg.text(person, "/new")
    calls = await tg.text(person, title)
    calls = await tg.press(person, calls[-1].buttons[category][1])
    calls = await tg.press(person, calls[-1].buttons[0][1])  # technical solution
    for answer in CORE_ANSWERS[3:]:
        assert answer is not None
        calls = await tg.text(person, answer)
    for _ in range(3):
        calls = await tg.press(person, button(calls, "Skip" if english else "Bỏ qua"))
    calls = await tg.press(person, button(calls, "Done" if english else "Xong"))
    calls = await tg.press(person, button(calls, "Submit" if english else "Gửi sáng kiến"))
    anyway = "Submit anyway" if english else "Vẫn gửi"
    if any(anyway in label for call in calls for label, _ in call.buttons):
        calls = await tg.press(person, button(calls, anyway))
    return calls


async def initiative(harness: Harness, *columns: str, code: str = "SK-2026-000001") -> Any:
    """Columns of one submitted initiative (a single value when one column is asked)."""
    rows = await harness.query(f"select {', '.join(columns)} from initiative where code = :code", code=code)
    assert len(rows) == 1, rows
    return rows[0][0] if len(columns) == 1 else rows[0]


async def audit(harness: Harness) -> list[tuple[Any, ...]]:
    """(action, from, to, actor name) of every review_action row after the submission's own, in order."""
    return await harness.query(
        "select a.action, a.from_status, a.to_status, u.full_name from review_action a"
        " left join app_user u on u.id = a.actor_id where a.action <> 'submit' order by a.id"
    )


async def press_in_group(
    tg: TelegramDriver, person: Person, data: str, chat: dict[str, Any] | None = None
) -> list[Call]:
    """The person presses a button on a message of the review group."""
    message = {
        "message_id": 77,
        "date": 1764000000,
        "from": BOT_USER,
        "chat": chat or GROUP,
        "text": "…",
    }
    query = {
        "id": str(next(tg.update_ids) * 7),
        "from": person.as_dict(),
        "chat_instance": "group",
        "data": data,
        "message": message,
    }
    return await tg.deliver({"update_id": next(tg.update_ids), "callback_query": query})


async def text_in_group(tg: TelegramDriver, person: Person, text: str) -> list[Call]:
    """The person writes in the review group."""
    return await tg.text(person, text, chat=GROUP)
