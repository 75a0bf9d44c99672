"""Callback data: every action round-trips, and untrusted data is refused rather than guessed."""

from __future__ import annotations

import pytest

from bot.callbacks import ACTIONS, MAX_BYTES, VERSION, Callback, decode, encode

EXAMPLES: dict[str, tuple[object, ...]] = {
    "lang": ("vi",),
    "consent": ("yes",),
    "unit": (17,),
    "menu": ("new",),
    "cat": (1234567, 2),
    "type": (1234567, "technical"),
    "skip": (1234567, "coauthors"),
    "back": (1234567, "applied_since"),
    "done": (1234567,),
    "clearf": (1234567,),
    "submit": (1234567, 12),
    "subok": (1234567, 12),
    "edit": (1234567,),
    "editf": (1234567, "benefit_vnd"),
    "summary": (1234567,),
    "cancel": (1234567,),
    "cancelok": (1234567,),
    "resume": (1234567,),
    "restart": (1234567,),
    "my": (3,),
    "open": (999999999,),
    "wd": (999999999,),
    "wdok": (999999999, 7),
    "prof": ("language",),
    "priv": ("deleteok",),
    "revise": (999999999,),
    "rv": ("apl", 999999999, 12),
    "rr": (999999999, 12, 3),
    "card": (999999999,),
    "pq": (2, 17, "productivity"),
    "gp": (42,),
    "gu": (42, 17),
    "rk": (5,),
    "rem": ("off",),
}


def test_the_examples_cover_every_action() -> None:
    assert set(EXAMPLES) == set(ACTIONS)


@pytest.mark.parametrize(("action", "args"), sorted(EXAMPLES.items()))
def test_every_action_round_trips(action: str, args: tuple[object, ...]) -> None:
    data = encode(action, *args)
    assert data.startswith(f"{VERSION}:{action}")
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == Callback(action, tuple(str(a) for a in args))


def test_the_format_is_versioned_and_colon_separated() -> None:
    assert encode("submit", 42, 3) == "v1:submit:42:3"
    assert decode("v1:lang:en") == Callback("lang", ("en",))


def test_int_arg_reads_digits_and_refuses_words() -> None:
    press = Callback("cat", ("42", "abc"))
    assert press.int_arg(0) == 42
    with pytest.raises(ValueError):
        press.int_arg(1)


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
        "v1:unit:Một",
        "v1:unit:ABC",
        "v1:unit:1-2",
        "v1:unit:1 2",
        "v1:unit:",
        "v1:lang:<b>",
        "v1:open:" + "1" * 25,
        "v1:open:1\n",
        "v1:menu:new" + " " * 60,
        "v1:unit:" + "9" * 24 + ":" + "9" * 24,
    ],
)
def test_decode_refuses_forged_or_stale_data(data: str) -> None:
    assert decode(data) is None


def test_decode_refuses_data_over_64_bytes_even_when_otherwise_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(ACTIONS, "test_long", 3)
    data = "v1:test_long:" + ":".join(["a" * 16, "a" * 16, "a" * 18])
    assert len(data.encode()) == MAX_BYTES + 1
    assert decode(data) is None
    assert decode(data[:-1]) == Callback("test_long", ("a" * 16, "a" * 16, "a" * 17))


def test_decode_counts_bytes_not_characters() -> None:
    assert decode("v1:lang:" + "é" * 30) is None


@pytest.mark.parametrize(
    ("action", "args"),
    [
        ("nosuch", (1,)),
        ("lang", ()),
        ("lang", ("vi", "en")),
        ("submit", (1,)),
        ("unit", ("Một",)),
        ("unit", ("a:b",)),
        ("unit", ("",)),
        ("unit", (-1,)),
        ("menu", ("New",)),
        ("open", ("1" * 25,)),
        ("open", ("1\n",)),
    ],
)
def test_encode_refuses_what_decode_would_refuse(action: str, args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        encode(action, *args)


def test_encode_refuses_data_that_would_exceed_64_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ACTIONS, "test_long", 3)
    assert len(encode("test_long", "a" * 16, "a" * 16, "a" * 17).encode()) == MAX_BYTES
    with pytest.raises(ValueError, match="64"):
        encode("test_long", "a" * 16, "a" * 16, "a" * 18)
