"""Many approvals in one unit at the same moment all succeed, and the tallies count every one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from storage.rows import initiatives, units, users
from storage.tables import metadata
from tests.conftest import NOW, Harness
from tests.fake_telegram import Person, TelegramDriver, button
from tests.leaderboard_support import initiative_row, user_row
from tests.review_support import sent_to

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

APPROVALS = 20
AUTHORS = 4  # five initiatives each: the authors' tallies are shared too
reviewer_grants = metadata.tables["reviewer"]


async def seed_queue(harness: Harness) -> tuple[list[Person], list[str], int]:
    """Twenty reviewers of MAY10 and twenty initiatives waiting there (written in bulk)."""
    assert harness.runtime is not None
    async with harness.runtime.store.transaction() as tx:
        unit_id = (await tx.conn.execute(select(units.c.id).where(units.c.code == "MAY10"))).scalar_one()
        people = [user_row(10_000 + n, f"Người duyệt {n}", unit_id) for n in range(APPROVALS)]
        people += [user_row(20_000 + n, f"Tác giả {n}", unit_id) for n in range(AUTHORS)]
        await tx.conn.execute(insert(users), [{k: v for k, v in p.items() if k != "id"} for p in people])
        ids = dict((await tx.conn.execute(select(users.c.external_id, users.c.id))).all())
        await tx.conn.execute(
            insert(reviewer_grants),
            [{"user_id": ids[str(10_000 + n)], "unit_id": unit_id, "granted_at": NOW} for n in range(APPROVALS)],
        )
        codes = [f"SK-2026-{n + 1:06d}" for n in range(APPROVALS)]
        rows = [
            initiative_row(
                ids[str(20_000 + n % AUTHORS)],
                unit_id,
                "submitted",
                code=code,
                title=f"Sáng kiến số {n}",
                category="productivity",
                kind="technical",
                problem="Chậm",
                solution=f"Cách làm mới số {n}",
                benefit="Nhanh hơn",
                submitted_at=NOW - timedelta(days=1),
                queued_at=NOW - timedelta(days=1),
                decision_due=(NOW + timedelta(days=90)).date(),
                review_unit_id=unit_id,
                review_level="grassroots",
                version=1,
            )
            for n, code in enumerate(codes)
        ]
        await tx.conn.execute(insert(initiatives), rows)
    return [Person(10_000 + n, first_name=f"R{n}") for n in range(APPROVALS)], codes, unit_id


async def test_twenty_approvals_in_one_unit_at_once_all_succeed(tg: TelegramDriver, harness: Harness) -> None:
    reviewers, codes, unit_id = await seed_queue(harness)
    approve = []
    for reviewer, code in zip(reviewers, codes, strict=True):
        card = await tg.text(reviewer, f"/review {code}")
        approve.append(button(card, "✅ Công nhận"))
    before = len(tg.api.calls)
    await asyncio.gather(*(tg.press(r, data) for r, data in zip(reviewers, approve, strict=True)))
    calls = tg.api.calls[before:]
    statuses = await harness.query("select status, count(*) from initiative group by status")
    assert statuses == [("approved", APPROVALS)]
    assert len(await harness.query("select id from review_action where action = 'approve'")) == APPROVALS
    for n in range(AUTHORS):  # every author hears of each of their five approvals
        assert len(sent_to(calls, 20_000 + n)) == APPROVALS // AUTHORS
    assert not [c for c in calls if "bot gặp lỗi" in c.text]  # error.internal
    # one point for submitting and three for grassroots recognition, each counted once
    assert await harness.query("select points from leaderboard_unit where unit_id = :u", u=unit_id) == [
        (APPROVALS * 4,)
    ]
    people = await harness.query("select points from leaderboard_person order by user_id")
    assert people == [(APPROVALS // AUTHORS * 4,)] * AUTHORS
