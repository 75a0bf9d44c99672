"""The SQL implementation of the core's storage ports, in SQLAlchemy Core over sqlmodel tables."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from bot.domain import (
    Attachment,
    CoAuthor,
    Initiative,
    InitiativeType,
    RegStep,
    Status,
    Unit,
    User,
    UserRef,
)
from bot.textnorm import fold
from storage.engine import Conn, Database
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

_INITIATIVE_FIELDS = (
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
    "author_percent",
    "conditions",
    "confidential",
    "submitted_at",
    "decision_due",
    "version",
)


def _new_id(result: Any) -> int:
    """Return the primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _user(row: Row[Any]) -> User:
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
        deleted=row.deleted,
    )


def _unit(row: Row[Any]) -> Unit:
    """Map a unit row to the domain type."""
    return Unit(row.id, row.code, row.name, row.parent_id, row.sector, row.level, row.headcount)


def _initiative(row: Row[Any]) -> Initiative:
    """Map an initiative row to the domain type (children not loaded)."""
    return Initiative(
        id=row.id,
        author_id=row.author_id,
        unit_id=row.unit_id,
        campaign_key=row.campaign_key,
        status=Status(row.status),
        step=row.step,
        editing=row.editing,
        code=row.code,
        title=row.title,
        category=row.category,
        kind=InitiativeType(row.kind) if row.kind else None,
        problem=row.problem,
        solution=row.solution,
        benefit=row.benefit,
        benefit_vnd=row.benefit_vnd,
        applied_since=row.applied_since,
        author_percent=row.author_percent,
        conditions=row.conditions,
        confidential=row.confidential,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        decision_due=row.decision_due,
        version=row.version,
    )


_USER_FIELDS = (
    "locale", "reg_step", "full_name", "phone", "unit_id", "consent_at",
    "pending_unit_code", "editing_profile", "username", "deleted", "updated_at",
)  # fmt: skip


def _setter(table: Any, fields: tuple[str, ...]) -> Any:
    """An UPDATE of `fields` by primary key, built once with bind parameters."""
    return (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({f: bindparam(f) for f in fields})
    )


# Statements of the per-update path, built once: building a statement costs more than running it.
USER_BY_REF = select(users).where(
    users.c.channel == bindparam("channel"), users.c.external_id == bindparam("external_id")
)
SAVE_USER = _setter(users, _USER_FIELDS)
DRAFT_OF = select(initiatives).where(
    initiatives.c.author_id == bindparam("author_id"), initiatives.c.status == "draft"
)
SAVE_INITIATIVE = _setter(initiatives, (*_INITIATIVE_FIELDS, "title_folded", "updated_at"))
INITIATIVE_BY_ID = select(initiatives).where(initiatives.c.id == bindparam("id"))
UNIT_BY_ID = select(units).where(units.c.id == bindparam("id"))
CLAIM_UPDATE = {
    "sqlite": sqlite_insert(processed).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(processed).on_conflict_do_nothing(),
}


