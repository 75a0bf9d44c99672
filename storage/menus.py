"""Queries of numbered menus: what each chat without buttons was offered last."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.messages import Choice
from storage.rows import Queries, metadata, users

menus = metadata.tables["offered_menu"]
links = metadata.tables["account_link"]


def _upsert(insert_into: Any) -> Any:
    """Insert a chat's menu, or replace the one it had."""
    new = insert_into(menus)
    return new.on_conflict_do_update(
        index_elements=[menus.c.chat_key],
        set_={"options": new.excluded.options, "offered_at": new.excluded.offered_at},
    )


UPSERT = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(postgresql_insert)}


class MenuQueries(Queries):
    """The menu a chat was offered last, written with the turn (or the send) that offered it."""

    async def offered_menu(self, chat_key: str) -> list[Choice]:
        """The options last numbered in `chat_key` (none: no menu is shown there)."""
        found = (await self.conn.execute(select(menus.c.options).where(menus.c.chat_key == chat_key))).scalar()
        return [Choice(label, data) for label, data in json.loads(found)] if found else []

    async def offer_menu(self, chat_key: str, options: list[Choice], *, now: datetime) -> None:
        """Make `options` the chat's menu (an empty list: it has none)."""
        if not options:
            await self.conn.execute(delete(menus).where(menus.c.chat_key == chat_key))
            return
        stored = json.dumps([[o.label, o.data] for o in options], ensure_ascii=False)
        await self.conn.execute(UPSERT[self.dialect], {"chat_key": chat_key, "options": stored, "offered_at": now})

    async def forget_menus(self, user_id: int) -> None:
        """Drop the menus of a person's private chats, in every app (they may name their initiatives)."""
        own = select((users.c.channel + ":" + users.c.external_id).label("chat")).where(users.c.id == user_id)
        linked = select((links.c.channel + ":" + links.c.external_id).label("chat")).where(links.c.user_id == user_id)
        await self.conn.execute(delete(menus).where(menus.c.chat_key.in_(union_all(own, linked))))
