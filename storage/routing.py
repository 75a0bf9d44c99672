"""Queries behind where a person's messages go: their chats in every app and the app they used last."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, tuple_, update

from bot.delivery import OutboxItem, Recipient
from storage.outbox import LOOKUP_CHUNK, outbox, to_item
from storage.rows import Queries, metadata, users

links = metadata.tables["account_link"]
PERSON = (
    users.c.id,
    users.c.channel,
    users.c.external_id,
    users.c.blocked_at,
    users.c.reminders_off,
    users.c.leaderboard_off,
    users.c.last_channel,
)


def chunks(items: list[Any]) -> list[list[Any]]:
    """`items` in lists of at most LOOKUP_CHUNK."""
    return [items[start : start + LOOKUP_CHUNK] for start in range(0, len(items), LOOKUP_CHUNK)]


class RoutingQueries(Queries):
    """The people behind chat keys, the chat each uses now, and the outbox rows sent to them."""

    async def recipients(self, chats: list[str]) -> dict[str, Recipient]:
        """The known people behind these chat keys ("telegram:123": an account's own chat, or one
        linked to it), with their delivery flags and their chat in the app they wrote from last."""
        rows: dict[str, Any] = {}
        by_channel: dict[str, list[str]] = {}
        for chat in chats:
            channel, _, external = chat.partition(":")
            by_channel.setdefault(channel, []).append(external)
        for channel, externals in by_channel.items():
            for part in chunks(externals):
                stmt = select(*PERSON).where(users.c.channel == channel, users.c.external_id.in_(part))
                rows.update({f"{row.channel}:{row.external_id}": row for row in await self.conn.execute(stmt)})
        others = [tuple(chat.partition(":")[::2]) for chat in chats if chat not in rows]  # groups, linked apps
        for part in chunks(others):
            stmt = (
                select(links.c.channel.label("at"), links.c.external_id.label("as_"), *PERSON)
                .join(users, users.c.id == links.c.user_id)
                .where(tuple_(links.c.channel, links.c.external_id).in_(part))
            )
            rows.update({f"{row.at}:{row.as_}": row for row in await self.conn.execute(stmt)})
        away = await self._chats_in_last_app([row for row in rows.values() if moved(row)])
        return {
            chat: Recipient(
                row.id,
                row.blocked_at is not None,
                bool(row.reminders_off),
                bool(row.leaderboard_off),
                chat=away.get(row.id, f"{row.channel}:{row.external_id}"),
            )
            for chat, row in rows.items()
        }

    async def _chats_in_last_app(self, people: list[Any]) -> dict[int, str]:
        """The chat of each of these people in the app they wrote from last, where they linked one."""
        found: dict[int, str] = {}
        for part in chunks(sorted({(row.id, row.last_channel) for row in people})):
            stmt = select(links.c.user_id, links.c.channel, links.c.external_id).where(
                tuple_(links.c.user_id, links.c.channel).in_(part)
            )
            found.update(
                {user_id: f"{channel}:{external}" for user_id, channel, external in await self.conn.execute(stmt)}
            )
        return found

    async def chats_of(self, user_id: int) -> list[str]:
        """Every chat of a person: their account's own first, then the apps linked to it, oldest first."""
        own = (
            await self.conn.execute(select(users.c.channel, users.c.external_id).where(users.c.id == user_id))
        ).first()
        linked = await self.conn.execute(
            select(links.c.channel, links.c.external_id).where(links.c.user_id == user_id).order_by(links.c.created_at)
        )
        return [f"{channel}:{external}" for channel, external in [*([own] if own else []), *linked]]

    async def outbox_item(self, id: int) -> OutboxItem | None:
        """One message of the outbox, whatever its state."""
        row = (await self.conn.execute(select(outbox).where(outbox.c.id == id))).first()
        return to_item(row) if row is not None else None

    async def use_channel(self, user_id: int, channel: str) -> None:
        """Send the person's messages to their chat in `channel` from now on."""
        self.forget_seen(users, user_id)
        await self.conn.execute(update(users).where(users.c.id == user_id).values(last_channel=channel))


def moved(row: Any) -> bool:
    """True when the person wrote last from another app than their account's own."""
    return row.last_channel is not None and row.last_channel != row.channel
