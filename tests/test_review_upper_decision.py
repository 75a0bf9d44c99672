"""The unit below learns what the upper unit decided on what it forwarded (through the outbox, with
the decision): the one reviewer who forwarded it, or the whole council and its review group; the
upper unit's request for changes reaches the author, and the revision goes back to the upper unit;
the city level tells the upper unit that forwarded to it."""

from __future__ import annotations

import pytest

from bot.config import Config
from tests.conftest import Harness
from tests.fake_telegram import Call, Person, TelegramDriver, button, texts
from tests.review_support import (
    GROUP_ID,
    REVIEWER,
    SECOND,
    THIRD,
    UPPER,
    WORKER,
    cards,
    edits,
    enroll,
    grant,
    initiative,
    sent_to,
    submit_as,
    units_with,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

SK = "<b>SK-2026-000001</b> “Máy cắt vải tự động”"
KCN = "Công đoàn các Khu công nghiệp Hà Nội"
COUNCIL = "Hội đồng sáng kiến Công đoàn Công ty May 10"
CITY = Person(621, first_name="Sơn", username="son_ldld")


def told(calls: list[Call], person: Person | int) -> list[str]:
    """The texts sent to one chat."""
    return [c.text for c in sent_to(calls, person)]


async def forwarded_undecided(tg: TelegramDriver) -> list[Call]:
    """MAY10's single reviewer forwards an undecided initiative to the upper unit; its calls."""
    await grant(tg, REVIEWER)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc", phone="0912 000 701")
    await enroll(tg, WORKER)
    return await tg.press(REVIEWER, button(cards(await submit_as(tg, WORKER), REVIEWER), "Chuyển lên cấp trên"))


async def test_the_upper_units_request_for_changes_reaches_the_author_and_the_forwarder_and_comes_back_up(
    tg: TelegramDriver, harness: Harness
) -> None:
    calls = await forwarded_undecided(tg)
    await tg.press(UPPER, button(cards(calls, UPPER), "Yêu cầu bổ sung"))
    calls = await tg.text(UPPER, "Cần số liệu năng suất trước và sau")
    assert told(calls, WORKER) == [
        f"🔔 Sáng kiến {SK} của bạn: <b>Cần bổ sung</b> ({KCN}).\nNgười xử lý: Đỗ Văn Dũng"
        "\nÝ kiến: Cần số liệu năng suất trước và sau"
    ]
    assert told(calls, REVIEWER) == [
        f"🔔 {KCN} đã xét sáng kiến {SK} do anh/chị chuyển lên: <b>yêu cầu tác giả bổ sung</b>."
        "\nNgười xử lý: Đỗ Văn Dũng\nÝ kiến: Cần số liệu năng suất trước và sau"
    ]
    # the author revises: the revision goes back to the upper unit that asked, not to MAY10
    calls = await tg.press(WORKER, button(sent_to(calls, WORKER), "Sửa"))
    calls = await tg.press(WORKER, button(calls, "Sửa một mục"))
    calls = await tg.press(WORKER, button(calls, "Hiệu quả"))
    calls = await tg.text(WORKER, "Năng suất tăng từ 40 lên 52 tấm/giờ")
    calls = await tg.press(WORKER, button(calls, "Gửi sáng kiến"))
    assert len(cards(calls, UPPER)) == 1 and cards(calls, REVIEWER) == []
    assert await initiative(harness, "status", "review_level") == ("resubmitted", "upper")
    # the upper unit recognises it: the forwarder hears it once more, nobody else below
    calls = await tg.press(UPPER, button(cards(calls, UPPER), "✅ Công nhận"))
    assert told(calls, REVIEWER) == [
        f"🔔 {KCN} đã xét sáng kiến {SK} do anh/chị chuyển lên: <b>công nhận ở cấp trên trực tiếp</b>."
        "\nNgười xử lý: Đỗ Văn Dũng"
    ]
    assert await initiative(harness, "status", "recognised_level") == ("approved", "upper")


@pytest.fixture
def config(config: Config, request: pytest.FixtureRequest) -> Config:
    """MAY10 decides as a council of three (quorum 2) in its review group, for the council tests."""
    if "council" not in request.node.name:
        return config
    units = units_with("MAY10", review_mode="council", quorum=2, review_chat=f"telegram:{GROUP_ID}")
    return config.model_copy(update={"units": units})


async def test_the_council_and_its_group_hear_that_the_upper_unit_declined(
    tg: TelegramDriver, harness: Harness
) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await grant(tg, THIRD, phone="0912 000 603")
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc", phone="0912 000 701")
    await enroll(tg, WORKER)
    sent = await submit_as(tg, WORKER)
    await tg.press(REVIEWER, button(sent_to(sent, REVIEWER), "✅ Công nhận"))
    calls = await tg.press(SECOND, button(sent_to(sent, SECOND), "✅ Công nhận"))
    await tg.press(SECOND, button(edits(calls), "Chuyển lên cấp trên"))
    calls = await tg.press(REVIEWER, button(await tg.text(REVIEWER, "/review SK-2026-000001"), "Chuyển lên cấp trên"))
    assert await initiative(harness, "status") == "nominated"
    await tg.press(UPPER, button(cards(calls, UPPER), "Không công nhận"))
    calls = await tg.text(UPPER, "Đơn vị khác đã áp dụng từ trước")
    decided = (
        f"🔔 {KCN} đã xét sáng kiến {SK} do {COUNCIL} chuyển lên: <b>không công nhận ở cấp này"
        " (sáng kiến vẫn được công nhận ở cấp cơ sở)</b>.\nNgười xử lý: Đỗ Văn Dũng"
        "\nÝ kiến: Đơn vị khác đã áp dụng từ trước"
    )
    # every member, the one who did not vote to forward too, and the group; in the same outbox
    assert [told(calls, p) for p in (REVIEWER, SECOND, THIRD, GROUP_ID)] == [[decided]] * 4
    assert await harness.query("select count(*) from outbox where payload like '%notify.upper_decline%'") == [(4,)]
    assert await initiative(harness, "status", "recognised_level") == ("approved", "grassroots")


async def test_the_city_level_tells_the_upper_unit_that_forwarded_to_it(tg: TelegramDriver, harness: Harness) -> None:
    await grant(tg, REVIEWER)
    await grant(tg, UPPER, "Khu công nghiệp", unit_query="may duc", phone="0912 000 701")
    await grant(tg, CITY, "Liên đoàn", unit_query="lien doan lao dong", phone="0913 000 621", name="Hà Văn Sơn")
    await enroll(tg, WORKER)
    calls = await tg.press(REVIEWER, button(cards(await submit_as(tg, WORKER), REVIEWER), "✅ Công nhận"))
    calls = await tg.press(REVIEWER, button(edits(calls), "Chuyển lên cấp trên"))
    calls = await tg.press(UPPER, button(cards(calls, UPPER), "Chuyển lên cấp trên"))
    assert texts(calls)[0] == "Đã chuyển SK-2026-000001 lên Liên đoàn Lao động thành phố Hà Nội để xét công nhận."
    # MAY10's reviewer hears that the upper unit sent it on
    assert told(calls, REVIEWER) == [
        f"🔔 {KCN} đã xét sáng kiến {SK} do anh/chị chuyển lên:"
        " <b>chuyển tiếp lên Liên đoàn Lao động thành phố Hà Nội</b>.\nNgười xử lý: Đỗ Văn Dũng"
    ]
    city_card = cards(calls, CITY)
    below = "🏅 Đã được công nhận ở cấp cơ sở ngày 25/11/2026 (Trần Văn Hùng, Công đoàn Công ty May 10)"
    assert below in city_card[0].text
    calls = await tg.press(CITY, button(city_card, "✅ Công nhận"))
    # the upper unit's reviewer who forwarded it to the city hears the city's decision
    assert told(calls, UPPER) == [
        f"🔔 Liên đoàn Lao động thành phố Hà Nội đã xét sáng kiến {SK} do anh/chị chuyển lên:"
        " <b>công nhận ở cấp thành phố</b>.\nNgười xử lý: Hà Văn Sơn"
    ]
    assert told(calls, REVIEWER) == []
    assert await initiative(harness, "recognised_level") == "city"
