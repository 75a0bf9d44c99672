"""The card comes with the initiative's files: photos as an album, documents as files."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from bot.config import Config
from tests.conftest import Harness, answer_until
from tests.fake_telegram import Call, Person, TelegramDriver, button, texts
from tests.review_support import (
    GROUP_ID,
    REVIEWER,
    WORKER,
    cards,
    enroll,
    grant,
    sent_to,
    units_with,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10 also has a review group."""
    return config.model_copy(update={"units": units_with("MAY10", review_chat=f"telegram:{GROUP_ID}")})


async def submit_with(tg: TelegramDriver, person: Person, photos: int, documents: int) -> list[Call]:
    """Submit an initiative with some photos and PDF documents; return the receipt calls."""
    calls = await answer_until(tg, person, "attachments")
    for index in range(photos):
        calls = await tg.photo(person, f"anh{index}")
    for index in range(documents):
        calls = await tg.document(person, f"doc{index}", name=f"ban-ve-{index}.pdf")
    calls = await tg.press(person, button(calls, "Xong"))
    return await tg.press(person, button(calls, "Gửi sáng kiến"))


def media_of(call: Call) -> list[dict[str, Any]]:
    """The media list of a sendMediaGroup call."""
    media = call.params["media"]
    return json.loads(media) if isinstance(media, str) else list(media)


def to_chat(calls: list[Call], chat: int) -> list[str]:
    """Methods of the calls to one chat, in order."""
    return [c.method for c in calls if int(c.params.get("chat_id", 0)) == chat]


async def test_photos_come_as_an_album_and_documents_as_files_after_the_card(
    tg: TelegramDriver,
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await submit_with(tg, WORKER, photos=2, documents=1)
    card = cards(calls, REVIEWER)
    assert len(card) == 1 and "<b>Tệp đính kèm:</b> 3" in card[0].text
    assert to_chat(calls, REVIEWER.id) == ["sendMessage", "sendMediaGroup", "sendDocument"]
    album = sent_to(calls, REVIEWER, "sendMediaGroup")[0]
    assert [(m["type"], m["media"]) for m in media_of(album)] == [
        ("photo", "anh0-id"),
        ("photo", "anh1-id"),
    ]
    assert sent_to(calls, REVIEWER, "sendDocument")[0].params["document"] == "doc0-id"
    assert to_chat(calls, GROUP_ID) == ["sendMessage", "sendMediaGroup", "sendDocument"]


async def test_a_single_photo_is_sent_as_a_photo_and_several_documents_one_by_one(
    tg: TelegramDriver,
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await submit_with(tg, WORKER, photos=1, documents=2)
    assert to_chat(calls, REVIEWER.id) == [
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendDocument",
    ]
    assert sent_to(calls, REVIEWER, "sendPhoto")[0].params["photo"] == "anh0-id"
    documents = [c.params["document"] for c in sent_to(calls, REVIEWER, "sendDocument")]
    assert documents == ["doc0-id", "doc1-id"]


async def test_the_card_opened_by_code_does_not_send_the_files_again(tg: TelegramDriver) -> None:
    """The files came with the card at submission; /review (or /pending) shows the card only."""
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    await submit_with(tg, WORKER, photos=3, documents=1)
    calls = await tg.text(REVIEWER, "/review SK-2026-000001")
    assert "<b>Tệp đính kèm:</b> 4" in texts(calls)[0]
    assert [c.method for c in calls] == ["sendMessage", "editMessageReplyMarkup"]  # the older card's buttons go


async def test_a_card_without_files_sends_only_the_card(tg: TelegramDriver) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await submit_with(tg, WORKER, photos=0, documents=0)
    assert to_chat(calls, REVIEWER.id) == ["sendMessage"]


async def test_captions_reach_the_reviewer_on_the_card_and_under_each_file(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await answer_until(tg, WORKER, "attachments")
    await tg.photo(WORKER, "anh0", caption="Máy cắt trước khi cải tiến")
    await tg.photo(WORKER, "anh1")
    calls = await tg.document(WORKER, "doc0", caption="Bản vẽ <b>bàn trượt</b>")
    calls = await tg.press(WORKER, button(calls, "Xong"))
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    card = cards(calls, REVIEWER)[0].text
    assert (
        "<b>Tệp đính kèm:</b> 3\n• Ảnh 1: “Máy cắt trước khi cải tiến”\n"
        "• Tệp 3: “Bản vẽ &lt;b&gt;bàn trượt&lt;/b&gt;”\n"
    ) in card
    album = sent_to(calls, REVIEWER, "sendMediaGroup")[0]
    assert [m.get("caption") for m in media_of(album)] == ["Máy cắt trước khi cải tiến", None]
    assert sent_to(calls, REVIEWER, "sendDocument")[0].params["caption"] == "Bản vẽ <b>bàn trượt</b>"
    stored = await harness.query("select file_unique_id, caption from attachment order by id")
    assert stored == [("anh0", "Máy cắt trước khi cải tiến"), ("anh1", None), ("doc0", "Bản vẽ <b>bàn trượt</b>")]


async def test_a_lone_photo_keeps_its_caption(tg: TelegramDriver) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    calls = await answer_until(tg, WORKER, "attachments")
    calls = await tg.photo(WORKER, "anh0", caption="Sau <cải tiến>")
    calls = await tg.press(WORKER, button(calls, "Xong"))
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    photo = sent_to(calls, REVIEWER, "sendPhoto")[0]
    caption = photo.params["caption"]
    shown = html.unescape(caption) if photo.params.get("parse_mode") == "HTML" else caption
    assert shown == "Sau <cải tiến>"
