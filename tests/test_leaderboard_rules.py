"""The leaderboard rules of the core: events, windows, ties, config, and the picture."""

from __future__ import annotations

import struct
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.charts import WIDTH_PX, height_px, render_board
from bot.config import ConfigError, load_config
from bot.leaderboard import (
    Board,
    Entry,
    Person,
    Points,
    Ranking,
    ReaderRank,
    Standing,
    Window,
    events,
    reference,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_an_initiative_earns_submission_its_highest_level_and_application() -> None:
    entry = Entry(1, 1, "approved", T0, "upper", T0 + DAY, T0 + 2 * DAY)
    assert events(entry, Points()) == [(T0, 1), (T0 + DAY, 5), (T0 + 2 * DAY, 2)]
    assert sum(p for _, p in events(entry, Points(upper=7, applied=0))) == 8


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_drafts_and_withdrawn_initiatives_earn_nothing(status: str) -> None:
    assert events(Entry(1, 1, status, T0, "city", T0, T0), Points()) == []


def test_an_event_without_a_time_or_worth_nothing_is_not_counted() -> None:
    entry = Entry(1, 1, "approved", T0, "grassroots", None, T0 + DAY)
    assert events(entry, Points(applied=0)) == [(T0, 1)]
    assert events(Entry(1, 1, "approved", T0, "national", T0), Points()) == [(T0, 1)]


def test_the_week_keeps_events_by_their_own_time() -> None:
    week = Window.week_before(T0 + 10 * DAY)
    assert week.holds(T0 + 3 * DAY) and week.holds(T0 + 9 * DAY)
    assert not week.holds(T0 + 10 * DAY) and not week.holds(T0 + 2 * DAY)
    assert Window().whole and not week.whole
    old_submission_recent_decision = Entry(1, 1, "approved", T0, "grassroots", T0 + 8 * DAY)
    board, _ = reference(
        [old_submission_recent_decision],
        {1: Person("Lan", 1)},
        {1: "May 10"},
        points=Points(),
        window=week,
        top_n=5,
    )
    assert board.people == [Standing(1, 1, "Lan", "May 10", 3)]


def test_ties_go_to_who_reached_the_score_first_and_units_add_up_members() -> None:
    entries = [
        Entry(1, 10, "submitted", T0 + 2 * DAY),
        Entry(2, 20, "submitted", T0 + DAY),
        Entry(3, 10, "rejected", T0 + DAY),
    ]
    people = {1: Person("Lan", 10), 2: Person("Hùng", 20), 3: Person("Mai", 10), 4: Person("Tú", 20)}
    board, ranking = reference(entries, people, {10: "A", 20: "B"}, points=Points(), window=Window(), top_n=2)
    assert [(s.id, s.rank) for s in board.people] == [(2, 1), (3, 2)]
    assert board.total_people == 3 and [s.name for s in board.units] == ["A", "B"]
    assert ranking.reader(1, 10) == ReaderRank(3, 3, 1, 2)
    assert ranking.reader(4, 20) == ReaderRank(None, 3, 2, 2)
    assert ranking.reader(5, None) == ReaderRank(None, 3, None, 2)


def test_forgotten_people_leave_the_people_ranking_but_still_count_for_their_unit() -> None:
    entries = [Entry(1, 10, "submitted", T0), Entry(2, 10, "submitted", T0)]
    people = {1: Person(None, 10, deleted=True), 2: Person("Hùng", 10)}
    board, ranking = reference(entries, people, {10: "A"}, points=Points(), window=Window(), top_n=5)
    assert [s.id for s in board.people] == [2] and board.units[0].points == 2
    assert ranking == Ranking({2: 1}, {10: 1})


def test_points_load_from_the_leaderboard_section_of_bot_toml(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("[leaderboard]\ntop_n = 5\n[leaderboard.points]\nsubmitted = 2\ncity = 8\n", "utf-8")
    section = load_config(path, env={}).leaderboard
    assert section.top_n == 5
    assert section.points == Points(submitted=2, grassroots=3, upper=5, city=8, applied=2)
    assert load_config(tmp_path / "missing.toml", env={}).leaderboard.points == Points()
    path.write_text("[leaderboard.points]\nsubmitted = -1\n", "utf-8")
    with pytest.raises(
        ConfigError, match=r"leaderboard\.points\.submitted: Input should be greater than or equal to 0"
    ):
        load_config(path, env={})


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("people,units", [(10, 10), (1, 0), (0, 0)])
def test_the_chart_is_a_phone_sized_png_with_vietnamese_glyphs(people: int, units: int) -> None:
    board = Board(
        [Standing(i + 1, i, "Nguyễn Thị Hương", "Công đoàn Công ty May 10", 90 - i) for i in range(people)],
        [Standing(i + 1, i, "Công đoàn cơ quan UBND quận Đống Đa", None, 1234 - i) for i in range(units)],
        people,
        units,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning in matplotlib
        data = render_board(
            board,
            title="Bảng xếp hạng tuần – Nguyễn Thị Hương – Công đoàn Công ty May 10",
            people_label="Cá nhân dẫn đầu",
            units_label="Đơn vị dẫn đầu",
            points_label="điểm",
        )
    assert png_size(data) == (WIDTH_PX, height_px(board))
    assert 400 < height_px(board) <= 2200
