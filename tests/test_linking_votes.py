"""Two accounts of one person that both voted in one council round cannot be merged by linking."""

from __future__ import annotations

import pytest

from bot.config import Config
from tests.conftest import FakeClock
from tests.fake_telegram import TelegramDriver, button
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, submit_as, units_with
from tests.zalo_support import ZaloDriver, code_on_telegram, zalo, zalo_server

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)
__all__ = ["zalo", "zalo_server"]  # fixtures

HUNG_ZALO = "zl-601"


@pytest.fixture
def config(config: Config) -> Config:
    """MAY10 decides as a council of its reviewers, with a quorum of three."""
    return config.model_copy(update={"units": units_with("MAY10", review_mode="council", quorum=3)})


async def test_accounts_that_voted_in_the_same_round_are_not_merged(
    tg: TelegramDriver, zalo: ZaloDriver, clock: FakeClock
) -> None:
    await grant(tg, REVIEWER)
    zalo.with_telegram(tg.app.bot)
    await zalo.say(HUNG_ZALO, "/start", "1", "1", "Trần Văn Hùng", "0987 654 321", "may 10", "1")
    [(zalo_id, unit_id)] = await zalo.query(f"select id, unit_id from app_user where external_id = '{HUNG_ZALO}'")
    async with zalo.runtime.store.transaction() as tx:
        await tx.grant(int(zalo_id), int(unit_id), by=None, now=clock())
    await enroll(tg, WORKER)
    calls = await submit_as(tg, WORKER)
    await zalo.sender.drain()  # the card reaches Hùng's Zalo too
    await tg.press(REVIEWER, button(cards(calls, REVIEWER), "✅ Công nhận"))
    voted = await zalo.say(HUNG_ZALO, "1")  # ✅ Công nhận, on Zalo
    assert "Đã ghi nhận phiếu" in voted[0]
    code = await code_on_telegram(tg, REVIEWER)
    answer = await zalo.say(HUNG_ZALO, f"/link {code}")
    assert "cùng bỏ phiếu cho một sáng kiến" in answer[0] and "không gộp được" in answer[0]
    assert await zalo.query("select count(*) from account_link") == [(0,)]
    assert await zalo.query("select count(distinct user_id) from review_vote") == [(2,)]
    again = await zalo.say(HUNG_ZALO, "/my")  # the Zalo account is still its own
    assert "Đã liên kết" not in " ".join(again)
