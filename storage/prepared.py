"""Hot statements: built once, compiled once for SQLite, then run straight on the DB-API cursor.

SQLAlchemy's execution layer costs about 0.15 ms per statement on the bench machine, several times
what SQLite itself takes for the few rows one update touches (BENCHMARKS.md). A statement marked
with `prepared()` is compiled once per set of parameter names; each run then only converts the
parameters with the statement's own bind processors, calls the cursor, and converts the row
values with the columns' result processors (dates, booleans). Anything a plan cannot reproduce
exactly (expanding IN lists, callable defaults) is refused when the plan is built, and such a
statement keeps going through SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError, MultipleResultsFound, NoResultFound
from sqlmodel.sql.sqltypes import UTCDateTime

T = TypeVar("T")
_PREPARED: dict[int, Any] = {}


def prepared(statement: T) -> T:
    """Mark a statement built once at import as hot; it is returned unchanged."""
    _PREPARED[id(statement)] = statement
    return statement


def is_prepared(statement: Any) -> bool:
    """True for a statement marked with `prepared()`."""
    return _PREPARED.get(id(statement)) is statement


class Unsupported(Exception):
    """The statement needs SQLAlchemy's execution layer."""


class Plan:
    """One statement compiled for SQLite: its SQL, how to build its parameters, how to read its rows."""

    __slots__ = ("bind_processors", "binds", "convert", "required", "result_processors", "row", "sql", "to_bind")

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if compiled.post_compile_params or compiled.literal_execute_params or compiled.positiontup is None:
            raise Unsupported("expanding or literal parameters")
        defaults: dict[str, Any] = {}
        for column in compiled.insert_prefetch:
            defaults[column.key] = _scalar(column.default)
        for column in compiled.update_prefetch:
            defaults[column.key] = _scalar(column.onupdate)
        binds, required = [], set()
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.callable is not None:
                raise Unsupported("callable parameter")
            if bind.required and name not in defaults:
                required.add(name)
            binds.append((name, defaults.get(name, bind.value)))
        processors = compiled._bind_processors
        self.sql: str = compiled.string
        self.binds = tuple(binds)
        self.required = frozenset(required)
        bound = [
            (i, _bind_processor(compiled.binds[name].type, processors[name]))
            for i, (name, _) in enumerate(binds)
            if name in processors
        ]
        self.to_bind = tuple((i, p, _keeps_null(p)) for i, p in bound)
        self.bind_processors = {binds[i][0]: p for i, p in bound}
        entries = compiled._result_columns
        result = [_result_processor(entry[3], dialect) for entry in entries]
        self.convert = tuple((i, p, _keeps_null(p)) for i, p in enumerate(result) if p is not None)
        self.result_processors = {entries[i][0]: p for i, p in enumerate(result) if p is not None}
        self.row = _row_type([entry[0] for entry in entries]) if entries else None

    def run(self, cursor: sqlite3.Cursor, params: dict[str, Any]) -> PlanResult:
        """Execute on `cursor` with `params` (by name, as SQLAlchemy takes them)."""
        if self.required and not params.keys() >= self.required:
            missing = ", ".join(sorted(self.required - params.keys()))
            raise InvalidRequestError(f"A value is required for bind parameter(s) {missing}")
        get = params.get
        values = [get(name, default) for name, default in self.binds]
        for i, processor, keeps_null in self.to_bind:
            if values[i] is not None or not keeps_null:
                values[i] = processor(values[i])
        try:
            cursor.execute(self.sql, values)
            raw = cursor.fetchall() if self.row is not None else []
        except sqlite3.Error as error:
            raise DBAPIError.instance(self.sql, values, error, sqlite3.Error) from error
        return PlanResult(self._rows(raw) if raw else [], cursor.rowcount, cursor.lastrowid)

    def _rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        """Named rows, each column through its result processor (dates, booleans)."""
        assert self.row is not None
        make = self.row._make
        if not self.convert:
            return list(map(make, raw))
        rows = []
        for values in raw:
            row = list(values)
            for i, processor, keeps_null in self.convert:
                if row[i] is not None or not keeps_null:
                    row[i] = processor(row[i])
            rows.append(make(row))
        return rows


class _Last:
    """The datetime `utc_text` converted last (datetimes are immutable): an update stores its
    `now` several times (claim, save, cached row), and `isoformat` is most of the cost."""

    value: datetime | None = None
    text = ""


def utc_text(value: datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy stores a `UTCDateTime` in SQLite (UTC, no offset, to the
    microsecond), in C calls instead of SQLAlchemy's two Python layers and %-formatting."""
    if value is None:
        return None
    if value is _Last.value:
        return _Last.text
    if value.utcoffset() is None:
        raise ValueError("Datetime values must have timezone information.")
    text = value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]  # without "+00:00"
    _Last.value, _Last.text = value, text
    return text


def utc_datetime(value: str | None) -> datetime | None:
    """A stored `UTCDateTime` read back as SQLAlchemy reads it: an aware datetime in UTC."""
    if value is None:
        return None
    if 19 <= len(value) <= 26:  # date and time as stored, no offset: parse as UTC (5x less than replace())
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _bind_processor(type_: Any, alchemy: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """How a parameter of this type is converted for the cursor (same result as SQLAlchemy's)."""
    return utc_text if isinstance(type_, UTCDateTime) else alchemy


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a column of this type is read from the cursor (same result as SQLAlchemy's)."""
    return utc_datetime if isinstance(type_, UTCDateTime) else type_._cached_result_processor(dialect, None)


def _keeps_null(processor: Any) -> bool:
    """True when the processor turns None into None (most do), so a NULL can skip it."""
    try:
        return processor(None) is None
    except Exception:
        return False


def _row_type(names: list[str]) -> Any:
    """A named tuple type for the rows, with `_mapping` like SQLAlchemy's rows."""
    base = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    return type("Row", (base,), {"__slots__": (), "_mapping": property(lambda row: row._asdict())})


def _scalar(default: Any) -> Any:
    """The value of a plain column default; anything computed is refused."""
    if default is None or not default.is_scalar:
        raise Unsupported("computed column default")
    return default.arg


class PlanResult:
    """The rows and counts of one prepared run, read the way SQLAlchemy results are read."""

    __slots__ = ("lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self.rows, self.rowcount, self.lastrowid = rows, rowcount, lastrowid

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    @property
    def inserted_primary_key(self) -> tuple[int | None]:
        """The new row's id (SQLite's rowid)."""
        return (self.lastrowid,)

    def first(self) -> Any:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def all(self) -> list[Any]:
        """Every row."""
        return list(self.rows)

    fetchall = all

    def one(self) -> Any:
        """The only row; an error when there is none or more."""
        if len(self.rows) != 1:
            raise NoResultFound("no row") if not self.rows else MultipleResultsFound("several rows")
        return self.rows[0]

    def one_or_none(self) -> Any:
        """The only row or None; an error when there are more."""
        return self.one() if self.rows else None

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        """The first column of the only row."""
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        """The first column of the only row, or None."""
        row = self.one_or_none()
        return row[0] if row is not None else None
