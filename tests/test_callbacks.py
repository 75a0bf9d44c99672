"""Callback data: every typed press round-trips, and untrusted data is refused rather than guessed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot import callbacks as cb
from bot.callbacks import ACTIONS, MAX_BYTES, VERSION, Callback, decode

EXAMPLES: list[Callback] = [
    cb.SetLanguage("vi"),
    cb.Consent("yes"),
    cb.PickUnit(17),
    cb.MenuChoice("new"),
    cb.EditProfile("language"),
    cb.PrivacyChoice("deleteok"),
    cb.SetReminders("off"),
    cb.PickCategory(1234567, 2),
    cb.PickKind(1234567, "technical"),
    cb.SkipField(1234567, "coauthors"),
    cb.StepBack(1234567, "applied_since"),
    cb.NotQuantifiable(1234567, "benefit_vnd"),
    cb.FilesDone(1234567),
    cb.ClearFiles(1234567),
    cb.Submit(1234567, 12),
    cb.SubmitAnyway(1234567, 12),
    cb.ChooseField(1234567),
    cb.EditField(1234567, "benefit_vnd"),
    cb.ToSummary(1234567),
    cb.CancelDraft(1234567),
    cb.ConfirmCancel(1234567),
    cb.ResumeDraft(1234567),
    cb.RestartDraft(1234567),
    cb.ConfirmRestart(1234567),
    cb.AnswerAgain(1234567, 12),
    cb.MyPage(3),
    cb.OpenInitiative(999999999),
    cb.AskWithdraw(999999999),
    cb.ConfirmWithdraw(999999999, 7),
    cb.Revise(999999999),
    cb.ReviewAction("apl", 999999999, 12),
    cb.RejectReason(999999999, 12, 3),
    cb.AppliedAsGiven(999999999, 12, 20250301),
    cb.CancelQuestion(999999999),
    cb.ShowCard(999999999),
    cb.PendingPage(2, 17, "productivity"),
    cb.GrantPerson(42),
    cb.GrantUnit(42, 17),
    cb.RevokeGrant(5),
]


def test_the_examples_cover_every_action() -> None:
    assert {type(e) for e in EXAMPLES} == set(ACTIONS.values()) - {_Long}


@pytest.mark.parametrize("press", EXAMPLES, ids=lambda p: p.action)
def test_every_press_round_trips(press: Callback) -> None:
    data = press.encode()
    assert data.startswith(f"{VERSION}:{press.action}")
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == press


def test_the_format_is_versioned_and_colon_separated() -> None:
    """The wire format did not change with the typed classes: buttons already sent stay valid."""
    assert cb.Submit(42, 3).encode() == "v1:submit:42:3"
    assert cb.ReviewAction("ap", 7, 2).encode() == "v1:rv:ap:7:2"
    assert decode("v1:lang:en") == cb.SetLanguage("en")
    assert decode("v1:pq:0:4:all") == cb.PendingPage(page=0, unit=4, category="all")


def test_numbers_decode_as_numbers_and_words_are_refused() -> None:
    press = decode("v1:cat:42:3")
    assert isinstance(press, cb.PickCategory) and press.draft == 42 and press.index == 3
    assert decode("v1:cat:42:abc") is None


@pytest.mark.parametrize(
    "data",
    [
        "",
        ":",
        "garbage",
        "v1",
        "v1:",
        "v1:nosuch:1",
        "v1:LANG:vi",
        "v2:lang:vi",
        "v0:submit:1:1",
        "lang:vi",
        "v1:lang",
        "v1:lang:vi:en",
        "v1:submit:1",
        "v1:submit:1:2:3",
        "v1:submit:1:x",
        "v1:unit:Một",
        "v1:unit:ABC",
        "v1:unit:abc",
        "v1:unit:1-2",
        "v1:unit:1 2",
        "v1:unit:",
        "v1:unit:-1",
        "v1:lang:<b>",
        "v1:open:" + "1" * 25,
        "v1:open:1\n",
        "v1:menu:new" + " " * 60,
        "v1:unit:" + "9" * 24 + ":" + "9" * 24,
    ],
)
def test_decode_refuses_forged_or_stale_data(data: str) -> None:
    assert decode(data) is None


@dataclass(frozen=True)
class _Long(Callback, action="test_long"):
    """Three words: long enough to reach Telegram's limit."""

    a: str
    b: str
    c: str


def test_decode_refuses_data_over_64_bytes_even_when_otherwise_valid() -> None:
    data = "v1:test_long:" + ":".join(["a" * 16, "a" * 16, "a" * 18])
    assert len(data.encode()) == MAX_BYTES + 1
    assert decode(data) is None
    assert decode(data[:-1]) == _Long("a" * 16, "a" * 16, "a" * 17)


def test_decode_counts_bytes_not_characters() -> None:
    assert decode("v1:lang:" + "é" * 30) is None


@pytest.mark.parametrize(
    "press",
    [
        cb.PickUnit(-1),
        cb.PickUnit(True),
        cb.PickUnit("1"),  # type: ignore[arg-type]
        cb.SetLanguage("Một"),
        cb.SetLanguage("a:b"),
        cb.SetLanguage(""),
        cb.MenuChoice("New"),
        cb.OpenInitiative(10**25),
        cb.MenuChoice("new\n"),
    ],
)
def test_encode_refuses_what_decode_would_refuse(press: Callback) -> None:
    with pytest.raises(ValueError):
        press.encode()


def test_encode_refuses_data_that_would_exceed_64_bytes() -> None:
    assert len(_Long("a" * 16, "a" * 16, "a" * 17).encode().encode()) == MAX_BYTES
    with pytest.raises(ValueError, match="64"):
        _Long("a" * 16, "a" * 16, "a" * 18).encode()


def test_an_action_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="twice"):

        @dataclass(frozen=True)
        class _Again(Callback, action="open"):
            initiative: int
