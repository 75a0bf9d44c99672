"""Vietnamese text normalisation: NFC input, diacritic-free search keys, collation."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """Return `text` in NFC with runs of blanks inside each line collapsed and ends trimmed."""
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def fold(text: str) -> str:
    """Return a search key: diacritics stripped, đ→d, casefolded, blanks collapsed."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def sort_key(text: str) -> tuple[str, str]:
    """Return a key that sorts Vietnamese names alphabetically (base letters first, then tones)."""
    return (fold(text), unicodedata.normalize("NFC", text).casefold())
