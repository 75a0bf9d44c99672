"""Statements per update, counted by kind: SQLAlchemy's `before_cursor_execute` and `commit` events
on every engine, and the loop's wake-ups from other threads (one per round trip to aiosqlite's
thread). Counts are immune to a noisy host, unlike timings.

    counter = StatementCounter.install()
    ...one update...
    counter.take()   # Counter({'SELECT app_user': 2, 'UPDATE initiative': 1, 'BEGIN': 1, ...})
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

TABLE = {
    "SELECT": re.compile(r"\bFROM\s+\"?(\w+)", re.IGNORECASE),
    "INSERT": re.compile(r"^INSERT\s+(?:OR\s+\w+\s+)?INTO\s+\"?(\w+)", re.IGNORECASE),
    "UPDATE": re.compile(r"^UPDATE\s+\"?(\w+)", re.IGNORECASE),
    "DELETE": re.compile(r"^DELETE\s+FROM\s+\"?(\w+)", re.IGNORECASE),
}
HOPS = "thread hops"  # the loop woken from another thread: one per round trip to a driver's thread
STATEMENTS = "statements"  # every statement, BEGIN and COMMIT included


def kind_of(statement: str) -> str:
    """The statement's verb and, for SELECT/INSERT/UPDATE/DELETE, its (first) table."""
    text = statement.lstrip()
    verb = text.split(None, 1)[0].upper() if text else "?"
    if verb == "WITH":
        verb = "SELECT"  # a CTE: read the table of the main query
    pattern = TABLE.get(verb)
    found = pattern.search(text) if pattern else None
    return f"{verb} {found.group(1)}" if found else verb


class StatementCounter:
    """Counts the statements every engine of this process sends, by kind, and the loop's wake-ups."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop | None = None) -> StatementCounter:
        """Start counting (statements on every engine; wake-ups on `loop` if given)."""
        counter = cls()
        event.listen(Engine, "before_cursor_execute", counter._statement)
        event.listen(Engine, "commit", counter._commit)
        if loop is not None:
            wake = loop.call_soon_threadsafe

            def counted(callback: Any, *args: Any, **kwargs: Any) -> Any:
                counter.counts[HOPS] += 1
                return wake(callback, *args, **kwargs)

            loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        return counter

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.counts[kind_of(statement)] += 1
        self.counts[STATEMENTS] += 1

    def _commit(self, _conn: Any) -> None:
        self.counts["COMMIT"] += 1
        self.counts[STATEMENTS] += 1

    def take(self) -> Counter[str]:
        """The counts since the last take."""
        counts, self.counts = self.counts, Counter()
        return counts
