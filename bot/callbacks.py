"""Button data as one small typed class per action, encoded and decoded here only (`v1:<action>:<args>`).

Every class is a frozen dataclass registered under a short action name; its fields, in order, are
the arguments on the wire (an `int` field carries digits, a `str` field `[a-z0-9_]{1,24}`), and the
whole payload stays within Telegram's 64 bytes.

Buttons already sent in chats: the typed classes did not change the wire format, so `VERSION`
is still "v1" and a button sent before them decodes to the same press; it is then checked against
the person's state and the item's version like any other press. Anything that changes what a
payload means must bump `VERSION`: payloads of another version, unknown actions, a wrong number of
arguments or a malformed one decode to None, and the person is told the button is out of date.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass, fields
from typing import ClassVar, get_type_hints

VERSION = "v1"
MAX_BYTES = 64
_ARG = re.compile(r"^[a-z0-9_]{1,24}$")

ACTIONS: dict[str, type[Callback]] = {}


class Callback:
    """A decoded button press; subclasses name their action: `class Open(Callback, action="open")`."""

    action: ClassVar[str] = ""

    def __init_subclass__(cls, *, action: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if action:  # an intermediate base (e.g. DraftCallback) has no action of its own
            if action in ACTIONS:
                raise ValueError(f"callback action {action!r} declared twice")
            cls.action = action
            ACTIONS[action] = cls

    def encode(self) -> str:
        """The button's data; raises ValueError if it breaks the format or Telegram's 64 bytes."""
        kinds = _arg_types(type(self))
        parts = []
        for kind, value in zip(kinds, astuple(self), strict=True):  # type: ignore[call-overload]
            if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"bad callback argument {value!r} in {self}")
            text = str(value)
            if not _ARG.fullmatch(text):
                raise ValueError(f"bad callback argument {text!r} in {self}")
            parts.append(text)
        data = ":".join([VERSION, self.action, *parts])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError("callback data over 64 bytes")
        return data


_TYPES: dict[str, tuple[type, ...]] = {}


def _arg_types(cls: type[Callback]) -> tuple[type, ...]:
    """The types of a callback class's arguments, in wire order (read once per class)."""
    if cls.action not in _TYPES:
        hints = get_type_hints(cls)
        _TYPES[cls.action] = tuple(hints[f.name] for f in fields(cls))  # type: ignore[arg-type]
    return _TYPES[cls.action]


def decode(data: str) -> Callback | None:
    """Decode untrusted button data; None when it is malformed, unknown or of another version."""
    if len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != VERSION or parts[1] not in ACTIONS:
        return None
    cls, raw = ACTIONS[parts[1]], parts[2:]
    kinds = _arg_types(cls)
    if len(raw) != len(kinds) or not all(_ARG.fullmatch(a) for a in raw):
        return None
    if any(kind is int and not a.isdigit() for kind, a in zip(kinds, raw, strict=True)):
        return None
    return cls(*(int(a) if kind is int else a for kind, a in zip(kinds, raw, strict=True)))


# Registration and the main menu


@dataclass(frozen=True)
class SetLanguage(Callback, action="lang"):
    """Choose the language: vi | en."""

    code: str


@dataclass(frozen=True)
class Consent(Callback, action="consent"):
    """Consent to the processing of personal data: yes | no."""

    answer: str


@dataclass(frozen=True)
class PickUnit(Callback, action="unit"):
    """A unit picked from the search results."""

    unit: int


@dataclass(frozen=True)
class MenuChoice(Callback, action="menu"):
    """A main-menu button: new | my | help | profile | privacy."""

    choice: str


@dataclass(frozen=True)
class EditProfile(Callback, action="prof"):
    """Edit one profile field: name | phone | unit | language."""

    field: str


@dataclass(frozen=True)
class PrivacyChoice(Callback, action="priv"):
    """A /privacy button: export | delete | deleteok."""

    choice: str


@dataclass(frozen=True)
class SetReminders(Callback, action="rem"):
    """Switch reminders or the weekly leaderboard: on | off | board_on | board_off."""

    choice: str


# The submission flow: every press names the draft it was shown for


@dataclass(frozen=True)
class DraftCallback(Callback):
    """A button of the submission flow, valid only for the person's open draft."""

    draft: int


@dataclass(frozen=True)
class PickCategory(DraftCallback, action="cat"):
    """A category, by its index in the campaign's list."""

    index: int


@dataclass(frozen=True)
class PickKind(DraftCallback, action="type"):
    """The initiative's type (an InitiativeType value)."""

    kind: str


