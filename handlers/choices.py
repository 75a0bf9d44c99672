"""Buttons for channels that have none: numbered lines, and a typed number or option text read back."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from functools import partial

from bot.i18n import Catalog
from bot.messages import PRIVATE_CHAT_LINK, Button, Choice, Reply
from bot.textnorm import search_words
from handlers.plain import plain

Render = Callable[[str, dict[str, object]], str]


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


def labels(catalog: Catalog, locale: str) -> Render:
    """How a label (or any text) of these channels is rendered: markup escaped, then dropped."""
    return partial(catalog.render, locale, escape=html.escape)


class NumberedMenus:
    """The core's `Numbering` for channels without buttons: the options of the replies, numbered
    across them; an answer read back by number or text (the core keeps each chat's menu)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def offered(self, locale: str, replies: list[Reply]) -> list[Choice] | None:
        """The options these replies number; None when nothing is shown (the menu stays)."""
        return choices(replies, labels(self.catalog, locale)) if replies else None

    def pick(self, answer: str, shown: list[Choice]) -> str | None:
        """The data of the option `answer` names."""
        return pick(answer, shown)
