"""The context of one handled update: transaction, person, time and configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.clock import local
from bot.config import Config
from bot.domain import User
from bot.ports import Tx


@dataclass
class Turn:
    """Everything a flow step needs to decide and store."""

    tx: Tx
    user: User
    now: datetime
    config: Config

    @property
    def today(self) -> date:
        """The local date in the configured time zone."""
        return local(self.now, self.config.bot.timezone).date()

    def local_time(self, moment: datetime) -> datetime:
        """Convert a stored time to the configured time zone."""
        return local(moment, self.config.bot.timezone)