@dataclass(frozen=True)
class SkipField(DraftCallback, action="skip"):
    """Leave the optional field the button was shown on empty."""

    field: str


@dataclass(frozen=True)
class StepBack(DraftCallback, action="back"):
    """Go back from the field the button was shown on."""

    field: str


@dataclass(frozen=True)
class NotQuantifiable(DraftCallback, action="noval"):
    """The money field the button was shown on cannot be quantified ("Không xác định được")."""

    field: str


@dataclass(frozen=True)
class FilesDone(DraftCallback, action="done"):
    """No more files."""


@dataclass(frozen=True)
class ClearFiles(DraftCallback, action="clearf"):
    """Remove the files sent so far."""


@dataclass(frozen=True)
class Submit(DraftCallback, action="submit"):
    """Submit the summary of this version."""

    version: int


@dataclass(frozen=True)
class SubmitAnyway(DraftCallback, action="subok"):
    """Submit despite look-alike initiatives."""

    version: int


@dataclass(frozen=True)
class ChooseField(DraftCallback, action="edit"):
    """Show the list of fields to edit."""


@dataclass(frozen=True)
class EditField(DraftCallback, action="editf"):
    """Edit one field from the summary."""

    field: str


@dataclass(frozen=True)
class ToSummary(DraftCallback, action="summary"):
    """Back to the summary."""


@dataclass(frozen=True)
class CancelDraft(DraftCallback, action="cancel"):
    """Ask to confirm cancelling (or pausing a revision)."""


@dataclass(frozen=True)
class ConfirmCancel(DraftCallback, action="cancelok"):
    """Cancelling confirmed."""


@dataclass(frozen=True)
class ResumeDraft(DraftCallback, action="resume"):
    """Continue the open draft where it stopped."""


@dataclass(frozen=True)
class RestartDraft(DraftCallback, action="restart"):
    """Start again: ask before discarding the open draft."""


@dataclass(frozen=True)
class ConfirmRestart(DraftCallback, action="restartok"):
    """Starting over confirmed: the open draft's answers are discarded."""


@dataclass(frozen=True)
class AnswerAgain(DraftCallback, action="same"):
    """Take a repeated answer after all (it was identical to the previous field's answer)."""

    version: int


# The author's initiatives


@dataclass(frozen=True)
class MyPage(Callback, action="my"):
    """A page of /my."""

    page: int


@dataclass(frozen=True)
class OpenInitiative(Callback, action="open"):
    """Show one initiative to its author."""

    initiative: int


@dataclass(frozen=True)
class AskWithdraw(Callback, action="wd"):
    """Ask to confirm withdrawing."""

    initiative: int


@dataclass(frozen=True)
class ConfirmWithdraw(Callback, action="wdok"):
    """Withdrawal confirmed for this version."""

    initiative: int
    version: int


@dataclass(frozen=True)
class Revise(Callback, action="revise"):
    """The author revises after the reviewers requested changes."""

    initiative: int


# Review and administration


@dataclass(frozen=True)
class ReviewAction(Callback, action="rv"):
    """A card button: ap as rj ch fw dt apl, on this version of the initiative."""

    act: str
    initiative: int
    version: int


@dataclass(frozen=True)
class RejectReason(Callback, action="rr"):
    """A common rejection reason, by its index."""

    initiative: int
    version: int
    reason: int


@dataclass(frozen=True)
class AppliedAsGiven(Callback, action="apd"):
    """Mark applied: the day first applied is the one the author gave (yyyymmdd, to check it still is)."""

    initiative: int
    version: int
    day: int


@dataclass(frozen=True)
class CancelQuestion(Callback, action="rvx"):
    """Leave the reviewer's pending question unanswered and show the card again."""

    initiative: int


@dataclass(frozen=True)
class ShowCard(Callback, action="card"):
    """Show an initiative's review card."""

    initiative: int


@dataclass(frozen=True)
class PendingPage(Callback, action="pq"):
    """A page of the pending queue: unit id (0 = all), category key (all = every)."""

    page: int
    unit: int
    category: str


@dataclass(frozen=True)
class GrantPerson(Callback, action="gp"):
    """Admin: grant reviewer rights to this person."""

    user: int


@dataclass(frozen=True)
class GrantUnit(Callback, action="gu"):
    """Admin: grant this person rights at this unit."""

    user: int
    unit: int


@dataclass(frozen=True)
class RevokeGrant(Callback, action="rk"):
    """Admin: revoke this grant."""

    grant: int
