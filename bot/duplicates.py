"""Duplicate hints: earlier initiatives of a campaign whose title and solution look alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.textnorm import fold

# Only the start of a solution counts, so a long description does not drown the title.
SOLUTION_CHARS = 400
TITLE_WORDS = 16
SOLUTION_WORDS = 16

# A hint needs fuzz.token_set_ratio >= 70 on the keys below. On the labelled Vietnamese pairs in
# tests/test_duplicates.py near duplicates score 77-100 and unrelated initiatives of the same
# domain (sharing "máy", "tự động", "công đoàn", "quản lý"…) score at most 63.
DEFAULT_CUTOFF = 70

# The scan is two-stage: fuzz.ratio over the keys (sorted unique syllables, so this is a token
# sort ratio computed without re-tokenising 10^5 strings) keeps a shortlist, which
# fuzz.token_set_ratio then scores. bench/bench_duplicates.py measures the recall against scoring
# every key with token_set_ratio.
SHORTLIST = 200
SHORTLIST_CUTOFF = 30

# Words every campaign text uses ("cải tiến", "công ty", "năng suất"…), folded; they say nothing
# about what an initiative is. Syllables that also spell content words once folded are kept
# ("khi" is khí in "khí nén", "do" is đo/đồ, "tu" is tự/tủ, "bang" is băng in "băng tải").
_STOP_PHRASES = (
    "ap dung",
    "bo phan",
    "cai tien",
    "chat luong",
    "chi phi",
    "co quan",
    "cong nhan",
    "cong tac",
    "cong ty",
    "doanh nghiep",
    "don vi",
    "giai phap",
    "hieu qua",
    "lao dong",
    "nang cao",
    "nang suat",
    "nguoi lao dong",
    "nha may",
    "phan xuong",
    "quy trinh",
    "san xuat",
    "sang kien",
    "su dung",
    "thoi gian",
    "thuc hien",
    "tiet kiem",
    "trien khai",
    "ung dung",
    "xi nghiep",
)
_STOP_WORDS = frozenset(
    {
        "cac",
        "cho",
        "cua",
        "de",
        "dang",
        "duoc",
        "giam",
        "giup",
        "hon",
        "la",
        "mot",
        "nay",
        "nham",
        "nhung",
        "nhu",
        "o",
        "ra",
        "rat",
        "se",
        "tai",
        "theo",
        "trong",
        "tren",
        "va",
        "vao",
        "viec",
    }
)
_PHRASES = re.compile(r"\b(?:" + "|".join(sorted(_STOP_PHRASES, key=len, reverse=True)) + r")\b")
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier initiative as the index holds it; `text` is its similarity key."""

    initiative_id: int
    code: str
    status: str
    text: str


@dataclass(frozen=True, slots=True)
class Hint:
    """An earlier initiative that looks like the new one, with a similarity from 0 to 100."""

    initiative_id: int
    code: str
    status: str
    score: int


def _content_words(text: str, limit: int) -> list[str]:
    """The first `limit` folded syllables of `text` that are not campaign boilerplate."""
    folded = _PHRASES.sub(" ", _NON_WORD.sub(" ", fold(text)))
    return [word for word in folded.split() if word not in _STOP_WORDS][:limit]


def similarity_key(title: str, solution: str | None) -> str:
    """The folded key of an initiative: unique content syllables of title and solution start."""
    words = _content_words(title, TITLE_WORDS)
    if solution:
        words += _content_words(solution[:SOLUTION_CHARS], SOLUTION_WORDS)
    return " ".join(sorted(set(words)))


class DuplicateIndex:
    """The similarity keys of one campaign's initiatives in memory, scanned with rapidfuzz."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._rows: list[Candidate] = []
        self._position: dict[int, int] = {}
        self.last_id = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, candidate: Candidate) -> None:
        """Add an initiative, or replace the one with the same id (new status or new text)."""
        position = self._position.get(candidate.initiative_id)
        if position is None:
            self._position[candidate.initiative_id] = len(self._rows)
            self._rows.append(candidate)
            self._keys.append(candidate.text)
        else:
            self._rows[position] = candidate
            self._keys[position] = candidate.text
        self.last_id = max(self.last_id, candidate.initiative_id)

    def extend(self, candidates: Iterable[Candidate]) -> None:
        """Add many initiatives."""
        for candidate in candidates:
            self.add(candidate)

    def hints(
        self,
        key: str,
        *,
        exclude_id: int | None,
        limit: int = 3,
        cutoff: int = DEFAULT_CUTOFF,
    ) -> list[Hint]:
        """Up to `limit` initiatives scoring at least `cutoff` against `key`, best first."""
        if not key or limit <= 0:
            return []
        shortlist = process.extract(
            key, self._keys, scorer=fuzz.ratio, limit=SHORTLIST, score_cutoff=SHORTLIST_CUTOFF
        )
        scored: list[tuple[int, Candidate]] = []
        for _, _, position in shortlist:
            row = self._rows[position]
            if row.initiative_id == exclude_id:
                continue
            score = fuzz.token_set_ratio(key, row.text, score_cutoff=cutoff)
            if score and score >= cutoff:
                scored.append((round(score), row))
        scored.sort(key=lambda item: (-item[0], item[1].initiative_id))
        return [
            Hint(row.initiative_id, row.code, row.status, score) for score, row in scored[:limit]
        ]
