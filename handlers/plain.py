"""Text for channels without markup: HTML dropped, long texts cut on paragraph boundaries."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """Drop the HTML markup meant for Telegram (user text arrives escaped, so it survives)."""
    return html.unescape(_TAG.sub("", text))


SEPARATORS = ("\n\n", "\n", " ")


def split_paragraphs(text: str, limit: int = 2000, separators: tuple[str, ...] = SEPARATORS) -> list[str]:
    """Split `text` into parts of at most `limit` characters: paragraphs kept whole where they fit,
    then lines, then words, and only a word longer than `limit` cut inside."""
    if len(text) <= limit:
        return [text] if text.strip() else []
    if not separators:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    separator, finer = separators[0], separators[1:]
    parts: list[str] = []
    current = ""
    for unit in text.split(separator):
        for piece in split_paragraphs(unit, limit, finer):
            candidate = f"{current}{separator}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current.strip():
        parts.append(current)
    return [part for part in parts if part.strip()]
