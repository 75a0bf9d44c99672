"""Queries of the review cards sent: the channel's message id of each, by initiative and chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.outbox import utc
from storage.rows import Queries, metadata

sent_cards = metadata.tables["sent_card"]
INSERT: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


class SentCardQueries(Queries):
    """Where each initiative's latest review card is, in every chat it was sent to."""

    async def record_card(self, initiative_id: int, chat: str, message_id: int, now: datetime) -> int | None:
        """Keep `message_id` as the initiative's card in `chat`; returns the one it replaces (None:
        the first, or the same message shown again)."""
        where = (sent_cards.c.initiative_id == initiative_id, sent_cards.c.chat == chat)
        stmt = select(sent_cards.c.message_id).where(*where).with_for_update()
        before = (await self.conn.execute(stmt)).scalar()
        values = {"initiative_id": initiative_id, "chat": chat, "message_id": message_id, "sent_at": utc(now)}
        insert = INSERT[self.dialect](sent_cards).values(values)
        upsert = insert.on_conflict_do_update(
            index_elements=["initiative_id", "chat"],
            set_={"message_id": insert.excluded.message_id, "sent_at": insert.excluded.sent_at},
        )
        await self.conn.execute(upsert)
        return int(before) if before is not None and before != message_id else None

    async def card_message(self, initiative_id: int, chat: str) -> int | None:
        """The message id of the initiative's latest card in `chat`, if one was sent."""
        stmt = select(sent_cards.c.message_id).where(
            sent_cards.c.initiative_id == initiative_id, sent_cards.c.chat == chat
        )
        found = (await self.conn.execute(stmt)).scalar()
        return int(found) if found is not None else None

    async def forget_cards(self, initiative_id: int, chats: list[str]) -> None:
        """The initiative's cards in these chats lost their buttons: nothing is left to change there."""
        if chats:
            await self.conn.execute(
                delete(sent_cards).where(sent_cards.c.initiative_id == initiative_id, sent_cards.c.chat.in_(chats))
            )

    async def card_messages(self, initiative_id: int) -> dict[str, int]:
        """The message id of the initiative's latest card in every chat it was sent to."""
        stmt = select(sent_cards.c.chat, sent_cards.c.message_id).where(sent_cards.c.initiative_id == initiative_id)
        return {row.chat: int(row.message_id) for row in await self.conn.execute(stmt)}
