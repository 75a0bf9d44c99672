"""Several bot processes on one database behave as one, and `kill -9` only delays messages: real
processes (forked by tests/bot_process.py) on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.messages import Notice, Reply
from tests.conftest import Harness, answer_until
from tests.fake_telegram import TelegramDriver, button
from tests.review_support import REVIEWER, WORKER, cards, enroll, grant, submit_as

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20


class Zygote:
    """The forking server of bot processes, and the files they write."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bot_process"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def spawn(self, **spec: Any) -> int:
        """Fork a bot process running `spec`; its pid."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(spec) + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> None:
        """Stop forking."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    """One forking server for the module's tests."""
    server = Zygote()
    yield server
    server.close()


class Run:
    """The files of one test's bot processes."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.db = db_url
        self.calls = tmp_path / "calls.jsonl"
        self.log = tmp_path / "progress.log"
        self.calls.touch()
        self.log.touch()

    def spec(self, **extra: Any) -> dict[str, Any]:
        """A process spec on this test's files."""
        return {"db": self.db, "calls": str(self.calls), "log": str(self.log), **extra}

    def lines(self, pid: int | None = None) -> list[str]:
        """The progress log (of one process)."""
        entries = [line.split(" ", 1) for line in self.log.read_text().splitlines()]
        return [message for owner, message in entries if pid is None or int(owner) == pid]

    def wait_for(self, pid: int, message: str, timeout: float = 60.0) -> None:
        """Wait until process `pid` logged `message`."""
        deadline = time.monotonic() + timeout
        while message not in self.lines(pid):
            assert time.monotonic() < deadline, f"process {pid} did not log {message!r}: {self.lines(pid)}"
            time.sleep(0.01)

    def sent(self) -> list[dict[str, Any]]:
        """The sendMessage calls the fake Bot API accepted, from every process."""
        calls = [json.loads(line) for line in self.calls.read_text().splitlines()]
        return [c for c in calls if c["method"] == "sendMessage"]


async def test_two_processes_send_each_outbox_row_once_and_run_a_job_once(
    harness: Harness, zygote: Zygote, tmp_path: Path, db_url: str
) -> None:
    assert harness.runtime is not None
    rows = [Notice(f"telegram:{10_000 + i}", "vi", (Reply("group.private_only"),)) for i in range(1000)]
    async with harness.runtime.store.transaction() as tx:
        await harness.runtime.delivery.enqueue_notices(tx, rows, job_run_id=None, key_prefix="load")
    await harness.stop()
    run = Run(tmp_path, db_url)
    start = time.time() + 1.5
    spec = run.spec(start_at=start, job="2026-12-01T02:00:00+00:00", drain=True)
    pids = [zygote.spawn(**spec), zygote.spawn(**spec)]
    for pid in pids:
        run.wait_for(pid, "done")
    per_chat = Counter(c["chat_id"] for c in run.sent())
    assert len(per_chat) == 1000
    assert set(per_chat.values()) == {1}  # each row sent once
    assert all(n >= 1 for n in Counter(c["pid"] for c in run.sent()).values())
    assert run.lines().count("probe ran") == 1  # the job run once
    assert sorted(m for m in run.lines() if m.startswith("job ")) == ["job claimed", "job none"]
    await harness.start()
    assert await harness.query("select count(*) from job_run where finished_at is not null") == [(1,)]


async def test_two_updates_of_one_person_reaching_two_processes_at_once_are_handled_in_order(
    tg: TelegramDriver, harness: Harness, zygote: Zygote, tmp_path: Path, db_url: str
) -> None:
    await enroll(tg, WORKER)
    await answer_until(tg, WORKER, "problem")
    first = tg._message(WORKER, text="Cắt thủ công, chậm")  # the problem
    second = tg._message(WORKER, text="Gắn cảm biến quang")  # then the solution
    await harness.stop()
    run = Run(tmp_path, db_url)
    start = time.time() + 1.5
    one = zygote.spawn(**run.spec(start_at=start, updates=[first], slow_route=0.4))
    two = zygote.spawn(**run.spec(start_at=start + 0.1, updates=[second]))
    for pid in (one, two):
        run.wait_for(pid, "done")
    await harness.start()
    rows = await harness.query("select step, problem, solution from initiative where status = 'draft'")
    assert rows == [("benefit", "Cắt thủ công, chậm", "Gắn cảm biến quang")]
    replies = [c["text"][:9] for c in run.sent() if c["chat_id"] == WORKER.id]
    assert replies == ["Bước 5/12", "Bước 6/12"]


async def test_kill_9_between_decisions_and_their_notices_loses_none_and_sends_none_twice(
    tg: TelegramDriver, harness: Harness, zygote: Zygote, tmp_path: Path, db_url: str
) -> None:
    await grant(tg, REVIEWER)
    await enroll(tg, WORKER)
    presses = []
    for number in range(1, KILLS + 1):
        card = cards(await submit_as(tg, WORKER, f"Cải tiến dây chuyền {number}"), REVIEWER)[0]
        raw_press = press_update(tg, button([card], "✅ Công nhận"))
        presses.append(raw_press)
    await harness.stop()
    run = Run(tmp_path, db_url)
    rng = random.Random(11)
    spec = run.spec(lease=1.0, send_delay=2.0)  # no notice is accepted before the kill: see tests/bot_process.py
    for index, press in enumerate(presses):
        redelivered = presses[max(0, index - 1) : index]  # Telegram sends an unconfirmed update again
        pid = zygote.spawn(**spec, updates=[*redelivered, press])
        run.wait_for(pid, "ready")
        time.sleep(rng.uniform(0.0, 0.25))  # before, during or after the decision's commit
        os.kill(pid, signal.SIGKILL)
    pid = zygote.spawn(**run.spec(lease=1.0, updates=presses, drain=True))
    run.wait_for(pid, "done")
    await harness.start()
    decided = await harness.query("select count(*) from initiative where status = 'approved'")
    assert decided == [(KILLS,)]
    told = Counter(c["text"].split("</b>")[0] for c in run.sent() if c["chat_id"] == WORKER.id)
    assert len(told) == KILLS and set(told.values()) == {1}, told


def press_update(tg: TelegramDriver, data: str) -> dict[str, Any]:
    """A raw update: the reviewer presses a button of a card in the private chat."""
    message = {"message_id": 1, "date": 1764000000, "chat": {"id": REVIEWER.id, "type": "private"}, "text": "…"}
    query = {"id": str(next(tg.update_ids)), "from": REVIEWER.as_dict(), "chat_instance": "ci", "data": data}
    return {"update_id": next(tg.update_ids), "callback_query": {**query, "message": message}}
