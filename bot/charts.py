"""The leaderboard as a PNG: two horizontal bar charts (people, units) sized for a phone screen.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no display, no global state).
Text is set in DejaVu Sans, which ships with matplotlib and covers Vietnamese (precomposed
letters such as ễ, ặ, ữ and đ). Every label comes from the caller (the locale catalogue).
"""

from __future__ import annotations

import io
import unicodedata

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.leaderboard import Board, Standing

WIDTH_PX = 1080
DPI = 100
ROW_PX = 86
HEADER_PX = 130
SECTION_PX = 110
FONT = "DejaVu Sans"
NAME_CHARS = 32
TITLE_CHARS = 56
COLORS = ("#c0392b", "#1f6fb2")  # people, units
RANK_COLORS = {1: "#b8860b", 2: "#6b7079", 3: "#a0522d"}  # gold, silver, bronze


def height_px(board: Board) -> int:
    """The height of the picture of `board` (the width is always WIDTH_PX)."""
    rows = max(len(board.people), 1) + max(len(board.units), 1)
    return HEADER_PX + 2 * SECTION_PX + rows * ROW_PX


def shorten(text: str | None, limit: int = NAME_CHARS) -> str:
    """`text` in NFC, cut to `limit` characters with an ellipsis ("—" when missing)."""
    if not text:
        return "—"
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def unit_name(name: str | None, limit: int = NAME_CHARS) -> str:
    """A unit's name within `limit`, keeping its end, where the part that tells units apart is: a long
    name loses its first words to "…" ("Công đoàn Công ty TNHH Canon Việt Nam" → "… Công ty TNHH
    Canon Việt Nam"), and only a last word longer than the limit is cut."""
    parts = unicodedata.normalize("NFC", name or "").split()
    if not name or len(name) <= limit or len(parts) < 2:
        return shorten(name, limit)
    start = 1
    while start < len(parts) - 1 and len(" ".join(parts[start:])) + 2 > limit:
        start += 1
    return shorten("… " + " ".join(parts[start:]), limit)


def number(value: int, separator: str) -> str:
    """An integer with thousands separated the Vietnamese way (1.234)."""
    return f"{value:,}".replace(",", separator)


def render_board(
    board: Board,
    *,
    title: str,
    people_label: str,
    units_label: str,
    points_label: str,
    thousands: str = ".",
) -> bytes:
    """Draw the top people and the top units as horizontal bars; return PNG bytes."""
    height = height_px(board)
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(
        0.5,
        1 - 55 / height,
        shorten(title, TITLE_CHARS),
        ha="center",
        va="center",
        fontsize=24,
        weight="bold",
        family=FONT,
    )
    top = 1 - HEADER_PX / height
    sections = ((people_label, board.people, True, COLORS[0]), (units_label, board.units, False, COLORS[1]))
    for label, rows, with_unit, color in sections:
        size = (max(len(rows), 1) * ROW_PX) / height
        header = SECTION_PX / height
        axes = figure.add_axes((0.48, top - header - size + 12 / height, 0.42, size - 12 / height))
        figure.text(
            0.04, top - header * 0.45, shorten(label, TITLE_CHARS), fontsize=20, weight="bold", family=FONT, va="center"
        )
        _bars(axes, rows, with_unit=with_unit, color=color, points_label=points_label, thousands=thousands)
        top -= header + size
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _bars(
    axes: object, rows: list[Standing], *, with_unit: bool, color: str, points_label: str, thousands: str
) -> None:
    """One horizontal bar per standing, best at the top, labels on the left, points at the end."""
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.set_xticks([])
    if not rows:
        axes.set_yticks([])
        axes.set_xlim(0, 1)
        axes.text(0.02, 0.5, "—", fontsize=18, va="center", family=FONT, transform=axes.transAxes)
        return
    best = max(row.points for row in rows) or 1
    positions = list(range(len(rows)))[::-1]
    axes.barh(positions, [row.points for row in rows], height=0.62, color=color, alpha=0.88)
    axes.set_xlim(0, best * 1.3)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    labels = []
    for row in rows:
        line = f"{row.rank}. {shorten(row.name) if with_unit else unit_name(row.name)}"
        labels.append(f"{line}\n{unit_name(row.unit_name)}" if with_unit else line)
    axes.set_yticks(positions, labels, fontsize=15, family=FONT, linespacing=1.25)
    axes.tick_params(axis="y", length=0, pad=10)
    for tick, row in zip(axes.get_yticklabels(), rows, strict=True):
        if row.rank in RANK_COLORS:
            tick.set_color(RANK_COLORS[row.rank])
            tick.set_fontweight("bold")
    for position, row in zip(positions, rows, strict=True):
        axes.text(
            row.points + best * 0.02,
            position,
            f"{number(row.points, thousands)} {points_label}",
            va="center",
            fontsize=15,
            family=FONT,
        )
