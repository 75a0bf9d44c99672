"""Leaderboard rules (points, window, tie-break) and a pure-Python reference implementation.

The rules, which `storage/leaderboard.py` (and the triggers of migration 0009) state again in SQL:

1. Only initiatives whose status is neither `draft` nor `withdrawn` count.
2. A counted initiative yields up to three *events*, each with its own time:
   - submitted: `Points.submitted` at `submitted_at`;
   - recognised: the points of its (highest) `recognised_level` (grassroots, upper or city)
     at `decided_at`;
   - applied: `Points.applied` at `applied_at`.
   An event without its time, or worth 0 points, counts for nothing.
3. A window keeps the events whose own time `t` has `start <= t < end` (an open side keeps all):
   the past week is `Window.week_before(now)`, the campaign so far is `Window()`.
4. A person's score is the sum of their events; `reached_at`, the time of their latest counted
   event, is when they reached that score. People rank by points (more first), then by
   `reached_at` (earlier first), then by id. Only scores above 0 are ranked; people who asked
   to be forgotten (`deleted`) are left out of the people ranking.
5. A unit's score is the sum of the events of the initiatives submitted from it (the author's
   unit at submission), forgotten authors included; units rank like people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

EXCLUDED_STATUSES = frozenset({"draft", "withdrawn"})
LEVELS = ("grassroots", "upper", "city")


class Points(BaseModel):
    """Points earned per event (`[leaderboard.points]` in bot.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    submitted: int = Field(default=1, ge=0, le=1000)
    grassroots: int = Field(default=3, ge=0, le=1000)
    upper: int = Field(default=5, ge=0, le=1000)
    city: int = Field(default=5, ge=0, le=1000)
    applied: int = Field(default=2, ge=0, le=1000)

    def for_level(self, level: str | None) -> int:
        """Points of a recognition at `level` (0 for no or an unknown level)."""
        return int(getattr(self, level)) if level in LEVELS else 0


@dataclass(frozen=True)
class Window:
    """Events whose time `t` has start <= t < end; None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def week_before(cls, end: datetime) -> Window:
        """The seven days before `end`."""
        return cls(end - timedelta(days=7), end)

    @property
    def whole(self) -> bool:
        """True when no side is bounded (the campaign so far)."""
        return self.start is None and self.end is None

    def holds(self, moment: datetime) -> bool:
        """True when `moment` falls inside the window."""
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class Standing:
    """One line of a board: a person (with their unit's name) or a unit."""

    rank: int
    id: int
    name: str | None
    unit_name: str | None
    points: int


@dataclass(frozen=True)
class ReaderRank:
    """The reader's place ("37th of 1,204") and their unit's; None when without points."""

    rank: int | None
    of: int
    unit_rank: int | None
    units: int


@dataclass(frozen=True)
class Board:
    """The top people and units, how many of each have points, and the reader's rank if asked."""

    people: list[Standing]
    units: list[Standing]
    total_people: int
    total_units: int
    reader: ReaderRank | None = None


@dataclass(frozen=True)
class Ranking:
    """Everyone's rank (id → rank), to tell each reader of a broadcast their own place."""

    people: dict[int, int]
    units: dict[int, int]

    def reader(self, user_id: int, unit_id: int | None) -> ReaderRank:
        """The rank of one reader and of their unit."""
        unit_rank = self.units.get(unit_id) if unit_id is not None else None
        return ReaderRank(self.people.get(user_id), len(self.people), unit_rank, len(self.units))


@dataclass(frozen=True)
class Entry:
    """An initiative as the rules see it."""

    author_id: int
    unit_id: int | None
    status: str
    submitted_at: datetime | None = None
    recognised_level: str | None = None
    decided_at: datetime | None = None
    applied_at: datetime | None = None


@dataclass(frozen=True)
class Person:
    """What the reference needs of a person."""

    name: str | None
    unit_id: int | None
    deleted: bool = False


@dataclass
class Tally:
    """A running score and the time it was reached."""

    points: int = 0
    reached_at: datetime | None = None

    def add(self, points: int, at: datetime) -> None:
        """Count one event."""
        self.points += points
        if self.reached_at is None or at > self.reached_at:
            self.reached_at = at


@dataclass
class Tallies:
    """Scores per person and per unit."""

    people: dict[int, Tally] = field(default_factory=dict)
    units: dict[int, Tally] = field(default_factory=dict)


def events(entry: Entry, points: Points) -> list[tuple[datetime, int]]:
    """The counted events of one initiative: (time, points), rules 1 and 2."""
    if entry.status in EXCLUDED_STATUSES:
        return []
    found = [
        (entry.submitted_at, points.submitted),
        (entry.decided_at, points.for_level(entry.recognised_level)),
        (entry.applied_at, points.applied),
    ]
    return [(at, worth) for at, worth in found if at is not None and worth > 0]


def tally(entries: Iterable[Entry], points: Points, window: Window) -> Tallies:
    """Add up the events inside `window` per author and per unit."""
    result = Tallies()
    for entry in entries:
        for at, worth in events(entry, points):
            if window.holds(at):
                result.people.setdefault(entry.author_id, Tally()).add(worth, at)
                if entry.unit_id is not None:
                    result.units.setdefault(entry.unit_id, Tally()).add(worth, at)
    return result


def ranked(scores: Mapping[int, Tally]) -> list[tuple[int, Tally]]:
    """Scores above 0 in rank order: more points, then earlier reached, then lower id."""
    kept = [(key, t) for key, t in scores.items() if t.points > 0 and t.reached_at is not None]
    return sorted(kept, key=lambda item: (-item[1].points, item[1].reached_at, item[0]))


def _unit_name(person: Person, unit_names: Mapping[int, str]) -> str | None:
    """The name of a person's current unit."""
    return unit_names.get(person.unit_id) if person.unit_id is not None else None


def reference(
    entries: Iterable[Entry],
    people: Mapping[int, Person],
    unit_names: Mapping[int, str],
    *,
    points: Points,
    window: Window,
    top_n: int,
) -> tuple[Board, Ranking]:
    """The board and everyone's rank, computed from all rows (tests and benchmark baseline)."""
    scores = tally(entries, points, window)
    visible = {k: t for k, t in scores.people.items() if k in people and not people[k].deleted}
    order = ranked(visible)
    unit_order = ranked(scores.units)
    top = [
        Standing(rank, key, people[key].name, _unit_name(people[key], unit_names), t.points)
        for rank, (key, t) in enumerate(order[:top_n], start=1)
    ]
    top_units = [
        Standing(rank, key, unit_names.get(key), None, t.points)
        for rank, (key, t) in enumerate(unit_order[:top_n], start=1)
    ]
    board = Board(top, top_units, len(order), len(unit_order))
    ranking = Ranking(
        {key: rank for rank, (key, _) in enumerate(order, start=1)},
        {key: rank for rank, (key, _) in enumerate(unit_order, start=1)},
    )
    return board, ranking
