"""Duplicate hints: earlier initiatives of a campaign whose title and solution look alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.textnorm import fold

# Only the start of a solution counts, so a long description does not drown the title.
SOLUTION_CHARS = 400
TITLE_WORDS = 16
SOLUTION_WORDS = 16

# The similarity of two keys is the mean of two rapidfuzz scorers: fuzz.token_set_ratio (shared
# words count fully, so a short title typed without diacritics still matches its longer original)
# and fuzz.ratio (on these sorted keys a token sort ratio: it keeps a key that merely contains the
# other from scoring 100). On the labelled Vietnamese pairs of tests/test_duplicates.py near
# duplicates score 76.6-98.2 and unrelated initiatives of the same domain (sharing "máy", "tự
# động", "cảm biến", "công đoàn"…) at most 63.7 (token_set_ratio alone: 78.5 vs 67.7; WRatio
# alone: 74.7 vs 85.5). The cutoff leans to the unrelated side: a false hint makes an author
# hesitate before submitting.
DEFAULT_CUTOFF = 72

# token_set_ratio over 10^5 keys takes about 0.5 s on the benchmark machine (it re-tokenises every
# key), fuzz.ratio about 25 ms. So fuzz.ratio scans every key and keeps the best SHORTLIST, and
# only those get token_set_ratio. A score >= cutoff needs ratio >= 2 * cutoff - 100, so the scan
# drops the rest. bench/bench_duplicates.py compares the outcome with scoring every key.
SHORTLIST = 1000

# Words every campaign text uses ("cải tiến", "công ty", "năng suất"…), folded; they say nothing
# about what an initiative is. Syllables that also spell content words once folded are kept
# ("khi" is khí in "khí nén", "do" is đo/đồ, "tu" is tự/tủ, "bang" is băng in "băng tải").
_STOP_PHRASE_LIST = (
    "ap dung, bo phan, cai tien, chat luong, chi phi, co quan, cong nhan, cong tac, cong ty, "
    "doanh nghiep, don vi, giai phap, hieu qua, lao dong, nang cao, nang suat, nguoi lao dong, "
    "nha may, phan xuong, quy trinh, san xuat, sang kien, su dung, thoi gian, thuc hien, "
    "tiet kiem, trien khai, ung dung, xi nghiep"
)
_STOP_WORD_LIST = (
    "cac cho cua de dang duoc giam giup hon la mot nay nham nhung nhu o ra rat se tai theo trong tren va vao viec"
)
_STOP_PHRASES = frozenset(tuple(phrase.split()) for phrase in _STOP_PHRASE_LIST.split(", "))
_STOP_WORDS = frozenset(_STOP_WORD_LIST.split())
_PHRASE_STARTS = frozenset(phrase[0] for phrase in _STOP_PHRASES)
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


@lru_cache(maxsize=1 << 16)
def _fold_token(token: str) -> tuple[str, ...]:
    """The folded words of one blank-separated token, cached: campaigns reuse few syllables."""
    return tuple(_NON_WORD.sub(" ", fold(token)).split())


def _content_words(text: str, limit: int) -> list[str]:
    """The first `limit` folded syllables of `text` that are not campaign boilerplate."""
    tokens = text.split(None, 3 * limit)[: 3 * limit]
    words = [word for token in tokens for word in _fold_token(token)]
    kept: list[str] = []
    skip = 0
    for i, word in enumerate(words):
        if skip:
            skip -= 1
        elif word in _PHRASE_STARTS and tuple(words[i : i + 3]) in _STOP_PHRASES:
            skip = 2
        elif word in _PHRASE_STARTS and tuple(words[i : i + 2]) in _STOP_PHRASES:
            skip = 1
        elif word not in _STOP_WORDS:
            kept.append(word)
            if len(kept) == limit:
                break
    return kept


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
        floor = max(0, 2 * cutoff - 100)
        # a copy: this runs in a worker thread while the loop may add to the index (positions stay valid,
        # rows are only appended or replaced in place by the same initiative)
        shortlist = process.extract(key, self._keys[:], scorer=fuzz.ratio, limit=SHORTLIST, score_cutoff=floor)
        if not shortlist:
            return []
        # token_set_ratio for the whole shortlist in one call: a score >= cutoff needs
        # token_set >= 2 * cutoff - ratio, and the shortlist's best ratio gives the lowest bound
        ratios = {position: ratio for _, ratio, position in shortlist}
        keys = [choice for choice, _, _ in shortlist]
        token_sets = process.extract(
            key, keys, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=max(0, 2 * cutoff - shortlist[0][1])
        )
        scored: list[tuple[int, Candidate]] = []
        for _, token_set, at in token_sets:
            position = shortlist[at][2]
            row = self._rows[position]
            score = (ratios[position] + token_set) / 2
            if score >= cutoff and row.initiative_id != exclude_id:
                scored.append((round(score), row))
        scored.sort(key=lambda item: (-item[0], item[1].initiative_id))
        return [Hint(row.initiative_id, row.code, row.status, score) for score, row in scored[:limit]]
