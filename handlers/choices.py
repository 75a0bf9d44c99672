"""Buttons for channels that have none: numbered lines, and a typed number or option text read back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.messages import PRIVATE_CHAT_LINK, Button, Reply
from bot.textnorm import search_words
from handlers.plain import plain

Render = Callable[[str, dict[str, object]], str]


@dataclass(frozen=True)
class Choice:
    """One numbered option: its label as shown, and the callback data it stands for."""

    label: str
    data: str


def choices(replies: Iterable[Reply], render: Render) -> list[Choice]:
    """Every button of `replies` in order, numbered from 1 across them."""
    return [
        Choice(plain(render(button.label, button.args)), button.data)
        for reply in replies
        for row in reply.buttons
        for button in row
        if button.data != PRIVATE_CHAT_LINK  # no such link outside Telegram: the person is already there
    ]


def pick(answer: str, shown: list[Choice]) -> str | None:
    """The data of the option `answer` names, by its number or its text (diacritics, case and
    punctuation optional); None when it names none."""
    typed = answer.strip().rstrip(".)")
    if typed.isdigit():
        number = int(typed)
        return shown[number - 1].data if 1 <= number <= len(shown) else None
    key = search_words(answer)
    if not key:
        return None
    matches = {choice.data for choice in shown if search_words(choice.label) == key}
    return matches.pop() if len(matches) == 1 else None


def reply_buttons(reply: Reply) -> list[Button]:
    """The buttons of one reply, row after row."""
    return [button for row in reply.buttons for button in row]
