"""Random leaderboard data written through SQL, and the same data as the reference sees it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.leaderboard import LEVELS, Entry, Person
from storage.rows import initiatives, units, users

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội
STATUSES = (
    "submitted",
    "in_review",
    "changes_requested",
    "resubmitted",
    "approved",
    "approved",
    "rejected",
    "withdrawn",
)


@dataclass
class Data:
    """Rows as written: units, people and initiatives (keyed by id)."""

    unit_names: dict[int, str] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)

    def entries(self, campaign_key: str) -> list[Entry]:
        """The initiatives of one campaign as the rules see them."""
        return [
            Entry(
                r["author_id"],
                r["unit_id"],
                r["status"],
                r["submitted_at"],
                r["recognised_level"],
                r["decided_at"],
                r["applied_at"],
            )
            for r in self.rows.values()
            if r["campaign_key"] == campaign_key
        ]


def unit_row(unit_id: int, name: str) -> dict[str, Any]:
    """Column values of a unit."""
    return {
        "id": unit_id,
        "code": f"U{unit_id}",
        "name": name,
        "name_folded": name.lower(),
        "sector": "enterprise",
        "level": "grassroots",
        "headcount": 100,
        "review_mode": "single",
        "quorum": 1,
        "covers_below": False,
    }


def user_row(user_id: int, name: str | None, unit_id: int | None, deleted: bool = False) -> dict[str, Any]:
    """Column values of a registered person."""
    return {
        "id": user_id,
        "channel": "telegram",
        "external_id": str(user_id),
        "locale": "vi",
        "reg_step": "done",
        "full_name": name,
        "unit_id": unit_id,
        "editing_profile": False,
        "deleted": deleted,
        "created_at": NOW,
        "updated_at": NOW,
    }


def initiative_row(author_id: int, unit_id: int | None, status: str, **values: Any) -> dict[str, Any]:
    """Column values of an initiative (timestamps and level as given, else None)."""
    row = {
        "campaign_key": "c2026",
        "author_id": author_id,
        "unit_id": unit_id,
        "status": status,
        "step": "draft" if status == "draft" else "done",
        "editing": False,
        "author_percent": 100,
        "created_at": NOW - timedelta(days=90),
        "updated_at": NOW,
        "version": 0,
        "review_round": 0,
        "submitted_at": None,
        "recognised_level": None,
        "decided_at": None,
        "applied_at": None,
    }
    row.update(values)
    return row


def random_data(seed: int, *, people: int = 80, count: int = 700) -> Data:
    """Units, people and initiatives with many equal scores and equal times (to test ties)."""
    rng = random.Random(seed)
    data = Data()
    for unit_id in range(1, 9):
        data.unit_names[unit_id] = f"Công đoàn đơn vị {unit_id}"
    for user_id in range(1, people + 1):
        unit = rng.choice([None, *data.unit_names]) if rng.random() < 0.1 else rng.choice(list(data.unit_names))
        data.people[user_id] = Person(f"Người lao động {user_id}", unit, rng.random() < 0.05)
    # Few distinct instants, so that equal points reached at the same time happen.
    moments = [NOW - timedelta(days=rng.randrange(40), hours=rng.randrange(3)) for _ in range(30)]
    drafted: set[int] = set()
    weights = [rng.paretovariate(1.3) for _ in data.people]
    for row_id in range(1, count + 1):
        author = rng.choices(list(data.people), weights)[0]
        status = rng.choice(STATUSES)
        if rng.random() < 0.05 and author not in drafted:
            status = "draft"
            drafted.add(author)
        home = data.people[author].unit_id
        unit = home if rng.random() < 0.9 else rng.choice([None, *data.unit_names])
        values: dict[str, Any] = {"campaign_key": "c2026" if rng.random() < 0.85 else "c2024"}
        if status != "draft":
            values["submitted_at"] = rng.choice(moments)
        if rng.random() < 0.45 and status != "draft":
            values["recognised_level"] = rng.choice([*LEVELS, "national"])
            values["decided_at"] = rng.choice(moments) if rng.random() < 0.95 else None
            if rng.random() < 0.5:
                values["applied_at"] = rng.choice(moments)
        data.rows[row_id] = {"id": row_id, **initiative_row(author, unit, status, **values)}
    return data


async def write(conn: Any, data: Data) -> None:
    """Insert the data (triggers fire as for the bot's own writes)."""
    await conn.execute(insert(units), [unit_row(k, v) for k, v in data.unit_names.items()])
    await conn.execute(insert(users), [user_row(k, p.name, p.unit_id, p.deleted) for k, p in data.people.items()])
    await conn.execute(insert(initiatives), list(data.rows.values()))
