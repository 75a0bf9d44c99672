"""What the core needs from storage, as protocols; `storage/` implements them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.domain import Attachment, Initiative, Unit, User, UserRef


class Tx(Protocol):
    """One transaction: everything done through it commits together or not at all."""

    async def user_by_ref(self, ref: UserRef) -> User | None:
        """Return the person behind `ref`, if known."""

    async def create_user(self, ref: UserRef, *, locale: str, now: datetime) -> User:
        """Create a person at the first registration step."""

    async def save_user(self, user: User, *, now: datetime) -> None:
        """Store every mutable field of `user`."""

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

    async def search_units(self, folded: str, *, limit: int) -> list[Unit]:
        """Return units whose folded name contains every word of `folded`."""

    async def draft_of(self, author_id: int) -> Initiative | None:
        """Return the author's open draft, without children."""

    async def create_draft(self, initiative: Initiative, *, now: datetime) -> Initiative:
        """Insert a new draft and return it with its id."""

    async def save_initiative(self, initiative: Initiative, *, now: datetime) -> None:
        """Store every field of the initiative (not its children)."""

    async def delete_draft(self, initiative_id: int) -> None:
        """Remove a draft and its children."""

    async def load_children(self, initiative: Initiative) -> None:
        """Fill co-authors and attachments of `initiative`."""

    async def replace_coauthors(self, initiative: Initiative) -> None:
        """Store the initiative's co-authors, replacing earlier ones."""

    async def add_attachment(self, initiative_id: int, attachment: Attachment) -> bool:
        """Attach a file; False when the same file is already attached."""

    async def clear_attachments(self, initiative_id: int) -> None:
        """Remove every attachment of a draft."""

    async def next_code_number(self, year: int) -> int:
        """Return the next sequence number for codes of `year`."""

    async def initiative(self, initiative_id: int) -> Initiative | None:
        """Return an initiative by id, without children."""

    async def initiatives_of(
        self, author_id: int, *, offset: int, limit: int
    ) -> tuple[list[Initiative], int]:
        """Return the author's non-draft initiatives, newest first, and how many there are."""

    async def record_event(
        self, kind: str, initiative_id: int, payload: dict[str, Any], *, now: datetime
    ) -> None:
        """Append a domain event for other parts of the system to act on."""

    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Return everything stored about a person."""

    async def forget_person(self, user_id: int, *, now: datetime) -> None:
        """Delete personal data; initiatives stay with the author anonymised."""


class Store(Protocol):
    """A source of transactions."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Open a transaction that commits on success and rolls back on error."""
