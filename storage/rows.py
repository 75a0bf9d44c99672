"""Table handles, statement builders and the mapping of rows to domain types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row, bindparam, update

from bot.domain import Initiative, InitiativeType, RegStep, Status, Unit, User, UserRef
from storage.engine import Conn
from storage.tables import metadata

units = metadata.tables["unit"]
users = metadata.tables["app_user"]
initiatives = metadata.tables["initiative"]
coauthors = metadata.tables["coauthor"]
attachments = metadata.tables["attachment"]
counters = metadata.tables["code_counter"]
events = metadata.tables["domain_event"]
notices = metadata.tables["group_notice"]
processed = metadata.tables["processed_update"]
reviewers = metadata.tables["reviewer"]
votes = metadata.tables["review_vote"]
actions = metadata.tables["review_action"]

USER_FIELDS = (
    "locale",
    "reg_step",
    "full_name",
    "name_folded",
    "phone",
    "unit_id",
    "consent_at",
    "pending_unit_code",
    "editing_profile",
    "username",
    "awaiting",
    "step_keyboard",
    "reminders_off",
    "leaderboard_off",
    "deleted",
    "last_channel",
    "updated_at",
)
INITIATIVE_FIELDS = (
    "code",
    "campaign_key",
    "unit_id",
    "status",
    "step",
    "editing",
    "title",
    "category",
    "kind",
    "problem",
    "solution",
    "benefit",
    "benefit_vnd",
    "applied_since",
    "applied_month_only",
    "author_percent",
    "conditions",
    "confidential",
    "submitted_at",
    "decision_due",
    "version",
    "review_unit_id",
    "review_level",
    "recognised_level",
    "queued_at",
    "review_round",
    "decided_at",
    "decided_by",
    "applied_at",
    "applied_benefit_vnd",
    "snapshot",
    "changed_fields",
)
UNIT_FIELDS = (
    "name",
    "name_folded",
    "parent_id",
    "sector",
    "level",
    "headcount",
    "review_mode",
    "quorum",
    "review_chat",
    "covers_below",
)


class Queries:
    """Base of the query mixins: one connection, one transaction, and the rows it has read.

    A save writes only the columns that differ from the row as this transaction read or last
    wrote it: an UPDATE that names an indexed column rewrites that index entry even when the value
    is the same, and every page it touches is written to the WAL at commit.
    """

    conn: Conn
    dialect: str
    seen: dict[tuple[str, int], Any]

    def remember(self, table: Any, row: Row[Any]) -> None:
        """Note the stored values of a row this transaction read (the row itself: read far more than saved)."""
        self.seen[(table.name, row.id)] = row

    def forget_seen(self, table: Any, row_id: int) -> None:
        """The row was changed by other means: the next save writes every column."""
        self.seen.pop((table.name, row_id), None)

    async def save_changed(self, table: Any, row_id: int, values: dict[str, Any]) -> None:
        """UPDATE the row with those of `values` that changed (`updated_at` always)."""
        key = (table.name, row_id)
        before = self.seen.pop(key, None)
        changed = values
        if before is not None:
            old = before if isinstance(before, dict) else before._mapping
            changed = {k: v for k, v in values.items() if k == "updated_at" or k not in old or old[k] != v}
        await self.conn.execute(setter_of(table, tuple(changed)), {"_id": row_id, **changed})
        self.seen[key] = values

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A savepoint; when it is rolled back, what was read or written before is no longer trusted."""
        try:
            async with self.conn.begin_nested():
                yield
        except BaseException:
            self.seen.clear()
            raise


def setter(table: Any, fields: tuple[str, ...]) -> Any:
    """An UPDATE of `fields` by primary key, built once with bind parameters."""
    return update(table).where(table.c.id == bindparam("_id")).values({f: bindparam(f) for f in fields})


_SETTERS: dict[tuple[str, tuple[str, ...]], Any] = {}


def setter_of(table: Any, fields: tuple[str, ...]) -> Any:
    """The setter of these fields, built on first use (the code has few distinct sets of changes)."""
    key = (table.name, fields)
    statement = _SETTERS.get(key)
    if statement is None:
        statement = _SETTERS[key] = setter(table, fields)
    return statement


def new_id(result: Any) -> int:
    """Return the primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def to_user(row: Row[Any]) -> User:
    """Map a user row to the domain type."""
    return User(
        id=row.id,
        ref=UserRef(row.channel, row.external_id),
        locale=row.locale,
        reg_step=RegStep(row.reg_step),
        full_name=row.full_name,
        phone=row.phone,
        unit_id=row.unit_id,
        consent_at=row.consent_at,
        pending_unit_code=row.pending_unit_code,
        editing_profile=row.editing_profile,
        username=row.username,
        awaiting=row.awaiting,
        step_keyboard=row.step_keyboard,
        reminders_off=row.reminders_off,
        leaderboard_off=row.leaderboard_off,
        blocked=row.blocked_at is not None,
        deleted=row.deleted,
        last_channel=row.last_channel,
    )


def to_unit(row: Row[Any]) -> Unit:
    """Map a unit row to the domain type."""
    return Unit(
        row.id,
        row.code,
        row.name,
        row.parent_id,
        row.sector,
        row.level,
        row.headcount,
        row.review_mode,
        row.quorum,
        row.review_chat,
        row.covers_below,
    )


def to_initiative(row: Row[Any]) -> Initiative:
    """Map an initiative row to the domain type (children not loaded)."""
    values = {name: getattr(row, name) for name in INITIATIVE_FIELDS}
    values["status"] = Status(row.status)
    values["kind"] = InitiativeType(row.kind) if row.kind else None
    return Initiative(
        id=row.id,
        author_id=row.author_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **values,
    )
