"""Queries about initiatives: drafts, their fields and children, codes, lists, domain events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, desc, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from bot.domain import Attachment, CoAuthor, Initiative, Status
from bot.textnorm import fold
from storage.duplicates import candidates_since
from storage.rows import (
    INITIATIVE_FIELDS,
    Queries,
    attachments,
    coauthors,
    counters,
    events,
    initiatives,
    new_id,
    setter,
    to_initiative,
)

# A draft, or an initiative sent back for changes that its author is revising.
WORK_STATUSES = (Status.DRAFT.value, Status.CHANGES_REQUESTED.value)


WORK_ITEM = (
    select(initiatives)
    .where(
        initiatives.c.author_id == bindparam("author_id"),
        # Constants written into the SQL, not bound: SQLite prepares a statement again on every run
        # when a bound value could decide whether a partial index (uq_initiative_one_draft) applies.
        initiatives.c.status.in_([literal_column(f"'{status}'") for status in WORK_STATUSES]),
        initiatives.c.step != literal_column("'done'"),
    )
    .order_by(desc(initiatives.c.updated_at))
    .limit(1)
)
SAVED_FIELDS = (*INITIATIVE_FIELDS, "title_folded")
SAVE_INITIATIVE = setter(initiatives, (*SAVED_FIELDS, "updated_at"))
GUARDED_SAVE = SAVE_INITIATIVE.where(initiatives.c.version == bindparam("_expected"))
INSERT_INITIATIVE = insert(initiatives)
COAUTHORS_OF = select(coauthors).where(coauthors.c.initiative_id == bindparam("id")).order_by(coauthors.c.position)
ATTACHMENTS_OF = select(attachments).where(attachments.c.initiative_id == bindparam("id")).order_by(attachments.c.id)
DELETE_COAUTHORS = delete(coauthors).where(coauthors.c.initiative_id == bindparam("id"))
NEXT_CODE = (
    update(counters)
    .where(counters.c.year == bindparam("_year"))
    .values(last=counters.c.last + 1)
    .returning(counters.c.last)
)
INSERT_EVENT = insert(events)
INITIATIVE_BY_ID = select(initiatives).where(initiatives.c.id == bindparam("id"))
INITIATIVE_FOR_UPDATE = INITIATIVE_BY_ID.with_for_update()


def _values(item: Initiative, now: datetime) -> dict[str, Any]:
    """Column values of an initiative."""
    values: dict[str, Any] = {name: getattr(item, name) for name in INITIATIVE_FIELDS}
    values["status"] = item.status.value
    values["kind"] = item.kind.value if item.kind else None
    values["title_folded"] = fold(item.title)[:200] if item.title else None
    values["updated_at"] = now
    return values


class InitiativeQueries(Queries):
    """Initiatives and their children."""

    async def draft_of(self, author_id: int) -> Initiative | None:
        """Return what the author is writing: a draft, or an initiative being revised."""
        row = (await self.conn.execute(WORK_ITEM, {"author_id": author_id})).first()
        return self._read(row)

    def _read(self, row: Any) -> Initiative | None:
        """Map a row read for a later save, remembering its values."""
        if row is None:
            return None
        self.remember(initiatives, row)
        return to_initiative(row)

    async def create_draft(self, initiative: Initiative, *, now: datetime) -> Initiative:
        """Insert a new draft and return it with its id."""
        values = _values(initiative, now)
        result = await self.conn.execute(
            INSERT_INITIATIVE, {"author_id": initiative.author_id, "created_at": now, **values}
        )
        initiative.id = new_id(result)
        initiative.created_at = now
        return initiative

    async def save_initiative(self, initiative: Initiative, *, now: datetime) -> None:
        """Store the fields of the initiative that changed (not its children)."""
        assert initiative.id is not None
        await self.save_changed(initiatives, initiative.id, _values(initiative, now))

    async def save_if_unchanged(self, initiative: Initiative, *, expected_version: int, now: datetime) -> bool:
        """Store the initiative only if nobody changed it since `expected_version` was read."""
        assert initiative.id is not None
        values = _values(initiative, now)
        params = {"_id": initiative.id, "_expected": expected_version, **values}
        saved = bool((await self.conn.execute(GUARDED_SAVE, params)).rowcount)
        if saved:
            self.seen[(initiatives.name, initiative.id)] = values
        return saved

    async def initiative(self, initiative_id: int, *, for_update: bool = False) -> Initiative | None:
        """Return an initiative by id, without children (locking its row until commit if asked)."""
        stmt = INITIATIVE_FOR_UPDATE if for_update else INITIATIVE_BY_ID
        return self._read((await self.conn.execute(stmt, {"id": initiative_id})).first())

    async def duplicate_candidates(
        self, campaign_key: str, *, after_id: int, limit: int
    ) -> list[tuple[int, str, str, str, str | None]]:
        """(id, code, status, title, start of solution) of submitted initiatives with id > `after_id`."""
        return await candidates_since(self.conn, campaign_key, after_id, limit)

    async def initiative_by_code(self, code: str) -> Initiative | None:
        """Return an initiative by its code (SK-2026-000123)."""
        return self._read(
            (await self.conn.execute(select(initiatives).where(initiatives.c.code == code.upper()))).first()
        )

    async def delete_draft(self, initiative_id: int) -> None:
        """Remove a draft and its children (never a submitted initiative)."""
        stmt = select(initiatives.c.id).where(
            initiatives.c.id == initiative_id, initiatives.c.status == Status.DRAFT.value
        )
        if (await self.conn.execute(stmt)).first() is None:
            return
        await self.conn.execute(delete(coauthors).where(coauthors.c.initiative_id == initiative_id))
        await self.conn.execute(delete(attachments).where(attachments.c.initiative_id == initiative_id))
        await self.conn.execute(delete(initiatives).where(initiatives.c.id == initiative_id))

    async def load_children(self, initiative: Initiative) -> None:
        """Fill co-authors and attachments of `initiative`."""
        rows = await self.conn.execute(COAUTHORS_OF, {"id": initiative.id})
        initiative.coauthors = [CoAuthor(r.name, r.percent) for r in rows]
        rows = await self.conn.execute(ATTACHMENTS_OF, {"id": initiative.id})
        initiative.attachments = [
            Attachment(r.kind, r.file_id, r.file_unique_id, r.size, r.mime_type, r.file_name, r.caption) for r in rows
        ]

    async def replace_coauthors(self, initiative: Initiative) -> None:
        """Store the initiative's co-authors, replacing earlier ones."""
        await self.conn.execute(DELETE_COAUTHORS, {"id": initiative.id})
        if initiative.coauthors:
            rows = [
                {
                    "initiative_id": initiative.id,
                    "position": i,
                    "name": c.name,
                    "percent": c.percent,
                }
                for i, c in enumerate(initiative.coauthors)
            ]
            await self.conn.execute(insert(coauthors), rows)

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
                caption=attachment.caption,
                created_at=datetime.now(UTC),
            )
        )
        return True

    async def clear_attachments(self, initiative_id: int) -> None:
        """Remove every attachment of an initiative being written."""
        await self.conn.execute(delete(attachments).where(attachments.c.initiative_id == initiative_id))

    async def next_code_number(self, year: int) -> int:
        """Return the next sequence number for codes of `year` (atomic within the transaction)."""
        row = (await self.conn.execute(NEXT_CODE, {"_year": year})).first()
        if row:
            return int(row[0])
        try:
            async with self.savepoint():
                await self.conn.execute(insert(counters).values(year=year, last=1))
            return 1
        except IntegrityError:
            return await self.next_code_number(year)

    async def initiatives_of(self, author_id: int, *, offset: int, limit: int) -> tuple[list[Initiative], int]:
        """Return the author's non-draft initiatives, newest first, and how many there are."""
        where = (initiatives.c.author_id == author_id, initiatives.c.status != Status.DRAFT.value)
        total = (await self.conn.execute(select(func.count()).select_from(initiatives).where(*where))).scalar_one()
        stmt = select(initiatives).where(*where).order_by(initiatives.c.id.desc()).offset(offset).limit(limit)
        return [to_initiative(row) for row in (await self.conn.execute(stmt)).all()], int(total)

    async def all_of(self, author_id: int) -> list[Initiative]:
        """Every initiative of an author, with children (for their data export)."""
        items = [
            to_initiative(r)
            for r in await self.conn.execute(select(initiatives).where(initiatives.c.author_id == author_id))
        ]
        for item in items:
            await self.load_children(item)
        return items

    async def delete_drafts_of(self, author_id: int) -> None:
        """Delete an author's drafts (when the account is deleted)."""
        stmt = select(initiatives.c.id).where(
            initiatives.c.author_id == author_id, initiatives.c.status == Status.DRAFT.value
        )
        for (draft_id,) in (await self.conn.execute(stmt)).all():
            await self.delete_draft(draft_id)

    async def record_event(self, kind: str, initiative_id: int, payload: dict[str, Any], *, now: datetime) -> None:
        """Append a domain event for other parts of the system to act on."""
        values = {"kind": kind, "initiative_id": initiative_id, "created_at": now}
        await self.conn.execute(INSERT_EVENT, {**values, "payload": json.dumps(payload, ensure_ascii=False)})
