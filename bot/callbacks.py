"""Typed, versioned callback data (`v1:<action>:<args>`), encoded and decoded in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64

# action -> number of arguments it carries
ACTIONS: dict[str, int] = {
    "lang": 1,  # set language: vi | en
    "consent": 1,  # yes | no
    "unit": 1,  # pick unit by id
    "menu": 1,  # new | my | help | profile | privacy
    "cat": 2,  # draft id, category index
    "type": 2,  # draft id, type code
    "skip": 2,  # draft id, field
    "back": 2,  # draft id, field the button was shown on
    "done": 1,  # draft id (attachments finished)
    "clearf": 1,  # draft id: remove the files sent so far
    "submit": 2,  # draft id, version
    "subok": 2,  # draft id, version: submit despite look-alikes
    "edit": 1,  # draft id: show the field chooser
    "editf": 2,  # draft id, field
    "summary": 1,  # draft id: back to the summary
    "cancel": 1,  # draft id: ask to confirm
    "cancelok": 1,  # draft id: confirmed
    "resume": 1,  # draft id
    "restart": 1,  # draft id
    "my": 1,  # page
    "open": 1,  # initiative id
    "wd": 1,  # initiative id: ask to confirm withdrawal
    "wdok": 2,  # initiative id, version
    "prof": 1,  # profile field to edit
    "priv": 1,  # export | delete | deleteok
    "revise": 1,  # initiative id: the author revises after changes were requested
    "rv": 3,  # review action (ap as rj ch fw dt apl), initiative id, version
    "rr": 3,  # initiative id, version, index of a common rejection reason
    "card": 1,  # initiative id: show its review card
    "pq": 3,  # pending queue: page, unit id (0 = all), category key (all = every)
    "gp": 1,  # admin: grant rights to this person (user id)
    "gu": 2,  # admin: user id, unit id
    "rk": 1,  # admin: revoke this grant
    "rem": 1,  # reminders: on | off
}

_ARG = re.compile(r"^[a-z0-9_]{1,24}$")


@dataclass(frozen=True)
class Callback:
    """A decoded button press."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        """Return argument `index` as an int, or raise ValueError."""
        value = self.args[index]
        if not value.isdigit():
            raise ValueError(value)
        return int(value)


def encode(action: str, *args: object) -> str:
    """Encode a press; raises ValueError if it breaks the format or Telegram's 64 bytes."""
    if ACTIONS.get(action) != len(args):
        raise ValueError(f"bad callback {action}{args}")
    parts = [str(a) for a in args]
    if not all(_ARG.fullmatch(p) for p in parts):
        raise ValueError(f"bad callback argument in {parts}")
    data = ":".join([VERSION, action, *parts])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def decode(data: str) -> Callback | None:
    """Decode untrusted callback data; None when it is malformed, unknown or of another version."""
    if len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != VERSION or parts[1] not in ACTIONS:
        return None
    args = tuple(parts[2:])
    if len(args) != ACTIONS[parts[1]] or not all(_ARG.fullmatch(a) for a in args):
        return None
    return Callback(parts[1], args)
