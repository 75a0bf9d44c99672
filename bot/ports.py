"""What the core needs from storage, as protocols; `storage/` implements them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.domain import Attachment, AuditEntry, Grant, Initiative, Unit, User, UserRef, Vote


class PeoplePort(Protocol):
    """People, units and reviewer rights."""

    async def user_by_ref(self, ref: UserRef) -> User | None:
        """Return the person behind `ref`, if known."""

    async def user(self, user_id: int) -> User | None:
        """Return a person by id."""

    async def create_user(self, ref: UserRef, *, locale: str, now: datetime) -> User:
        """Create a person at the first registration step."""

    async def save_user(self, user: User, *, now: datetime) -> None:
        """Store every mutable field of `user`."""

    async def find_users(
        self,
        *,
        phone: str | None = None,
        username: str | None = None,
        name: str | None = None,
        limit: int = 8,
    ) -> list[User]:
        """Registered people matching a phone, a @username or the words of a (folded) name."""

    async def claim_update(self, channel: str, seq: int, *, now: datetime) -> bool:
        """Record an update as handled; False when it was handled before (a repeated delivery)."""

    async def prune_updates(self, *, before: datetime) -> int:
        """Forget handled updates older than `before`; returns how many were removed."""

    async def claim_group_notice(self, chat_key: str, *, now: datetime) -> bool:
        """True the first time a group chat is seen (to say once that the bot works in private)."""

    async def unit(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""

    async def unit_by_code(self, code: str) -> Unit | None:
        """Return a unit by its code (case-insensitive)."""

    async def unit_by_review_chat(self, chat_key: str) -> list[Unit]:
        """Return the units whose council works in this group chat."""

    async def set_review_chat(self, unit_id: int, chat_key: str | None) -> None:
        """Name (or clear) the group chat where a unit's review cards go."""

    async def search_units(self, folded: str, *, limit: int) -> list[Unit]:
        """Return units whose folded name contains every word of `folded`."""

    async def unit_chain(self, unit_id: int) -> list[Unit]:
        """Return the unit and its ancestors, nearest first."""

    async def descendants(self, unit_ids: list[int]) -> list[int]:
        """Return the ids of every unit below the given ones."""

    async def grant(self, user_id: int, unit_id: int, *, by: int | None, now: datetime) -> bool:
        """Give a person reviewer rights on a unit; False if they already have them."""

    async def revoke(self, grant_id: int, *, now: datetime) -> bool:
        """Take a reviewer right away; False if it was not active."""

    async def grants(
        self, *, unit_ids: list[int] | None = None, user_id: int | None = None
    ) -> list[Grant]:
        """Active reviewer rights, optionally of some units or of one person."""

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Return everything stored about a person."""

    async def forget_person(self, user_id: int, *, now: datetime) -> None:
        """Delete personal data; initiatives stay with the author anonymised."""


class InitiativePort(Protocol):
    """Initiatives and their children."""

    async def draft_of(self, author_id: int) -> Initiative | None:
        """Return what the author is writing: a draft, or an initiative being revised."""

    async def create_draft(self, initiative: Initiative, *, now: datetime) -> Initiative:
        """Insert a new draft and return it with its id."""

    async def save_initiative(self, initiative: Initiative, *, now: datetime) -> None:
        """Store every field of the initiative (not its children)."""

    async def save_if_unchanged(
        self, initiative: Initiative, *, expected_version: int, now: datetime
    ) -> bool:
        """Store the initiative only if nobody changed it since `expected_version` was read."""

    async def delete_draft(self, initiative_id: int) -> None:
        """Remove a draft and its children (never a submitted initiative)."""

    async def load_children(self, initiative: Initiative) -> None:
        """Fill co-authors and attachments of `initiative`."""

    async def replace_coauthors(self, initiative: Initiative) -> None:
        """Store the initiative's co-authors, replacing earlier ones."""

    async def add_attachment(self, initiative_id: int, attachment: Attachment) -> bool:
        """Attach a file; False when the same file is already attached."""

    async def clear_attachments(self, initiative_id: int) -> None:
        """Remove every attachment of an initiative being written."""

    async def next_code_number(self, year: int) -> int:
        """Return the next sequence number for codes of `year`."""

    async def initiative(self, initiative_id: int) -> Initiative | None:
        """Return an initiative by id, without children."""

    async def initiative_by_code(self, code: str) -> Initiative | None:
        """Return an initiative by its code."""

    async def initiatives_of(
        self, author_id: int, *, offset: int, limit: int
    ) -> tuple[list[Initiative], int]:
        """Return the author's non-draft initiatives, newest first, and how many there are."""

    async def record_event(
        self, kind: str, initiative_id: int, payload: dict[str, Any], *, now: datetime
    ) -> None:
        """Append a domain event for other parts of the system to act on."""


class ReviewPort(Protocol):
    """The review queue, council votes and the audit log."""

    async def queue(
        self,
        unit_ids: list[int],
        *,
        offset: int,
        limit: int,
        category: str | None = None,
        unit_id: int | None = None,
    ) -> tuple[list[Initiative], int]:
        """Initiatives waiting at these units, oldest first, and their number."""

    async def add_vote(
        self,
        initiative_id: int,
        round_: int,
        user_id: int,
        vote: str,
        comment: str | None,
        *,
        now: datetime,
    ) -> bool:
        """Record a council member's vote; False if they already voted in this round."""

    async def votes_of(self, initiative_id: int, round_: int) -> list[Vote]:
        """The votes cast in one round, in order."""

    async def record_action(
        self,
        item: Initiative,
        *,
        actor_id: int | None,
        action: str,
        from_status: str,
        comment: str | None,
        scores: str | None,
        now: datetime,
    ) -> None:
        """Append a line to the audit log."""

    async def audit(self, initiative_id: int) -> list[AuditEntry]:
        """The audit log of an initiative, oldest first."""


class Tx(PeoplePort, InitiativePort, ReviewPort, Protocol):
    """One transaction: everything done through it commits together or not at all."""


class Store(Protocol):
    """A source of transactions."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Open a transaction that commits on success and rolls back on error."""
