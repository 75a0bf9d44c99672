"""A worker registers and submits an initiative end to end through real dispatch."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, register, submit
from tests.fake_telegram import Person, TelegramDriver, texts

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)


async def test_worker_registers_and_submits_and_gets_a_receipt(tg: TelegramDriver, harness: Harness) -> None:
    lan = Person(501)
    calls = await register(tg, lan)
    assert "Đăng ký xong" in texts(calls)[0]
    calls = await submit(tg, lan)
    receipt = texts(calls)[-1]
    assert "SK-2026-000001" in receipt
    assert "25/02/2027" in receipt
    rows = await harness.query("select code, status, benefit_vnd from initiative")
    assert rows == [("SK-2026-000001", "submitted", 50_000_000)]
