"""Campaign progress per unit, rolled up the unit hierarchy, with the two public-sector ratios."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Totals:
    """Counts of one unit including every unit below it."""

    unit_id: int
    code: str
    name: str
    parent_id: int | None
    headcount: int = 0
    submitted: int = 0
    recognised: int = 0
    applied: int = 0
    recognised_authors: int = 0
    target: int | None = None
    sector: str = "enterprise"
    by_sector: dict[str, int] = field(default_factory=dict)
    sector_targets: dict[str, int] = field(default_factory=dict)
    children: list[int] = field(default_factory=list)

    @property
    def target_share(self) -> float | None:
        """Submitted as a share of the target."""
        return self.submitted / self.target if self.target else None

    @property
    def participation(self) -> float | None:
        """Share of the headcount with a recognised initiative (goal: 15 %)."""
        return self.recognised_authors / self.headcount if self.headcount else None

    @property
    def application(self) -> float | None:
        """Share of recognised initiatives applied (goal: 70 %)."""
        return self.applied / self.recognised if self.recognised else None


def rollup(
    units: list[tuple[int, str, str, int | None, str, int]],
    counts: dict[int, dict[str, int]],
    targets: list[tuple[int, str | None, int]],
) -> dict[int, Totals]:
    """Sum each unit's own counts with those of every unit below it; attach unit targets (all sectors)."""
    totals = {
        uid: Totals(uid, code, name, parent, headcount, sector=sector)
        for uid, code, name, parent, sector, headcount in units
    }
    for total in totals.values():
        if total.parent_id in totals:
            totals[total.parent_id].children.append(total.unit_id)
    for unit_id, own in counts.items():
        sector = totals[unit_id].sector if unit_id in totals else ""
        seen: set[int] = set()
        current: int | None = unit_id
        while current is not None and current in totals and current not in seen:
            seen.add(current)
            node = totals[current]
            node.submitted += own.get("submitted", 0)
            node.recognised += own.get("recognised", 0)
            node.applied += own.get("applied", 0)
            node.recognised_authors += own.get("recognised_authors", 0)
            node.by_sector[sector] = node.by_sector.get(sector, 0) + own.get("submitted", 0)
            current = node.parent_id
    own_headcount = {uid: totals[uid].headcount for uid in totals}
    for uid in totals:
        if totals[uid].children:
            totals[uid].headcount = _subtree_headcount(uid, totals, own_headcount)
    for unit_id, target_sector, target in targets:
        if unit_id in totals and target_sector is None:
            totals[unit_id].target = target
        elif unit_id in totals and target_sector is not None:
            totals[unit_id].sector_targets[target_sector] = target
    return totals


def _subtree_headcount(unit_id: int, totals: dict[int, Totals], own: dict[int, int]) -> int:
    """The headcount of a unit and everything below it (a parent's own figure is its staff only)."""
    stack, total, seen = [unit_id], 0, set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        total += own.get(current, 0)
        stack.extend(totals[current].children)
    return total
