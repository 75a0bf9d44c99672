"""What the core hands to channels: inbound events in, replies (locale keys + arguments) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Attachment, UserRef
from bot.i18n import Msg


@dataclass(frozen=True)
class Text:
    """A typed text message."""

    text: str


@dataclass(frozen=True)
class Command:
    """A slash command such as /start with its argument text."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class Press:
    """A button press carrying (untrusted) callback data."""

    data: str


@dataclass(frozen=True)
class Contact:
    """A shared contact; `own` is True when the contact is the sender's own."""

    phone: str
    own: bool


@dataclass(frozen=True)
class Upload:
    """A photo or document sent by the user."""

    attachment: Attachment


@dataclass(frozen=True)
class Other:
    """Anything else: a sticker, voice note, location, video note…"""

    kind: str


@dataclass(frozen=True)
class Edited:
    """A message the person edited after sending it (the answer it gave was taken as first sent)."""


Payload = Text | Command | Press | Contact | Upload | Other | Edited


@dataclass(frozen=True)
class Choice:
    """One numbered option of a channel without buttons: its label as shown, and the data it stands for."""

    label: str
    data: str


class Numbering(Protocol):
    """How a channel without buttons numbers the buttons of its replies and reads an answer back."""

    def offered(self, locale: str, replies: list[Reply]) -> list[Choice] | None:
        """The options `replies` show, numbered in order ([]: a menu is no longer shown; None:
        nothing was shown, the menu stays)."""

    def pick(self, answer: str, shown: list[Choice]) -> str | None:
        """The data of the option a typed answer names, or None."""


@dataclass(frozen=True)
class Inbound:
    """One update from a channel, translated at the edge."""

    ref: UserRef
    payload: Payload
    seq: int = 0
    private: bool = True
    chat_key: str = ""
    username: str | None = None
    reply_to: UserRef | None = None
    numbering: Numbering | None = None  # a channel without buttons: its menus are kept per chat
    pressed: int | None = None  # the message whose button was pressed, where the channel tells


@dataclass(frozen=True)
class Button:
    """A button: a label (locale key + args) and the callback data it sends (PRIVATE_CHAT_LINK:
    none, it opens the person's private chat with the bot where the channel has such links)."""

    label: str
    data: str
    args: dict[str, Any] = field(default_factory=dict)


PRIVATE_CHAT_LINK = "link:private"


@dataclass(frozen=True)
class FileOut:
    """A file to send to the user (for example their data export); `alt` is what a picture shows, as
    a message, for a chat that cannot be shown the picture (sent in its place)."""

    name: str
    content: bytes
    alt: Msg | None = None


KEEP_TEXT = ""  # the key of an edit that changes only the buttons of a message (none: removes them)


@dataclass(frozen=True)
class Reply:
    """One message to send: a locale key with arguments, buttons in rows, and extras.

    `edit` changes the pressed message in place, or the message `target` (a message id in the
    chat); in the outbox, where nothing was pressed, it changes the review card of initiative
    `card` sent to the chat before. A message with `card` is that initiative's review card: its
    channel keeps its message id, so that it can be edited later."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask_contact: bool = False
    remove_keyboard: bool = False
    edit: bool = False
    file: FileOut | None = None
    media: tuple[Attachment, ...] = ()
    notice: str | None = None
    card: int | None = None
    target: int | None = None
    question: bool = False  # a step of registration or submission: its buttons go once answered by typing

    @property
    def edits_earlier(self) -> bool:
        """True for an edit of an earlier message than the pressed one (a step's buttons): a channel
        without edits shows nothing for it."""
        return self.edit and self.target is not None


def strip_buttons(message_id: int) -> Reply:
    """An edit that removes the buttons of an earlier message."""
    return Reply(KEEP_TEXT, edit=True, target=message_id)


def rows(*buttons: Button, per_row: int = 1) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out `per_row` to a row."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


@dataclass(frozen=True)
class Notice:
    """Replies for another chat than the update's own (a reviewer, an author, a group)."""

    chat: str
    locale: str
    replies: tuple[Reply, ...]


@dataclass(frozen=True)
class Outcome:
    """What the core answers to one event: replies (in which language) and a popup for the button
    presser; what it tells others is in the outbox already."""

    locale: str
    replies: list[Reply]
    alert: str | None = None
    kept: tuple[str, ...] = ()  # outbox keys of replies also kept there: confirm with `delivered`
    keyboard: str | None = None  # "chat:message id" of the step's buttons the core knows of now


@dataclass(frozen=True)
class Shown:
    """Messages of an answer that the core keeps track of, once the channel sent them: review cards
    ((initiative, message id)) and the message carrying the buttons of the step asked."""

    chat: str
    cards: tuple[tuple[int, int], ...] = ()
    question: int | None = None

    @staticmethod
    def of(chat: str, replies: list[Reply], messages: dict[int, int]) -> Shown:
        """What to keep of `replies` sent in `chat`, given the message carrying each one's buttons."""
        cards = tuple((r.card, messages[i]) for i, r in enumerate(replies) if r.card is not None and i in messages)
        asked = [messages[i] for i, r in enumerate(replies) if r.question and r.buttons and i in messages]
        return Shown(chat, cards, asked[-1] if asked else None)


class Core(Protocol):
    """The one service every channel adapter calls (`bot.conversation.Conversation`)."""

    async def handle(self, event: Inbound) -> Outcome:
        """Process one event."""

    async def delivered(self, keys: tuple[str, ...]) -> None:
        """The answer went out: replies it also kept in the outbox are not sent again."""

    async def shown(self, event: Inbound, outcome: Outcome, shown: Shown) -> None:
        """The answer's cards and step buttons went out as these messages: keep track of them."""


def private_chat(ref: UserRef) -> str:
    """The chat key of a person's private chat with the bot."""
    return f"{ref.channel}:{ref.external_id}"
