"""Campaign progress rolled up the unit hierarchy, with sector targets and the two rates."""

from __future__ import annotations

import pytest

from bot.progress import rollup

pytestmark = pytest.mark.postgresql  # also run on PostgreSQL (tests/conftest.py)

UNITS = [
    (1, "CITY", "Liên đoàn", None, "public", 20),
    (2, "KCN", "Công đoàn KCN", 1, "enterprise", 0),
    (3, "MAY10", "May 10", 2, "enterprise", 100),
    (4, "DD", "UBND Đống Đa", 1, "public", 80),
]
COUNTS = {
    3: {"submitted": 30, "recognised": 10, "applied": 7, "recognised_authors": 15},
    4: {"submitted": 12, "recognised": 4, "applied": 1, "recognised_authors": 8},
}


def test_counts_and_headcounts_add_up_the_hierarchy() -> None:
    totals = rollup(UNITS, COUNTS, [])
    city = totals[1]
    assert (city.submitted, city.recognised, city.applied, city.headcount) == (42, 14, 8, 200)
    assert totals[2].submitted == 30 and totals[2].headcount == 100
    assert totals[3].participation == 0.15 and totals[3].application == 0.7


def test_targets_and_sector_targets_are_measured_against_the_right_submissions() -> None:
    totals = rollup(UNITS, COUNTS, [(1, None, 100), (1, "enterprise", 40), (3, None, 60)])
    assert totals[1].target_share == 0.42
    assert totals[1].by_sector == {"enterprise": 30, "public": 12}
    assert totals[1].sector_targets == {"enterprise": 40}
    assert totals[3].target_share == 0.5


def test_units_without_people_or_recognition_have_no_rates() -> None:
    totals = rollup(UNITS, {}, [])
    assert totals[2].participation == 0.0 and totals[4].headcount == 80
    assert totals[3].application is None
