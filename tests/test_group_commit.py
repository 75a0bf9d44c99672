"""SQLite: the answers of people writing at the same moment share one commit, and one of them
failing loses nothing of the others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from bot.domain import UserRef
from storage.store import SqlTx
from tests.conftest import Harness
from tests.fake_telegram import Call, Person, TelegramDriver, texts

pytestmark = pytest.mark.sqlite_only  # one writer at a time is SQLite's; PostgreSQL commits each on its own

WELCOME = "Chọn ngôn ngữ / Choose your language:"
SORRY = "Xin lỗi, bot gặp lỗi khi xử lý tin nhắn này."


def last_text_to(person: Person, calls: list[Call]) -> str:
    """The last text sent to the person's chat among calls that interleave with others'."""
    return texts([c for c in calls if str(c.params.get("chat_id")) == str(person.id)])[-1]


def counting_commits(harness: Harness) -> list[int]:
    """A list that grows by one at every commit of the bot's write engine."""
    assert harness.runtime is not None
    commits: list[int] = []
    event.listen(harness.runtime.store.database.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_people_answering_at_once_are_all_answered_and_stored_with_fewer_commits(
    harness: Harness, tg: TelegramDriver
) -> None:
    people = [Person(7100 + i) for i in range(8)]
    commits = counting_commits(harness)
    answers = await asyncio.gather(*(tg.text(p, "/start") for p in people))
    assert all(last_text_to(p, calls).endswith(WELCOME) for p, calls in zip(people, answers, strict=True))
    stored = await harness.query("select external_id from app_user order by external_id")
    assert stored == [(str(p.id),) for p in people]
    assert len(commits) < len(people)  # their writes shared commits


@pytest.mark.parametrize("failing", [0, 3], ids=["first-to-write", "joining-later"])
async def test_one_person_failing_loses_nothing_of_the_others_and_can_try_again(
    harness: Harness, tg: TelegramDriver, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    people = [Person(7200 + i) for i in range(6)]
    unlucky = people[failing]
    create_user = SqlTx.create_user

    async def failing_after_the_insert(self: SqlTx, ref: UserRef, **kwargs: Any) -> Any:
        user = await create_user(self, ref, **kwargs)
        if ref.external_id == str(unlucky.id):
            raise RuntimeError("disk on fire")
        return user

    monkeypatch.setattr(SqlTx, "create_user", failing_after_the_insert)
    answers = await asyncio.gather(*(tg.text(p, "/start") for p in people))
    for person, calls in zip(people, answers, strict=True):
        answer = last_text_to(person, calls)
        assert answer.startswith(SORRY) if person is unlucky else answer.endswith(WELCOME)
    stored = await harness.query("select external_id from app_user order by external_id")
    assert stored == [(str(p.id),) for p in people if p is not unlucky]  # the failed turn wrote nothing

    monkeypatch.setattr(SqlTx, "create_user", create_user)
    assert texts(await tg.text(unlucky, "/start"))[-1].endswith(WELCOME)
    assert len(await harness.query("select id from app_user")) == len(people)


async def test_when_the_shared_commit_fails_nobody_is_told_their_answer_was_kept(
    harness: Harness, tg: TelegramDriver
) -> None:
    people = [Person(7300 + i) for i in range(5)]
    assert harness.runtime is not None
    engine = harness.runtime.store.database.engine.sync_engine
    failures = [OSError("disk full")]

    def failing_once(_conn: Any) -> None:
        if failures:
            raise failures.pop()

    event.listen(engine, "commit", failing_once)
    answers = await asyncio.gather(*(tg.text(p, "/start") for p in people))
    event.remove(engine, "commit", failing_once)
    told = [last_text_to(p, calls) for p, calls in zip(people, answers, strict=True)]
    sorry = [p for p, text in zip(people, told, strict=True) if text.startswith(SORRY)]
    welcomed = [p for p, text in zip(people, told, strict=True) if text.endswith(WELCOME)]
    assert sorry and len(sorry) + len(welcomed) == len(people)
    stored = await harness.query("select external_id from app_user order by external_id")
    assert stored == [(str(p.id),) for p in welcomed]  # welcomed exactly those whose rows were kept
    for person in sorry:  # trying again works
        assert texts(await tg.text(person, "/start"))[-1].endswith(WELCOME)
