"""Queries about people and units: users, units, reviewer rights, group chats, handled updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, delete, func, insert, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain import Grant, RegStep, Unit, User, UserRef
from bot.ports import UpdatesPruned
from bot.textnorm import fold
from storage.rows import (
    UNIT_FIELDS,
    USER_FIELDS,
    Queries,
    new_id,
    notices,
    processed,
    reviewers,
    to_unit,
    to_user,
    units,
    users,
)

USER_BY_REF = select(users).where(
    users.c.channel == bindparam("channel"), users.c.external_id == bindparam("external_id")
)
# FOR NO KEY UPDATE: one person's updates go one at a time, and still another transaction may add a
# row that refers to the person (a message to them in the outbox: its foreign key check takes KEY
# SHARE, which FOR UPDATE would block, a deadlock when that transaction holds what this one waits for).
# SQLite leaves it out: its writer is alone anyway.
USER_BY_REF_LOCKED = USER_BY_REF.with_for_update(key_share=True)
USER_BY_ID = select(users).where(users.c.id == bindparam("id"))
INSERT_USER = insert(users)
UNIT_BY_ID = select(units).where(units.c.id == bindparam("id"))
UNITS_PER_QUERY = 500
MAX_DEPTH = 16  # levels of a unit chain read at most (a parent loop in the data cannot run away)
# Unit fields bot.toml only seeds: set in chat too (/reviewgroup), so a stored value wins.
SEEDED_ONLY = frozenset({"review_chat"})


def _claim(insert_into: Any) -> Any:
    """Insert a handled update; an id kept from before `seen_after` is taken over, not a repeat."""
    new = insert_into(processed)
    return new.on_conflict_do_update(
        index_elements=[processed.c.channel, processed.c.seq],
        set_={"created_at": new.excluded.created_at},
        where=processed.c.created_at < bindparam("seen_after"),
    )


CLAIM_UPDATE = {"sqlite": _claim(sqlite_insert), "postgresql": _claim(postgresql_insert)}
# Two messages of a new group at once (PostgreSQL, two processes) must not both tell it: one row wins.
CLAIM_NOTICE = {
    "sqlite": sqlite_insert(notices).on_conflict_do_nothing(index_elements=["chat_key"]),
    "postgresql": postgresql_insert(notices).on_conflict_do_nothing(index_elements=["chat_key"]),
}


ACTIVE_GRANTS = (
    select(reviewers.c.id.label("grant_id"), users, units.c.id.label("g_unit_id"))
    .join(users, users.c.id == reviewers.c.user_id)
    .join(units, units.c.id == reviewers.c.unit_id)
    .where(reviewers.c.revoked_at.is_(None))
)
GRANTS_OF_UNIT = ACTIVE_GRANTS.where(reviewers.c.unit_id == bindparam("unit_id")).order_by(users.c.full_name)
_UNIT_SEARCHES: dict[int, Any] = {}


def _unit_search(words: int) -> Any:
    """The unit search by name for this many words, built once per number of words."""
    stmt = _UNIT_SEARCHES.get(words)
    if stmt is None:
        contains = [units.c.name_folded.like(bindparam(f"w{i}"), escape="\\") for i in range(words)]
        ordered = select(units).where(*contains).order_by(func.length(units.c.name), units.c.name)
        stmt = _UNIT_SEARCHES[words] = ordered.limit(bindparam("limit"))
    return stmt


def _contains(folded: str) -> list[str]:
    """LIKE patterns: contains each word of `folded` (LIKE wildcards escaped with a backslash)."""
    words = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in folded.split()]
    return [f"%{w}%" for w in words]


def _like_all(column: Any, folded: str) -> list[Any]:
    """Conditions: the column contains every word of `folded`."""
    return [column.like(pattern, escape="\\") for pattern in _contains(folded)]


class PeopleQueries(Queries):
    """Users, units and reviewer rights."""

    async def user_by_ref(self, ref: UserRef, *, for_update: bool = False) -> User | None:
        """Return the person behind `ref`, if known (their row locked until commit if asked)."""
        stmt = USER_BY_REF_LOCKED if for_update else USER_BY_REF
        row = (await self.conn.execute(stmt, {"channel": ref.channel, "external_id": ref.external_id})).first()
        return self._read_user(row)

    async def user(self, user_id: int) -> User | None:
        """Return a person by id."""
        return self._read_user((await self.conn.execute(USER_BY_ID, {"id": user_id})).first())

    def _read_user(self, row: Any) -> User | None:
        """Map a user row read for a later save, remembering its values."""
        if row is None:
            return None
        self.remember(users, row)
        return to_user(row)

    async def create_user(self, ref: UserRef, *, locale: str, now: datetime) -> User:
        """Create a person at the first registration step."""
        values: dict[str, Any] = {"channel": ref.channel, "external_id": ref.external_id, "locale": locale}
        values.update(reg_step=RegStep.LANGUAGE.value, editing_profile=False, deleted=False, last_channel=ref.channel)
        result = await self.conn.execute(INSERT_USER, {**values, "created_at": now, "updated_at": now})
        return User(id=new_id(result), ref=ref, locale=locale, last_channel=ref.channel)

    async def save_user(self, user: User, *, now: datetime) -> None:
        """Store the mutable fields of `user` that changed."""
        values = {name: getattr(user, name, None) for name in USER_FIELDS}
        values.update(reg_step=user.reg_step.value, updated_at=now)
        values["name_folded"] = fold(user.full_name)[:200] if user.full_name else None
        await self.save_changed(users, user.id, values)

    async def set_step_keyboard(self, ref: UserRef, keyboard: str | None) -> bool:
        """Remember which message ("chat:message id") carries the buttons of the step the person
        `ref` is at; False when `ref` is nobody's own account (a linked one, say)."""
        stmt = update(users).where(users.c.channel == ref.channel, users.c.external_id == ref.external_id)
        return bool((await self.conn.execute(stmt.values(step_keyboard=keyboard))).rowcount)

    async def unblock(self, user_id: int) -> None:
        """Someone who had blocked the bot writes again: messages may reach them again."""
        await self.conn.execute(update(users).where(users.c.id == user_id).values(blocked_at=None))

    async def find_users(
        self,
        *,
        phone: str | None = None,
        username: str | None = None,
        name: str | None = None,
        limit: int = 8,
    ) -> list[User]:
        """Registered people matching a phone, a @username or the words of a name."""
        stmt = select(users).where(users.c.deleted.is_(False), users.c.reg_step == RegStep.DONE.value)
        if phone:
            stmt = stmt.where(users.c.phone == phone)
        elif username:
            stmt = stmt.where(func.lower(users.c.username) == username.lower())
        elif name:
            stmt = stmt.where(*_like_all(users.c.name_folded, name))
        else:
            return []
        rows = await self.conn.execute(stmt.order_by(users.c.full_name).limit(limit))
        return [to_user(r) for r in rows]

    async def claim_update(self, channel: str, seq: int, *, now: datetime, seen_after: datetime) -> bool:
        """Record an update as handled; False when it was handled after `seen_after` (a repeated
        delivery). An older row with the same id is from before Telegram started its ids over."""
        result = await self.conn.execute(
            CLAIM_UPDATE[self.dialect], {"channel": channel, "seq": seq, "created_at": now, "seen_after": seen_after}
        )
        return bool(result.rowcount)

    async def prune_updates(self, *, before: datetime, after: tuple[str, int] | None, scan: int) -> UpdatesPruned:
        """Look at up to `scan` handled updates in key order past `after`, forget those older than
        `before`; returns how many went and where to go on (None once the table is done)."""
        key = tuple_(processed.c.channel, processed.c.seq)
        page = select(processed.c.channel, processed.c.seq, processed.c.created_at).order_by(*key.clauses).limit(scan)
        if after is not None:
            page = page.where(key > tuple_(*after))
        rows = (await self.conn.execute(page)).all()
        old = [(channel, seq) for channel, seq, created_at in rows if created_at < before]
        if old:
            await self.conn.execute(delete(processed).where(key.in_(old)))
        going_on = (rows[-1][0], rows[-1][1]) if len(rows) == scan else None
        return UpdatesPruned(len(old), going_on)

    async def claim_group_notice(self, chat_key: str, *, now: datetime) -> bool:
        """True the first time a group chat is seen."""
        result = await self.conn.execute(CLAIM_NOTICE[self.dialect], {"chat_key": chat_key, "created_at": now})
        return bool(result.rowcount)

    async def unit(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""
        row = (await self.conn.execute(UNIT_BY_ID, {"id": unit_id})).first()
        return to_unit(row) if row else None

    async def unit_by_code(self, code: str) -> Unit | None:
        """Return a unit by its code (case-insensitive)."""
        row = (await self.conn.execute(select(units).where(func.upper(units.c.code) == code.upper()))).first()
        return to_unit(row) if row else None

    async def unit_by_review_chat(self, chat_key: str) -> list[Unit]:
        """Return the units whose council works in this group chat."""
        rows = await self.conn.execute(select(units).where(units.c.review_chat == chat_key))
        return [to_unit(r) for r in rows]

    async def set_review_chat(self, unit_id: int, chat_key: str | None) -> None:
        """Name (or clear) the group chat where a unit's review cards go."""
        await self.conn.execute(update(units).where(units.c.id == unit_id).values(review_chat=chat_key))

    async def search_units(self, folded: str, *, limit: int) -> list[Unit]:
        """Return units whose folded name contains every word of `folded`, shortest names first."""
        patterns = _contains(folded)
        params: dict[str, Any] = {f"w{i}": pattern for i, pattern in enumerate(patterns)}
        rows = await self.conn.execute(_unit_search(len(patterns)), {**params, "limit": limit})
        return [to_unit(row) for row in rows]

    async def unit_chain(self, unit_id: int) -> list[Unit]:
        """Return the unit and its ancestors, nearest first (one recursive query, 16 levels at most)."""
        depth = literal_column("0", Integer).label("depth")
        chain = select(units, depth).where(units.c.id == unit_id).cte("chain", recursive=True)
        upper = select(units, (chain.c.depth + 1).label("depth"))
        chain = chain.union_all(upper.where(units.c.id == chain.c.parent_id, chain.c.depth < MAX_DEPTH - 1))
        return [to_unit(row) for row in await self.conn.execute(select(chain).order_by(chain.c.depth))]

    async def descendants(self, unit_ids: list[int]) -> list[int]:
        """Return the ids of every unit below the given ones (not the given ones themselves)."""
        tree = select(units.c.id).where(units.c.parent_id.in_(unit_ids)).cte("tree", recursive=True)
        tree = tree.union_all(select(units.c.id).where(units.c.parent_id == tree.c.id))
        return [r[0] for r in await self.conn.execute(select(tree.c.id))]

    async def upsert_unit(self, code: str, values: dict[str, Any], parent_code: str | None) -> None:
        """Create or update a unit from configuration (parents must come first). The file owns the
        unit's structure; what is also set in chat or on the CLI (`SEEDED_ONLY`) is only written
        where nothing is stored yet, so a restart never undoes it."""
        parent = await self.unit_by_code(parent_code) if parent_code else None
        row = {k: values.get(k) for k in UNIT_FIELDS if k in values}
        row.update(name_folded=fold(values["name"]), parent_id=parent.id if parent else None)
        existing = await self.unit_by_code(code)
        if not existing:
            await self.conn.execute(insert(units).values(code=code, **row))
            return
        owned = {k: v for k, v in row.items() if k not in SEEDED_ONLY}
        await self.conn.execute(update(units).where(units.c.id == existing.id).values(**owned))
        for name in SEEDED_ONLY & row.keys():
            if row[name] is not None:
                empty = units.c[name].is_(None)
                await self.conn.execute(update(units).where(units.c.id == existing.id, empty).values({name: row[name]}))

    async def grant(self, user_id: int, unit_id: int, *, by: int | None, now: datetime) -> bool:
        """Give a person reviewer rights on a unit; False if they already have them."""
        active = select(reviewers.c.id).where(
            reviewers.c.user_id == user_id,
            reviewers.c.unit_id == unit_id,
            reviewers.c.revoked_at.is_(None),
        )
        if (await self.conn.execute(active)).first():
            return False
        await self.conn.execute(
            insert(reviewers).values(user_id=user_id, unit_id=unit_id, granted_by=by, granted_at=now)
        )
        return True

    async def revoke(self, grant_id: int, *, now: datetime) -> bool:
        """Take a reviewer right away; False if it was not active."""
        stmt = update(reviewers).where(reviewers.c.id == grant_id, reviewers.c.revoked_at.is_(None))
        result = await self.conn.execute(stmt.values(revoked_at=now))
        return bool(result.rowcount)

    async def grants(self, *, unit_ids: list[int] | None = None, user_id: int | None = None) -> list[Grant]:
        """Active reviewer rights, optionally of some units or of one person (by unit, then name)."""
        if unit_ids is not None and user_id is None:
            rows = [
                row
                for unit_id in sorted(set(unit_ids))
                for row in await self.conn.execute(GRANTS_OF_UNIT, {"unit_id": unit_id})
            ]
        else:
            stmt = ACTIVE_GRANTS
            if unit_ids is not None:
                stmt = stmt.where(reviewers.c.unit_id.in_(unit_ids))
            if user_id is not None:
                stmt = stmt.where(reviewers.c.user_id == user_id)
            rows = (await self.conn.execute(stmt.order_by(reviewers.c.unit_id, users.c.full_name))).all()
        found = await self.units_by_id(sorted({row.g_unit_id for row in rows}))
        return [Grant(row.grant_id, to_user(row), found[row.g_unit_id]) for row in rows]

    async def units_by_id(self, unit_ids: list[int]) -> dict[int, Unit]:
        """The units of these ids, read a few hundred per query."""
        found: dict[int, Unit] = {}
        for start in range(0, len(unit_ids), UNITS_PER_QUERY):
            stmt = select(units).where(units.c.id.in_(unit_ids[start : start + UNITS_PER_QUERY]))
            found.update((row.id, to_unit(row)) for row in await self.conn.execute(stmt))
        return found

    async def forget_user(self, user_id: int, *, now: datetime) -> None:
        """Delete personal data; initiatives stay with the author anonymised."""
        await self.conn.execute(
            update(reviewers)
            .where(reviewers.c.user_id == user_id, reviewers.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.forget_seen(users, user_id)
        await self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                external_id=f"deleted-{user_id}",
                full_name=None,
                name_folded=None,
                phone=None,
                username=None,
                consent_at=None,
                pending_unit_code=None,
                awaiting=None,
                step_keyboard=None,
                deleted=True,
                reg_step=RegStep.LANGUAGE.value,
                updated_at=now,
            )
        )

    async def person_record(self, user_id: int) -> dict[str, Any]:
        """Return the stored fields of a person (for their data export)."""
        row = (await self.conn.execute(USER_BY_ID, {"id": user_id})).one()
        hidden = ("id", "editing_profile", "name_folded", "awaiting")
        return {k: v for k, v in row._mapping.items() if k not in hidden}
