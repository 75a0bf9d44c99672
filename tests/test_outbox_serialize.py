"""Replies survive the trip through the outbox's JSON unchanged, and render the same."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain import Attachment
from bot.i18n import Catalog, Lines, Msg, Vnd
from bot.messages import Button, FileOut, Reply, rows
from bot.serialize import Blobs, blob_refs, dump_replies, load_replies

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
PHOTO = Attachment("photo", "AgAD-photo", "uniq-1", 54321, "image/jpeg", None)
DOC = Attachment("document", "BQAD-doc", "uniq-2", 120000, "application/pdf", "ban-ve.pdf")

CASES: list[tuple[str, tuple[Reply, ...]]] = [
    ("plain key", (Reply("menu.text"),)),
    ("scalars", (Reply("k", {"s": "Nguyễn <b>&", "i": 1204, "neg": -5, "t": True, "f": False, "n": None}),)),
    ("float", (Reply("k", {"x": 1.5}),)),
    ("date", (Reply("k", {"d": date(2026, 2, 1)}),)),
    ("aware datetime in Hanoi", (Reply("k", {"at": datetime(2026, 11, 25, 22, 30, tzinfo=HANOI)}),)),
    ("aware datetime in UTC", (Reply("k", {"at": datetime(2026, 11, 25, 15, 30, 1, 250, tzinfo=UTC)}),)),
    ("money", (Reply("k", {"money": Vnd(50_000_000)}),)),
    ("nested message", (Reply("k", {"m": Msg("status.approved", {"by": Msg("level.city", {"n": 3})})}),)),
    ("lines", (Reply("k", {"l": Lines((Msg("a", {"x": 1}), Msg("b")), empty="common.none")}),)),
    ("empty lines", (Reply("k", {"l": Lines(())}),)),
    ("tuple, list and map", (Reply("k", {"t": (1, "a"), "l": [date(2026, 1, 1)], "m": {"a": Vnd(1)}}),)),
    ("tag-like map", (Reply("k", {"m": {"$": "msg", "key": "x"}}),)),
    ("buttons", (Reply("k", buttons=rows(Button("b.go", "v1:go:1"), Button("b.n", "v1:n", {"n": 2}), per_row=2)),)),
    ("flags", (Reply("k", ask_contact=True, remove_keyboard=True, edit=True, notice="notice.saved"),)),
    ("file", (Reply("privacy.exported", file=FileOut("data.json", b"\x00\xff{}\n\xc3")),)),
    ("media", (Reply("my.detail", media=(PHOTO, DOC)),)),
    (
        "picture with its text",
        (Reply("k", file=FileOut("chart.png", b"PNG", alt=Msg("a", {"l": Lines((Msg("b"),))}))),),
    ),
    ("several replies", (Reply("a"), Reply("b", {"n": 1}), Reply("c", file=FileOut("chart.png", b"PNG")))),
    ("none", ()),
]


@pytest.mark.parametrize(("name", "replies"), CASES, ids=[c[0] for c in CASES])
def test_round_trip_keeps_every_reply_equal(name: str, replies: tuple[Reply, ...]) -> None:
    text = dump_replies(replies)
    assert load_replies(text) == replies
    assert dump_replies(load_replies(text)) == text


def test_datetimes_keep_their_local_wall_time_and_instant() -> None:
    at = datetime(2026, 11, 25, 22, 30, tzinfo=HANOI)
    (loaded,) = load_replies(dump_replies((Reply("k", {"at": at}),)))
    assert loaded.args["at"] == at
    assert loaded.args["at"].strftime("%H:%M") == "22:30"
    assert loaded.args["at"].utcoffset() == at.utcoffset()


def test_loaded_replies_render_exactly_as_the_originals() -> None:
    catalog = Catalog()
    reply = Reply("draft.exists", {"title": "Máy cắt <vải>", "step": 4, "total": 8})
    (loaded,) = load_replies(dump_replies((reply,)))
    assert catalog.render("vi", loaded.key, loaded.args) == catalog.render("vi", reply.key, reply.args)


def test_shared_files_are_kept_apart_by_digest() -> None:
    chart = FileOut("chart.png", b"\x89PNG" + bytes(range(256)) * 40)
    blobs: dict[str, bytes] = {}
    text = dump_replies((Reply("k", file=chart),), blobs=blobs)
    assert len(blobs) == 1 and '"b64"' not in text and len(text) < 300
    assert blob_refs(text) == set(blobs)
    assert load_replies(text, blobs=blobs) == (Reply("k", file=chart),)
    with pytest.raises(KeyError):
        load_replies(text)


def test_a_pictures_text_is_kept_apart_by_digest_once_for_every_reader() -> None:
    board = Msg("leaderboard.board", {"people": Lines(tuple(Msg("p", {"rank": n}) for n in range(20)))})
    chart = FileOut("chart.png", b"\x89PNG", alt=board)
    blobs = Blobs()
    texts = [dump_replies((Reply("k", {"n": n}, file=chart),), blobs=blobs) for n in range(3)]
    assert len(blobs) == 2 and all(len(text) < 250 for text in texts)  # the picture and its text, once
    assert blob_refs(texts[0]) == set(blobs)
    assert load_replies(texts[2], blobs=blobs) == (Reply("k", {"n": 2}, file=chart),)


def test_an_unknown_argument_type_is_refused_at_enqueue_time() -> None:
    with pytest.raises(TypeError):
        dump_replies((Reply("k", {"x": object()}),))


def test_a_payload_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError):
        load_replies('{"v": 99, "replies": []}')
