"""Issue 12's whole path, word for word in Vietnamese: a council of three (MAY10, quorum 2, with its
review group) recognises an initiative with scores despite one dissent, votes to forward it, the
upper unit recognises it again (the council hears of it) and marks it applied from the author's
date. Every message to every person (the author, each member, the group, the upper reviewer) is
asserted in full; nobody else hears."""

from __future__ import annotations

import pytest

from bot.config import Config
from tests.conftest import Harness
from tests.fake_telegram import Call, Person, TelegramDriver, button
from tests.review_support import (
    GROUP_ID,
    REVIEWER,
    SECOND,
    THIRD,
    UPPER,
    WORKER,
    audit,
    enroll,
    grant,
    initiative,
    sent_to,
    submit_as,
    units_with,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

CHATS = {WORKER.id: "Lan", REVIEWER.id: "Hùng", SECOND.id: "Minh", THIRD.id: "Hoa", GROUP_ID: "nhóm", UPPER.id: "Dũng"}
SK = "<b>SK-2026-000001</b> “Máy cắt vải tự động”"
COUNCIL = "Hội đồng sáng kiến Công đoàn Công ty May 10"
KCN = "Công đoàn các Khu công nghiệp Hà Nội"
BODY = """<b>Máy cắt vải tự động</b>
<b>Tác giả:</b> Nguyễn Thị Lan (100%){phone} · Công đoàn Công ty May 10
<b>Đồng tác giả:</b>
(không có)
<b>Lĩnh vực:</b> Tăng năng suất lao động · <b>Loại:</b> Giải pháp kỹ thuật
<b>Hiện trạng / vấn đề:</b> Cắt thủ công, chậm và lệch đường may
<b>Giải pháp:</b> Gắn cảm biến quang và bàn trượt
<b>Hiệu quả:</b> Năng suất tăng 20 %
<b>Giá trị làm lợi:</b> 50.000.000 đ
<b>Áp dụng từ:</b> 01/02/2026
<b>Điều kiện áp dụng:</b> (không có)
<b>Tệp đính kèm:</b> 0
<b>Hạn trả lời:</b> 25/02/2027 (còn 92 ngày)"""
VOTES = "\n🗳 <b>Phiếu của Hội đồng</b> (cần ít nhất 2 phiếu; thông qua khi đạt từ 2/3 số phiếu):\n"
AT_MAY10 = "cấp cơ sở (Công đoàn Công ty May 10)"
AT_KCN = f"cấp trên trực tiếp ({KCN})"
TALLY = "2/3 phiếu tán thành"
RECOGNISED_BELOW = f"\n🏅 Đã được công nhận ở cấp cơ sở ngày 25/11/2026 ({COUNCIL} — {TALLY})"
RECOGNISED_ABOVE = "\n🏅 Đã được công nhận ở cấp trên trực tiếp ngày 25/11/2026 (Đỗ Văn Dũng)"
# the council's scores: per criterion, the mean of Hùng's 4 5 3 and Minh's 5 4 4 (Hoa dissented)
MEANS = (
    "tính mới 4,5/5, khả năng áp dụng 4,5/5, hiệu quả 3,5/5"
    " (trung bình của 2 phiếu tán thành có chấm điểm, làm tròn đến 0,1)"
)
SCORED = f"\n⭐ <b>Điểm của Hội đồng:</b> {MEANS}"


def card(status: str, where: str, tail: str, *, phone: bool = True) -> str:
    """A review card: the status and reviewing level, the fixed fields, then what follows the deadline."""
    body = BODY.format(phone=" · ☎ +84912345678" if phone else "")
    return f"📋 <b>SK-2026-000001</b> · {status} · {where}\n{body}{tail}"


def heard(calls: list[Call]) -> dict[str, list[str]]:
    """What each person (or the group) was sent or shown, in order: a new message as its text, a
    message changed in place as "[sửa #id] text", one that lost its buttons as "[bỏ nút #id]";
    anyone else fails the test."""
    out: dict[str, list[str]] = {}
    for call in calls:
        if call.method == "sendMessage":
            seen = call.text
        elif call.method == "editMessageText":
            seen = f"[sửa #{call.message_id}] {call.text}"
        elif call.method == "editMessageReplyMarkup":
            seen = f"[bỏ nút #{call.message_id}]" if not call.buttons else f"[nút #{call.message_id}] {call.buttons}"
        else:
            continue
        out.setdefault(CHATS[int(call.params["chat_id"])], []).append(seen)
    return out


async def press_on(tg: TelegramDriver, person: Person, message: Call, label: str) -> list[Call]:
    """The person presses the button labelled with `label` on that message."""
    return await tg.press(person, button([message], label), message_id=message.message_id)


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10 decides as a council with a quorum of two, in the group -100500."""
    units = units_with("MAY10", review_mode="council", quorum=2, review_chat=f"telegram:{GROUP_ID}")
    return config.model_copy(update={"units": units})


async def test_council_forward_upper_approval_and_application_word_for_word(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await grant(tg, THIRD, phone="0912 000 603")
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc", phone="0912 000 701")
    await enroll(tg, WORKER)

    # Lan submits: the summary's buttons go, the receipt, a card to each member (with her phone),
    # the group's card (without)
    sent = await submit_as(tg, WORKER)
    summary = [c for c in tg.api.calls if any(label == "📨 Gửi sáng kiến" for label, _ in c.buttons)][-1]
    new_card = card("Đã gửi", AT_MAY10, f"{VOTES}(chưa có phiếu)")
    assert heard(sent) == {
        "Lan": [
            f"[bỏ nút #{summary.message_id}]",
            "<b>Biên nhận sáng kiến</b>\nMã: <b>SK-2026-000001</b>\nTên: Máy cắt vải tự động\n"
            "Lĩnh vực: Tăng năng suất lao động\nGửi lúc: 10:00 25/11/2026\n"
            "Đơn vị phải xem xét và trả lời trước ngày <b>25/02/2027</b> (trong 3 tháng kể từ ngày nhận sáng kiến)."
            " Bạn sẽ được báo ngay khi trạng thái thay đổi.",
        ],
        "Minh": [new_card],
        "Hoa": [new_card],
        "Hùng": [new_card],
        "nhóm": [card("Đã gửi", AT_MAY10, f"{VOTES}(chưa có phiếu)", phone=False)],
    }

    # every card is a message of its own: the group's is edited live, the private ones lose their buttons
    hung, minh, hoa, group = (sent_to(sent, chat)[0] for chat in (REVIEWER, SECOND, THIRD, GROUP_ID))

    # Hùng approves with scores: his vote and scores are on a new card (the old one loses its buttons),
    # and the group's card shows the tally
    asked = await press_on(tg, REVIEWER, hung, "📝 Công nhận, chấm điểm")
    assert heard(asked) == {
        "Hùng": [
            "Anh/chị chấm điểm SK-2026-000001 theo thang 1–5 cho tính mới, khả năng áp dụng và hiệu quả,"
            " rồi ghi ý kiến (không bắt buộc). Ví dụ: “4 5 3 Giải pháp tốt, nên nhân rộng”."
        ]
    }
    calls = await tg.text(REVIEWER, "4 5 3 Giải pháp tốt")
    hung_vote = "✅ Trần Văn Hùng · tính mới 4/5, khả năng áp dụng 5/5, hiệu quả 3/5"
    one_vote = f"{VOTES}{hung_vote}"
    assert heard(calls) == {
        "Hùng": [
            f"[bỏ nút #{asked[-1].message_id}]",
            "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.",
            card("Đang xét duyệt", AT_MAY10, one_vote),
            f"[bỏ nút #{hung.message_id}]",
        ],
        "nhóm": [f"[sửa #{group.message_id}] " + card("Đang xét duyệt", AT_MAY10, one_vote, phone=False)],
    }

    hung = sent_to(calls, REVIEWER)[-1]  # his card of now

    # Hoa dissents with a reason of her own: her vote comes with a new card, the old one loses its buttons
    asked = await press_on(tg, THIRD, hoa, "Không công nhận")
    assert heard(asked) == {
        "Hoa": ["Vì sao không công nhận SK-2026-000001? Anh/chị chọn một lý do dưới đây hoặc gõ lý do khác."]
    }
    calls = await tg.text(THIRD, "Phân xưởng 2 đã làm cách này từ năm 2024")
    two_votes = f"{one_vote}\n❌ Phạm Thị Hoa"
    assert heard(calls) == {
        "Hoa": [
            f"[bỏ nút #{asked[-1].message_id}]",
            "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.",
            card("Đang xét duyệt", AT_MAY10, two_votes),
            f"[bỏ nút #{hoa.message_id}]",
        ],
        "nhóm": [f"[sửa #{group.message_id}] " + card("Đang xét duyệt", AT_MAY10, two_votes, phone=False)],
    }
    hoa = sent_to(calls, THIRD)[-1]

    # Minh approves with scores: 2 of 3 votes, the council recognises it with the mean of the scores
    # given; everyone learns it, the dissent stays out, the others' cards lose their buttons and the
    # group's card shows the recognition
    result = f"🗳 {COUNCIL} đã quyết định về {SK}: <b>Đã công nhận</b> — {TALLY}.{SCORED}"
    asked = await press_on(tg, SECOND, minh, "📝 Công nhận, chấm điểm")
    recognised = await tg.text(SECOND, "5 4 4")
    decided = f"{RECOGNISED_BELOW}{SCORED}{VOTES}(chưa có phiếu)"
    assert heard(recognised) == {
        "Minh": [
            f"[bỏ nút #{asked[-1].message_id}]",
            f"Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.\n\n{result}",
            card("Đã công nhận", AT_MAY10, decided),
            f"[bỏ nút #{minh.message_id}]",
        ],
        "Lan": [
            f"🎉 Chúc mừng! Sáng kiến {SK} của bạn <b>đã được công nhận</b> (cấp cơ sở, Công đoàn Công ty May 10)."
            f"\nNgười xử lý: {COUNCIL} — {TALLY}{SCORED}\nÝ kiến: Giải pháp tốt"
        ],
        "Hoa": [f"[bỏ nút #{hoa.message_id}]", result],
        "Hùng": [f"[bỏ nút #{hung.message_id}]", result],
        "nhóm": [f"[sửa #{group.message_id}] " + card("Đã công nhận", AT_MAY10, decided, phone=False), result],
    }

    minh = sent_to(recognised, SECOND)[-1]  # the card of now, its buttons live

    # Forwarding is a vote too: Minh votes for it, then Hùng (from /review)
    calls = await press_on(tg, SECOND, minh, "Chuyển lên cấp trên")
    forward_vote = f"{RECOGNISED_BELOW}{SCORED}{VOTES}⬆️ Lê Văn Minh (đề nghị chuyển lên cấp trên)"
    assert heard(calls) == {
        "Minh": [
            "Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.",
            f"[sửa #{minh.message_id}] " + card("Đã công nhận", AT_MAY10, forward_vote),
        ],
        "nhóm": [f"[sửa #{group.message_id}] " + card("Đã công nhận", AT_MAY10, forward_vote, phone=False)],
    }
    calls = await tg.text(REVIEWER, "/review SK-2026-000001")
    assert heard(calls) == {"Hùng": [card("Đã công nhận", AT_MAY10, forward_vote)]}
    opened = sent_to(calls, REVIEWER)[0]
    forwarded = await press_on(tg, REVIEWER, opened, "Chuyển lên cấp trên")
    # the upper unit's card names the recognition below: the council, its tally, the day, its scores
    nominated = card("Đã công nhận, đang xét ở cấp trên", AT_KCN, f"{RECOGNISED_BELOW}{SCORED}")
    result = (
        f"🗳 {COUNCIL} đã quyết định về {SK}: <b>Đã công nhận, đang xét ở cấp trên</b>"
        " — 2/2 phiếu đề nghị chuyển lên cấp trên."
    )
    assert heard(forwarded) == {
        "Hùng": [
            f"Đã ghi nhận phiếu của anh/chị cho SK-2026-000001.\n\n{result}",
            f"[sửa #{opened.message_id}] {nominated}",
        ],
        "Lan": [
            f"📤 Sáng kiến {SK} của bạn đã được chuyển lên {KCN} để xét công nhận."
            "\nSáng kiến vẫn được công nhận ở cấp cơ sở."
            f"\nNgười chuyển: {COUNCIL} — 2/2 phiếu đề nghị chuyển lên cấp trên"
        ],
        "Dũng": [nominated],
        "Minh": [f"[bỏ nút #{minh.message_id}]", result],
        "Hoa": [result],
        "nhóm": [
            f"[sửa #{group.message_id}] "
            + card("Đã công nhận, đang xét ở cấp trên", AT_KCN, f"{RECOGNISED_BELOW}{SCORED}", phone=False),
            result,
        ],
    }
    assert [label for label, _ in sent_to(forwarded, GROUP_ID, "editMessageText")[0].buttons] == ["🕘 Lịch sử xử lý"]

    # Dũng, at the upper unit, recognises it again: the author and the whole council below hear it,
    # and the cards below lose what buttons they had left
    dung = sent_to(forwarded, UPPER)[0]
    calls = await press_on(tg, UPPER, dung, "✅ Công nhận")
    upper_decided = (
        f"🔔 {KCN} đã xét sáng kiến {SK} do {COUNCIL} chuyển lên: <b>công nhận ở cấp trên trực tiếp</b>."
        "\nNgười xử lý: Đỗ Văn Dũng"
    )
    both = f"{RECOGNISED_BELOW}{RECOGNISED_ABOVE}{SCORED}"
    assert heard(calls) == {
        "Dũng": [
            "Đã công nhận sáng kiến SK-2026-000001. Tác giả đã được báo.",
            f"[sửa #{dung.message_id}] " + card("Đã công nhận", AT_KCN, both),
        ],
        "Lan": [
            f"🎉 Chúc mừng! Sáng kiến {SK} của bạn <b>đã được công nhận</b> (cấp trên trực tiếp, {KCN})."
            "\nNgười xử lý: Đỗ Văn Dũng"
        ],
        "Hùng": [f"[bỏ nút #{opened.message_id}]", upper_decided],
        "Minh": [upper_decided],
        "Hoa": [upper_decided],
        "nhóm": [f"[bỏ nút #{group.message_id}]", upper_decided],
    }

    # ... and marks it applied since the day Lan gave, with the benefit measured
    calls = await press_on(tg, UPPER, sent_to(calls, UPPER, "editMessageText")[0], "Ghi nhận đã áp dụng")
    assert heard(calls) == {
        "Dũng": [
            "SK-2026-000001 được áp dụng từ ngày nào? Tác giả ghi 01/02/2026: bấm nút để xác nhận,"
            " hoặc gõ ngày khác (ngày/tháng/năm, ví dụ 15/03/2026)."
        ]
    }
    when = sent_to(calls, UPPER)[-1]
    calls = await press_on(tg, UPPER, when, "✅ Từ 01/02/2026, như tác giả ghi")
    assert heard(calls) == {
        "Dũng": [
            f"[bỏ nút #{when.message_id}]",
            "Giá trị làm lợi đo được khi áp dụng SK-2026-000001 là bao nhiêu?"
            " Ví dụ: “120 triệu”, hoặc “không xác định được”.",
        ]
    }
    asked = sent_to(calls, UPPER)[-1]
    calls = await tg.text(UPPER, "120 triệu")
    applied = "\n🏭 Đơn vị xác nhận đã áp dụng từ 01/02/2026; giá trị làm lợi đo được: 120.000.000 đ"
    assert heard(calls) == {
        "Dũng": [
            f"[bỏ nút #{asked.message_id}]",
            "Đã cập nhật: SK-2026-000001 đã được áp dụng.\n\n"
            + card("Đã công nhận", AT_KCN, f"{RECOGNISED_BELOW}{RECOGNISED_ABOVE}{applied}{SCORED}"),
            f"[bỏ nút #{dung.message_id}]",
        ],
        "Lan": [
            f"🏭 Đã cập nhật: sáng kiến {SK} của bạn đã được áp dụng từ 01/02/2026 ({KCN}).\n"
            "Giá trị làm lợi đo được: 120.000.000 đ\nNgười ghi nhận: Đỗ Văn Dũng"
        ],
    }

    # the history: each vote with its scores, the council's decision with its tally and scores, the
    # date applied and the benefit measured
    calls = await tg.press(UPPER, button(sent_to(calls, UPPER), "Lịch sử xử lý"))
    assert heard(calls) == {
        "Dũng": [
            "<b>Lịch sử xử lý SK-2026-000001</b>\n"
            "• 10:00 25/11/2026 · Nguyễn Thị Lan: gửi (Bản nháp → Đã gửi)\n"
            "• 10:00 25/11/2026 · Trần Văn Hùng: công nhận (Đã gửi → Đang xét duyệt)"
            " · tính mới 4/5, khả năng áp dụng 5/5, hiệu quả 3/5 · Giải pháp tốt\n"
            "• 10:00 25/11/2026 · Phạm Thị Hoa: không công nhận (Đang xét duyệt → Đang xét duyệt)"
            " · Phân xưởng 2 đã làm cách này từ năm 2024\n"
            "• 10:00 25/11/2026 · Lê Văn Minh: công nhận (Đang xét duyệt → Đang xét duyệt)"
            " · tính mới 5/5, khả năng áp dụng 4/5, hiệu quả 4/5\n"
            f"• 10:00 25/11/2026 · {COUNCIL} — {TALLY}: công nhận (Đang xét duyệt → Đã công nhận) · {MEANS}\n"
            "• 10:00 25/11/2026 · Lê Văn Minh: chuyển lên cấp trên (Đã công nhận → Đã công nhận)\n"
            "• 10:00 25/11/2026 · Trần Văn Hùng: chuyển lên cấp trên (Đã công nhận → Đã công nhận)\n"
            f"• 10:00 25/11/2026 · {COUNCIL} — 2/2 phiếu đề nghị chuyển lên cấp trên: chuyển lên cấp trên"
            " (Đã công nhận → Đã công nhận, đang xét ở cấp trên)\n"
            "• 10:00 25/11/2026 · Đỗ Văn Dũng: công nhận (Đã công nhận, đang xét ở cấp trên → Đã công nhận)\n"
            "• 10:00 25/11/2026 · Đỗ Văn Dũng: ghi nhận đã áp dụng (Đã công nhận → Đã công nhận)"
            " · áp dụng từ 01/02/2026, giá trị làm lợi đo được 120.000.000 đ"
        ]
    }
    # each member's scores are kept with the vote
    assert await harness.query(
        "select u.full_name, v.vote, v.scores from review_vote v join app_user u on u.id = v.user_id"
        " where v.round = 0 order by v.id"
    ) == [("Trần Văn Hùng", "approve", "4/5/3"), ("Phạm Thị Hoa", "reject", None), ("Lê Văn Minh", "approve", "5/4/4")]
    assert await initiative(harness, "status", "recognised_level", "applied_since", "applied_benefit_vnd") == (
        "approved",
        "upper",
        "2026-02-01",
        120_000_000,
    )
    assert [row for row in await audit(harness) if row[0] != "submit"] == [
        ("approve", "submitted", "in_review", "Trần Văn Hùng"),
        ("reject", "in_review", "in_review", "Phạm Thị Hoa"),
        ("approve", "in_review", "in_review", "Lê Văn Minh"),
        ("approve", "in_review", "approved", None),  # the council's decision
        ("forward", "approved", "approved", "Lê Văn Minh"),
        ("forward", "approved", "approved", "Trần Văn Hùng"),
        ("forward", "approved", "nominated", None),
        ("approve", "nominated", "approved", "Đỗ Văn Dũng"),
        ("mark_applied", "approved", "approved", "Đỗ Văn Dũng"),
    ]
    # Lan reads the council's scores, with their rule, in her initiative's detail
    calls = await tg.press(WORKER, "v1:open:1")
    assert heard(calls)["Lan"][0].endswith(f"<b>Hạn trả lời:</b> 25/02/2027{SCORED}")
