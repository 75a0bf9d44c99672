"""The SQL implementation of the core's storage port: one transaction over the query mixins."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from bot.config import Campaign, UnitSeed
from storage.campaigns import CampaignQueries
from storage.engine import Conn, Database
from storage.initiatives import InitiativeQueries
from storage.jobs import JobQueries
from storage.leaderboard import LeaderboardQueries
from storage.linking import LinkQueries
from storage.menus import MenuQueries
from storage.merging import MergeQueries
from storage.outbox import OutboxQueries
from storage.people import PeopleQueries
from storage.reviews import ReviewQueries
from storage.routing import RoutingQueries
from storage.sent_cards import SentCardQueries


class SqlTx(
    LinkQueries,
    PeopleQueries,
    InitiativeQueries,
    ReviewQueries,
    CampaignQueries,
    JobQueries,
    OutboxQueries,
    SentCardQueries,
    LeaderboardQueries,
    MenuQueries,
    RoutingQueries,
    MergeQueries,
):
    """One database transaction offering every operation the core needs."""

    def __init__(self, conn: Conn, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self.seen = {}

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Return everything stored about a person."""
        return {
            "person": await self.person_record(user_id),
            "initiatives": await self.all_of(user_id),
        }

    async def forget_person(self, user_id: int, *, now: datetime) -> None:
        """Delete a person's drafts and personal data; submitted initiatives stay, anonymised."""
        await self.delete_drafts_of(user_id)
        await self.forget_menus(user_id)
        await self.forget_user(user_id, now=now)


class Transaction:
    """A transaction of the database, offering the queries."""

    __slots__ = ("database", "inner", "read")

    def __init__(self, database: Database, *, read: bool = False) -> None:
        self.database = database
        self.read = read
        self.inner: AbstractAsyncContextManager[Conn] | None = None

    async def __aenter__(self) -> SqlTx:
        """Begin."""
        self.inner = self.database.read() if self.read else self.database.begin()
        return SqlTx(await self.inner.__aenter__(), self.database.dialect)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        """Commit, or roll back on error."""
        assert self.inner is not None
        await self.inner.__aexit__(kind, error, trace)


class SqlStore:
    """Hands out transactions on one database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def transaction(self) -> Transaction:
        """Open a write transaction that commits on success and rolls back on error."""
        return Transaction(self.database)

    def read(self) -> Transaction:
        """Open a read transaction: one snapshot, never waiting for writers; for long reads of jobs."""
        return Transaction(self.database, read=True)

    async def close(self) -> None:
        """Release the database."""
        await self.database.dispose()


async def seed(store: SqlStore, units: list[UnitSeed], campaigns: list[Campaign], *, now: datetime) -> None:
    """Create or update the configured units (parents first); add configured campaigns not yet stored."""
    async with store.transaction() as tx:
        for unit in units:
            await tx.upsert_unit(unit.code, unit.model_dump(exclude={"code", "parent"}), unit.parent)
        for campaign in campaigns:
            await tx.add_campaign(campaign, now=now)
