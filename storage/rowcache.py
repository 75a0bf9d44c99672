"""The rows of the lookups every update makes (the person, their draft), kept between transactions.

Each update of a worker reads their `app_user` row and, while they write an initiative, their
draft: two of the four statements of an ordinary answer (bench/bench_conversation.py). SQLite
runs on one connection of this process (`storage/engine.py`), so every change made here passes
through `SqliteSession.execute`, and the cache follows it:

- a save by id of a cached row (`by_id` statements) updates the cached row with the values as a
  new read would return them (each through the column's bind, then result processor); when the
  row no longer answers its lookup (a draft submitted) the entry goes;
- an INSERT drops the entry its key columns name (a new draft of that author); any other change
  to a table (and anything the cache cannot read, such as raw SQL) drops that table's entries,
  or all of them;
- a rollback, of a transaction or a savepoint, drops everything;
- a commit by another connection (a `sangkien` command, another process) shows in SQLite's
  `PRAGMA data_version`, read at the start of every transaction: everything goes.

With `SANGKIEN_CHECK_ROW_CACHE=1` (the test suite sets it) every hit is read again from the
database and a difference raises `StaleRow`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
Key = tuple[Any, ...]


class StaleRow(AssertionError):
    """A cached row differs from the stored one (only raised when checking is on)."""


@dataclass(frozen=True, eq=False)
class Lookup:
    """A SELECT of at most one row whose answer is cached: by the values of its `key` parameters."""

    name: str
    table: str
    key: tuple[str, ...]
    # Does a saved row still answer its key? None: always, the key is unique and saves never
    # change it (then a save of a row not cached cannot concern any entry either).
    keeps: Callable[[Any], bool] | None = None
    size: int = 10_000  # entries kept (a person's row is under 1 kB), least recently used dropped first


@dataclass
class Entries:
    """One lookup's cached rows on one connection."""

    lookup: Lookup
    results: dict[str, Callable[[Any], Any]]  # column -> result processor of the lookup's plan
    rows: OrderedDict[Key, Any] = field(default_factory=OrderedDict)
    ids: dict[int, Key] = field(default_factory=dict)

    def drop(self, key: Key) -> None:
        """Forget one entry."""
        row = self.rows.pop(key, None)
        if row is not None:
            self.ids.pop(row.id, None)

    def clear(self) -> None:
        """Forget every entry."""
        self.rows.clear()
        self.ids.clear()


_LOOKUPS: dict[int, tuple[Any, Lookup]] = {}
_BY_ID: dict[int, tuple[Any, tuple[str, ...]]] = {}


def cached(statement: T, lookup: Lookup) -> T:
    """Mark a prepared SELECT as cached by `lookup`; it is returned unchanged."""
    _LOOKUPS[id(statement)] = (statement, lookup)
    return statement


def by_id(statement: T, fields: tuple[str, ...]) -> T:
    """Mark a prepared UPDATE of `fields` of the row whose id is `_id`; it is returned unchanged."""
    _BY_ID[id(statement)] = (statement, fields)
    return statement


def lookup_of(statement: Any) -> Lookup | None:
    """The lookup a statement was marked with."""
    found = _LOOKUPS.get(id(statement))
    return found[1] if found is not None and found[0] is statement else None


def fields_set_by_id(statement: Any) -> tuple[str, ...] | None:
    """The fields of a statement marked with `by_id`."""
    found = _BY_ID.get(id(statement))
    return found[1] if found is not None and found[0] is statement else None


class RowCache:
    """The cached lookups of one connection, kept in step with what it writes."""

    def __init__(self, check: bool | None = None) -> None:
        self.check = os.environ.get("SANGKIEN_CHECK_ROW_CACHE") == "1" if check is None else check
        self.version: int | None = None
        self.lookups: dict[Lookup, Entries] = {}
        self.tables: dict[str, list[Entries]] = {}

    def begin(self, data_version: int) -> None:
        """A transaction starts: when another connection has committed since, forget everything."""
        if data_version != self.version:
            self.clear()
            self.version = data_version

    def clear(self) -> None:
        """Forget every entry (a rollback, an unknown change)."""
        for entries in self.lookups.values():
            entries.clear()

    def get(self, lookup: Lookup, params: dict[str, Any]) -> Any:
        """The cached row for these parameters, or None."""
        entries = self.lookups.get(lookup)
        if entries is None:
            return None
        key = row_key(lookup, params)
        row = entries.rows.get(key)
        if row is not None:
            entries.rows.move_to_end(key)
        return row

    def put(self, lookup: Lookup, params: dict[str, Any], rows: list[Any], results: dict[str, Any]) -> None:
        """Remember what the database answered (a single row; no row is not remembered)."""
        entries = self.lookups.get(lookup)
        if entries is None:
            entries = self.lookups[lookup] = Entries(lookup, results)
            self.tables.setdefault(lookup.table, []).append(entries)
        if len(rows) != 1:
            return
        key, row = row_key(lookup, params), rows[0]
        entries.drop(key)
        entries.rows[key] = row
        entries.ids[row.id] = key
        if len(entries.rows) > lookup.size:
            entries.drop(next(iter(entries.rows)))

    def inserted(self, table: str, params: dict[str, Any]) -> None:
        """A row was inserted: the lookups its key columns name may now answer otherwise."""
        for entries in self.tables.get(table, ()):
            if all(name in params for name in entries.lookup.key):
                entries.drop(row_key(entries.lookup, params))
            else:
                entries.clear()

    def saved(self, table: str, row_id: int, values: dict[str, Any], binds: dict[str, Any]) -> None:
        """The row `row_id` was updated with `values`: update it where cached, as a read would return it."""
        for entries in self.tables.get(table, ()):
            keeps = entries.lookup.keeps
            key = entries.ids.get(row_id)
            if key is None:
                if keeps is not None:  # a row not cached may now answer some key
                    entries.clear()
                continue
            results = entries.results
            changed = {name: _as_read(value, binds.get(name), results.get(name)) for name, value in values.items()}
            row = entries.rows[key]._replace(**changed)
            if keeps is None or keeps(row):
                entries.rows[key] = row
            else:
                entries.drop(key)

    def changed(self, table: str | None) -> None:
        """Rows of `table` (None: of any table) changed in a way the cache cannot follow."""
        for entries in self.lookups.values() if table is None else self.tables.get(table, ()):
            entries.clear()

    def verify(self, lookup: Lookup, params: dict[str, Any], cached_row: Any, fresh: list[Any]) -> None:
        """Raise when a cached row is not what the database holds."""
        if fresh != [cached_row]:
            raise StaleRow(f"{lookup.name} {row_key(lookup, params)}: cached {cached_row}, stored {fresh}")


def row_key(lookup: Lookup, params: dict[str, Any]) -> Key:
    """The entry key of a lookup's parameters."""
    return tuple(params[name] for name in lookup.key)


def _as_read(value: Any, bind: Callable[[Any], Any] | None, result: Callable[[Any], Any] | None) -> Any:
    """A value written through its bind processor, as a read through the result processor returns it."""
    if value is None:
        return None
    stored = bind(value) if bind is not None else value
    return result(stored) if result is not None and stored is not None else stored
