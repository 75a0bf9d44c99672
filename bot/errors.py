"""Domain errors: each carries the locale key (and arguments) of the answer the user gets."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule was broken; `key` names the message that explains it to the user."""

    def __init__(self, key: str, **args: Any) -> None:
        super().__init__(key)
        self.key = key
        self.args_ = args


class InvalidInput(DomainError):
    """The user's answer could not be accepted; the conversation stays where it was."""
