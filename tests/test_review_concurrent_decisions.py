"""Two reviewers pressing on the same card at the same moment: exactly one decision is recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from bot import review
from bot.domain import UserRef
from bot.turn import Turn
from bot.workflow import Action
from tests.conftest import Harness
from tests.fake_telegram import Call, TelegramDriver, button
from tests.review_support import (
    REVIEWER,
    SECOND,
    WORKER,
    audit,
    cards,
    enroll,
    grant,
    initiative,
    sent_to,
    submit_as,
)

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

STALE_ALERT = "Phiếu đã cũ: sáng kiến đã được người khác xử lý."


async def setup(tg: TelegramDriver) -> tuple[list[Call], list[Call]]:
    """Two reviewers of MAY10 with the card of one new submission each."""
    await grant(tg, REVIEWER)
    await grant(tg, SECOND, phone="0912 000 602")
    await enroll(tg, WORKER)
    calls = await submit_as(tg, WORKER)
    return cards(calls, REVIEWER), cards(calls, SECOND)


def answers_to(calls: list[Call]) -> list[dict[str, Any]]:
    """The answerCallbackQuery parameters, in order."""
    return [c.params for c in calls if c.method == "answerCallbackQuery"]


async def test_two_approvals_at_the_same_moment_record_one_decision(tg: TelegramDriver, harness: Harness) -> None:
    mine, theirs = await setup(tg)
    before = len(tg.api.calls)
    await asyncio.gather(
        tg.press(REVIEWER, button(mine, "✅ Công nhận")),
        tg.press(SECOND, button(theirs, "✅ Công nhận")),
    )
    calls = tg.api.calls[before:]
    rows = await audit(harness)
    assert len(rows) == 1 and rows[0][:3] == ("approve", "submitted", "approved")
    winner = rows[0][3]
    assert await initiative(harness, "status") == "approved"
    assert len(sent_to(calls, WORKER)) == 1  # the author is told once
    alerts = [a.get("text") for a in answers_to(calls)]
    assert sorted(alerts, key=str) == sorted([None, STALE_ALERT], key=str)
    loser = SECOND if winner == "Trần Văn Hùng" else REVIEWER
    told = [c.text for c in sent_to(calls, loser)]
    assert any(t.startswith(f"Sáng kiến này đã được {winner} xử lý lúc") for t in told)


async def test_approve_and_reject_at_the_same_moment_record_one_decision(tg: TelegramDriver, harness: Harness) -> None:
    mine, theirs = await setup(tg)
    asked = await tg.press(SECOND, button(theirs, "Không công nhận"))
    await asyncio.gather(
        tg.press(SECOND, button(asked, "Trùng với sáng kiến")),
        tg.press(REVIEWER, button(mine, "✅ Công nhận")),
    )
    rows = await harness.query("select action, to_status from review_action where action <> 'submit'")
    assert len(rows) == 1
    (action, to_status) = rows[0]
    status, decided_by = await initiative(harness, "status", "decided_by")
    assert status == to_status and action in ("approve", "reject")
    deciders = await harness.query("select u.full_name from initiative i join app_user u on u.id = i.decided_by")
    assert deciders == [("Lê Văn Minh" if action == "reject" else "Trần Văn Hùng",)]
    assert decided_by is not None


async def test_many_presses_at_once_still_record_one_decision(tg: TelegramDriver, harness: Harness) -> None:
    mine, theirs = await setup(tg)
    presses = [tg.press(REVIEWER, button(mine, "✅ Công nhận")) for _ in range(3)]
    presses += [tg.press(SECOND, button(theirs, "✅ Công nhận")) for _ in range(3)]
    await asyncio.gather(*presses)
    assert len(await audit(harness)) == 1
    assert await initiative(harness, "status") == "approved"


async def test_the_same_press_delivered_twice_is_handled_once(tg: TelegramDriver, harness: Harness) -> None:
    mine, _ = await setup(tg)
    raw = {
        "update_id": 5000,
        "callback_query": {
            "id": "q5000",
            "from": REVIEWER.as_dict(),
            "chat_instance": "ci",
            "data": button(mine, "✅ Công nhận"),
            "message": {
                "message_id": 1,
                "date": 1764000000,
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Sáng kiến"},
                "chat": {"id": REVIEWER.id, "type": "private"},
                "text": "…",
            },
        },
    }
    before = len(tg.api.calls)
    await asyncio.gather(*(tg.app.process_update(Update.de_json(raw, tg.app.bot)) for _ in range(2)))
    assert tg.settle is not None
    await tg.settle()  # what the decision told the author, from the outbox
    assert len(await audit(harness)) == 1
    assert len(sent_to(tg.api.calls[before:], WORKER)) == 1


async def test_a_decision_based_on_an_outdated_read_is_refused_by_the_database(
    tg: TelegramDriver, harness: Harness
) -> None:
    """As with two bot processes: the second writer read the initiative before the first wrote."""
    mine, _ = await setup(tg)
    assert harness.runtime is not None
    store, config = harness.runtime.store, harness.config
    async with store.transaction() as tx:
        outdated = await tx.initiative(1)
        second = await tx.user_by_ref(UserRef("telegram", str(SECOND.id)))
    assert outdated is not None and second is not None
    await tg.press(REVIEWER, button(mine, "✅ Công nhận"))
    async with store.transaction() as tx:
        turn = Turn(tx, second, harness.clock(), config)
        replies = await review.decide(turn, outdated, Action.REJECT, comment="x", scores=None)
    assert replies[0].key == "review.stale" and turn.alert == "review.stale_alert"
    assert [row[0] for row in await audit(harness)] == ["approve"]
    assert await initiative(harness, "status") == "approved"
