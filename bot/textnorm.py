"""Vietnamese text normalisation: NFC input, diacritic-free search keys, collation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """Return `text` in NFC with runs of blanks inside each line collapsed and ends trimmed."""
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Return a search key: diacritics stripped, đ→d, casefolded, blanks collapsed (cached: names and titles repeat)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


# Vietnamese dictionary order: ă, â, đ, ê, ô, ơ, ư are letters of their own; tones come second,
# in the order ngang, huyền, hỏi, ngã, sắc, nặng.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER = {letter: chr(0xE000 + index) for index, letter in enumerate(_ALPHABET)}
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}


def sort_key(text: str) -> tuple[str, str, str]:
    """Return a key that sorts Vietnamese names alphabetically (letters first, then tones)."""
    letters: list[str] = []
    tones: list[str] = []
    for char in _SPACES.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip():
        decomposed = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        letters.append(_LETTER.get(base, base))
        tones.append(next((_TONES[c] for c in decomposed if c in _TONES), "0"))
    return ("".join(letters), "".join(tones), unicodedata.normalize("NFC", text))
