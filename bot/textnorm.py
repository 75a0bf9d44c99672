"""Vietnamese text normalisation: NFC input, diacritic-free search keys, collation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
# đ, and Ð/ð (Latin eth), which is what a mis-decoded Đ arrives as: no Vietnamese name has it
_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


# Unicode's format characters (category Cf: zero-width spaces and joiners, bidi marks, tags),
# written out because `re` has no \p{Cf}; tests/test_parsing.py checks it against unicodedata.
FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def clean(text: str) -> str:
    """Return `text` in NFC, format characters (zero-width, bidi marks) dropped, blanks collapsed per line, trimmed."""
    text = FORMAT_CHARACTERS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def display_name(name: str | None) -> str:
    """A person's name as shown: each word typed all in lower or upper case gets a capital first
    letter ("lê VĂN tuấn" → "Lê Văn Tuấn"); a word already mixed ("McDonald") is kept. The name
    stays stored as typed."""
    words = (name or "").split(" ")
    return " ".join(w[:1].upper() + w[1:].lower() if w.islower() or w.isupper() else w for w in words)


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Return a search key: diacritics stripped, đ/Ð→d, casefolded, blanks collapsed (cached: names, titles repeat)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def search_words(text: str) -> str:
    """Return the folded words of a typed query, punctuation taken as a space ("may-10." → "may 10")."""
    return _NON_WORD.sub(" ", fold(text)).strip()


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
