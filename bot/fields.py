"""The fields of the submission flow, in order: what each asks for and how its answer is read."""

from __future__ import annotations

from dataclasses import dataclass

SUMMARY = "summary"


@dataclass(frozen=True)
class FieldSpec:
    """One question of the flow: its name, the kind of answer, and whether it can be skipped."""

    name: str
    kind: str  # text | category | type | money | date | shares | files
    optional: bool = False
    short: bool = False  # limited to the title length rather than the field length


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("title", "text", short=True),
    FieldSpec("category", "category"),
    FieldSpec("kind", "type"),
    FieldSpec("problem", "text"),
    FieldSpec("solution", "text"),
    FieldSpec("benefit", "text"),
    FieldSpec("benefit_vnd", "money"),
    FieldSpec("applied_since", "date"),
    FieldSpec("coauthors", "shares", optional=True),
    FieldSpec("conditions", "text", optional=True),
    FieldSpec("confidential", "text", optional=True),
    FieldSpec("attachments", "files", optional=True),
)
BY_NAME = {spec.name: spec for spec in FIELDS}
NAMES = tuple(spec.name for spec in FIELDS)


def spec(name: str) -> FieldSpec:
    """Return the field called `name` (KeyError if there is none)."""
    return BY_NAME[name]


def position(name: str) -> int:
    """Return the 1-based position of a field (the summary counts as one past the last)."""
    return NAMES.index(name) + 1 if name in BY_NAME else len(FIELDS) + 1


def following(name: str) -> str:
    """Return the field after `name`, or the summary after the last."""
    index = NAMES.index(name)
    return NAMES[index + 1] if index + 1 < len(NAMES) else SUMMARY


def preceding(name: str) -> str | None:
    """Return the field before `name`, or None for the first."""
    if name == SUMMARY:
        return NAMES[-1]
    index = NAMES.index(name)
    return NAMES[index - 1] if index > 0 else None
