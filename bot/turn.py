"""The context of one handled update: transaction, person, time and configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.campaigns import CampaignBook
from bot.clock import local
from bot.config import Config
from bot.domain import Initiative, Tally, User
from bot.messages import Notice, Reply
from bot.ports import Tx


@dataclass
class Turn:
    """Everything a flow step needs to decide and store."""

    tx: Tx
    user: User
    now: datetime
    config: Config
    book: CampaignBook = field(default_factory=CampaignBook)
    finder: Any = None
    notices: list[Notice] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    kept: list[tuple[str, Reply]] = field(default_factory=list)  # answers also kept in the outbox (key prefix)
    alert: str | None = None
    campaigns_changed: bool = False

    async def similar(self, item: Initiative) -> list[Any]:
        """Earlier initiatives of the campaign that look like `item` (duplicate hints)."""
        return await self.finder.hints(self.tx, item, self.after_commit) if self.finder is not None else []

    async def log_action(
        self,
        item: Initiative,
        action: str,
        before: str,
        *,
        comment: str | None = None,
        scores: str | None = None,
        tally: Tally | None = None,
    ) -> None:
        """Append this person's action on `item` (which left `before`) to the initiative's audit log
        (with a `tally`: the council's decision that this person's vote completed, under no one's name)."""
        actor = None if tally else self.user.id
        await self.tx.record_action(
            item,
            actor_id=actor,
            action=action,
            from_status=before,
            comment=comment,
            scores=scores,
            tally=tally,
            now=self.now,
        )

    def notify(self, chat: str, locale: str, *replies: Reply) -> None:
        """Tell another chat: written to the outbox with this update's changes, sent once they commit."""
        self.notices.append(Notice(chat, locale, replies))

    @property
    def today(self) -> date:
        """The local date in the configured time zone."""
        return local(self.now, self.config.bot.timezone).date()

    def local_time(self, moment: datetime) -> datetime:
        """Convert a stored time to the configured time zone."""
        return local(moment, self.config.bot.timezone)