class SqlTx:
    """One database transaction offering the operations the core needs."""

    def __init__(self, conn: Conn, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    async def user_by_ref(self, ref: UserRef) -> User | None:
        """Return the person behind `ref`, if known."""
        row = (
            await self.conn.execute(
                USER_BY_REF, {"channel": ref.channel, "external_id": ref.external_id}
            )
        ).first()
        return _user(row) if row else None

    async def create_user(self, ref: UserRef, *, locale: str, now: datetime) -> User:
        """Create a person at the first registration step."""
        stamp = now
        result = await self.conn.execute(
            insert(users).values(
                channel=ref.channel,
                external_id=ref.external_id,
                locale=locale,
                reg_step=RegStep.LANGUAGE.value,
                created_at=stamp,
                updated_at=stamp,
                editing_profile=False,
                deleted=False,
            )
        )
        return User(id=_new_id(result), ref=ref, locale=locale)

    async def save_user(self, user: User, *, now: datetime) -> None:
        """Store every mutable field of `user`."""
        values = {name: getattr(user, name) for name in _USER_FIELDS if name != "updated_at"}
        values.update(_id=user.id, reg_step=user.reg_step.value, updated_at=now)
        await self.conn.execute(SAVE_USER, values)

    async def claim_update(self, channel: str, seq: int, *, now: datetime) -> bool:
        """Record an update as handled; False when it was handled before (a repeated delivery)."""
        result = await self.conn.execute(
            CLAIM_UPDATE[self.dialect], {"channel": channel, "seq": seq, "created_at": now}
        )
        return bool(result.rowcount)

    async def prune_updates(self, *, before: datetime) -> int:
        """Forget handled updates older than `before`; returns how many were removed."""
        result = await self.conn.execute(delete(processed).where(processed.c.created_at < before))
        return int(result.rowcount)

    async def claim_group_notice(self, chat_key: str, *, now: datetime) -> bool:
        """True the first time a group chat is seen."""
        found = (
            await self.conn.execute(
                select(notices.c.chat_key).where(notices.c.chat_key == chat_key)
            )
        ).first()
        if found:
            return False
        await self.conn.execute(insert(notices).values(chat_key=chat_key, created_at=now))
        return True

    async def unit(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""
        row = (await self.conn.execute(UNIT_BY_ID, {"id": unit_id})).first()
        return _unit(row) if row else None

    async def unit_by_code(self, code: str) -> Unit | None:
        """Return a unit by its code (case-insensitive)."""
        row = (
            await self.conn.execute(select(units).where(func.upper(units.c.code) == code.upper()))
        ).first()
        return _unit(row) if row else None

    async def search_units(self, folded: str, *, limit: int) -> list[Unit]:
        """Return units whose folded name contains every word of `folded`, shortest names first."""
        stmt = select(units)
        for word in folded.split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(units.c.name_folded.like(f"%{escaped}%", escape="\\"))
        stmt = stmt.order_by(func.length(units.c.name), units.c.name).limit(limit)
        return [_unit(row) for row in (await self.conn.execute(stmt)).all()]

    async def upsert_unit(
        self, code: str, name: str, parent_code: str | None, sector: str, level: str, headcount: int
    ) -> None:
        """Create or update a unit from configuration (parents must come first)."""
        parent_id = None
        if parent_code:
            parent = await self.unit_by_code(parent_code)
            parent_id = parent.id if parent else None
        values = dict(
            name=name,
            name_folded=fold(name),
            parent_id=parent_id,
            sector=sector,
            level=level,
            headcount=headcount,
        )
        existing = await self.unit_by_code(code)
        if existing:
            await self.conn.execute(update(units).where(units.c.id == existing.id).values(**values))
        else:
            await self.conn.execute(insert(units).values(code=code, **values))

    async def draft_of(self, author_id: int) -> Initiative | None:
        """Return the author's open draft, without children."""
        row = (await self.conn.execute(DRAFT_OF, {"author_id": author_id})).first()
        return _initiative(row) if row else None

    def _values(self, item: Initiative, now: datetime) -> dict[str, Any]:
        """Column values of an initiative."""
        values: dict[str, Any] = {name: getattr(item, name) for name in _INITIATIVE_FIELDS}
        values["status"] = item.status.value
        values["kind"] = item.kind.value if item.kind else None
        values["submitted_at"] = item.submitted_at
        values["title_folded"] = fold(item.title)[:200] if item.title else None
        values["updated_at"] = now
        return values

    async def create_draft(self, initiative: Initiative, *, now: datetime) -> Initiative:
        """Insert a new draft and return it with its id."""
        values = self._values(initiative, now)
        result = await self.conn.execute(
            insert(initiatives).values(author_id=initiative.author_id, created_at=now, **values)
        )
        initiative.id = _new_id(result)
        initiative.created_at = now
        return initiative

    async def save_initiative(self, initiative: Initiative, *, now: datetime) -> None:
        """Store every field of the initiative (not its children)."""
        await self.conn.execute(
            SAVE_INITIATIVE, {"_id": initiative.id, **self._values(initiative, now)}
        )

    async def delete_draft(self, initiative_id: int) -> None:
        """Remove a draft and its children."""
        await self.conn.execute(delete(coauthors).where(coauthors.c.initiative_id == initiative_id))
        await self.conn.execute(
            delete(attachments).where(attachments.c.initiative_id == initiative_id)
        )
        await self.conn.execute(
            delete(initiatives).where(
                initiatives.c.id == initiative_id, initiatives.c.status == Status.DRAFT.value
            )
        )

    async def load_children(self, initiative: Initiative) -> None:
        """Fill co-authors and attachments of `initiative`."""
        rows = await self.conn.execute(
            select(coauthors)
            .where(coauthors.c.initiative_id == initiative.id)
            .order_by(coauthors.c.position)
        )
        initiative.coauthors = [CoAuthor(r.name, r.percent) for r in rows]
        rows = await self.conn.execute(
            select(attachments)
            .where(attachments.c.initiative_id == initiative.id)
            .order_by(attachments.c.id)
        )
        initiative.attachments = [
            Attachment(r.kind, r.file_id, r.file_unique_id, r.size, r.mime_type, r.file_name)
            for r in rows
        ]

    async def replace_coauthors(self, initiative: Initiative) -> None:
        """Store the initiative's co-authors, replacing earlier ones."""
        await self.conn.execute(delete(coauthors).where(coauthors.c.initiative_id == initiative.id))
        if initiative.coauthors:
            await self.conn.execute(
                insert(coauthors),
                [
                    {
                        "initiative_id": initiative.id,
                        "position": i,
                        "name": c.name,
                        "percent": c.percent,
                    }
                    for i, c in enumerate(initiative.coauthors)
                ],
            )

    async def add_attachment(self, initiative_id: int, attachment: Attachment) -> bool:
        """Attach a file; False when the same file is already attached."""
        stmt = select(attachments.c.id).where(
            attachments.c.initiative_id == initiative_id,
            attachments.c.file_unique_id == attachment.file_unique_id,
        )
        if (await self.conn.execute(stmt)).first():
            return False
        await self.conn.execute(
            insert(attachments).values(
                initiative_id=initiative_id,
                kind=attachment.kind,
                file_id=attachment.file_id,
                file_unique_id=attachment.file_unique_id,
                size=attachment.size,
                mime_type=attachment.mime_type,
                file_name=attachment.file_name,
                created_at=datetime.now(UTC),
            )
        )
        return True

    async def clear_attachments(self, initiative_id: int) -> None:
        """Remove every attachment of a draft."""
        await self.conn.execute(
            delete(attachments).where(attachments.c.initiative_id == initiative_id)
        )

    async def next_code_number(self, year: int) -> int:
        """Return the next sequence number for codes of `year` (atomic within the transaction)."""
        result = await self.conn.execute(
            update(counters)
            .where(counters.c.year == year)
            .values(last=counters.c.last + 1)
            .returning(counters.c.last)
        )
        row = result.first()
        if row:
            return int(row[0])
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(insert(counters).values(year=year, last=1))
            return 1
        except IntegrityError:
            return await self.next_code_number(year)

    async def initiative(self, initiative_id: int) -> Initiative | None:
        """Return an initiative by id, without children."""
        row = (await self.conn.execute(INITIATIVE_BY_ID, {"id": initiative_id})).first()
        return _initiative(row) if row else None

    async def initiatives_of(
        self, author_id: int, *, offset: int, limit: int
    ) -> tuple[list[Initiative], int]:
        """Return the author's non-draft initiatives, newest first, and how many there are."""
        where = (initiatives.c.author_id == author_id, initiatives.c.status != Status.DRAFT.value)
        total = (
            await self.conn.execute(select(func.count()).select_from(initiatives).where(*where))
        ).scalar_one()
        stmt = (
            select(initiatives)
            .where(*where)
            .order_by(initiatives.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_initiative(row) for row in (await self.conn.execute(stmt)).all()], int(total)

    async def record_event(
        self, kind: str, initiative_id: int, payload: dict[str, Any], *, now: datetime
    ) -> None:
        """Append a domain event for other parts of the system to act on."""
        await self.conn.execute(
            insert(events).values(
                kind=kind,
                initiative_id=initiative_id,
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=now,
            )
        )

    async def events(self, kind: str) -> list[dict[str, Any]]:
        """Return recorded events of one kind, oldest first (for routing and tests)."""
        rows = await self.conn.execute(
            select(events).where(events.c.kind == kind).order_by(events.c.id)
        )
        return [{"initiative_id": r.initiative_id, **json.loads(r.payload)} for r in rows]

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Return everything stored about a person."""
        row = (await self.conn.execute(select(users).where(users.c.id == user_id))).one()
        person = {
            k: v for k, v in row._mapping.items() if k not in ("id", "last_seq", "editing_profile")
        }
        items = []
        for irow in await self.conn.execute(
            select(initiatives).where(initiatives.c.author_id == user_id)
        ):
            item = _initiative(irow)
            await self.load_children(item)
            items.append(item)
        return {"person": person, "initiatives": items}

    async def forget_user(self, user_id: int, *, now: datetime) -> None:
        """Delete personal data; initiatives stay with the author anonymised."""
        drafts = select(initiatives.c.id).where(
            initiatives.c.author_id == user_id, initiatives.c.status == Status.DRAFT.value
        )
        for (draft_id,) in (await self.conn.execute(drafts)).all():
            await self.delete_draft(draft_id)
        await self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                external_id=f"deleted-{user_id}",
                full_name=None,
                phone=None,
                username=None,
                consent_at=None,
                pending_unit_code=None,
                deleted=True,
                reg_step=RegStep.LANGUAGE.value,
                updated_at=now,
            )
        )


class SqlStore:
    """Hands out transactions on one engine."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        """Open a transaction that commits on success and rolls back on error."""
        async with self.database.begin() as conn:
            yield SqlTx(conn, self.database.dialect)

    async def close(self) -> None:
        """Release the engine's connections."""
        await self.database.dispose()


async def seed_units(
    store: SqlStore, seeds: list[tuple[str, str, str | None, str, str, int]]
) -> None:
    """Create or update units (code, name, parent code, sector, level, headcount), parents first."""
    async with store.transaction() as tx:
        for code, name, parent, sector, level, headcount in seeds:
            await tx.upsert_unit(code, name, parent, sector, level, headcount)
