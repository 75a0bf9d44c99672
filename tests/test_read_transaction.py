"""Read transactions (`store.read()`, for long reads of jobs): one snapshot, and a write is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.store import SqlStore
from tests.conftest import Harness

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

HEADCOUNT = text("select headcount from unit where code = 'MAY10'")


@pytest.fixture
def store(harness: Harness) -> SqlStore:
    """The running bot's store (the configured units seeded)."""
    assert harness.runtime is not None and isinstance(harness.runtime.store, SqlStore)
    return harness.runtime.store


async def test_a_read_transaction_sees_one_snapshot(store: SqlStore) -> None:
    async with store.read() as reading:
        before = (await reading.conn.execute(HEADCOUNT)).scalar_one()
        async with store.transaction() as writing:  # commits while the read goes on
            await writing.conn.execute(text("update unit set headcount = 7 where code = 'MAY10'"))
        assert (await reading.conn.execute(HEADCOUNT)).scalar_one() == before == 1200
    async with store.read() as reading:
        assert (await reading.conn.execute(HEADCOUNT)).scalar_one() == 7


async def test_a_write_in_a_read_transaction_is_refused_and_nothing_changes(store: SqlStore) -> None:
    with pytest.raises(DBAPIError):
        async with store.read() as reading:
            await reading.conn.execute(text("update unit set headcount = 7 where code = 'MAY10'"))
    async with store.read() as reading:
        assert (await reading.conn.execute(HEADCOUNT)).scalar_one() == 1200
