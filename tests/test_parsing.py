"""Parsers of what workers type, and the folding of Vietnamese text, as tables of cases."""

from __future__ import annotations

import sys
import unicodedata
from datetime import date

import pytest

from bot.errors import InvalidInput
from bot.parsing import AppliedSince, Share, parse_applied_since, parse_money, parse_phone, parse_shares
from bot.textnorm import FORMAT_CHARACTERS, clean, display_name, fold, search_words, sort_key

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "vnd"),
    [
        ("50 triệu", 50_000_000),
        ("1,5 tỷ", 1_500_000_000),
        ("1.5 tỷ", 1_500_000_000),
        ("50.000.000đ", 50_000_000),
        ("50000000", 50_000_000),
        ("50,000,000 VND", 50_000_000),
        ("1.234.567 ₫", 1_234_567),
        ("1.234.567 đ", 1_234_567),
        ("500k", 500_000),
        ("2 tr", 2_000_000),
        ("50tr", 50_000_000),
        ("1 tỷ 200 triệu", 1_200_000_000),
        ("50 triệu/năm", 50_000_000),
        ("1,5 tỷ mỗi năm", 1_500_000_000),
        ("2 triệu 500 nghìn", 2_500_000),
        ("1 tỷ 2", 1_200_000_000),
        ("5 triệu 250", 5_250_000),
        ("2 triệu rưỡi", 2_500_000),
        ("100 triệu VNĐ", 100_000_000),
        ("50 trieu dong", 50_000_000),
        ("50.000.000 đồng", 50_000_000),
        ("không xác định được", None),
        ("Không thể xác định", None),
        ("khong xac dinh", None),
        ("Chưa xác định được", None),
        ("cannot be quantified", None),
        ("không rõ", None),
        ("khoảng 2 tỷ rưỡi", 2_500_000_000),
        ("~50tr", 50_000_000),
        ("hơn 100 triệu", 100_000_000),
        ("100.000đ/tháng", 1_200_000),
        ("khoảng 5 triệu mỗi tháng", 60_000_000),
    ],
)
def test_money_is_read_in_the_ways_workers_write_it(text: str, vnd: int | None) -> None:
    assert parse_money(text).vnd == vnd


@pytest.mark.parametrize(
    "text",
    ["abc", "1,5", "", "   ", "50 triệu abc", "1 tỷ 2345", "1,5 tỷ 2", "5 đô la"],
)
def test_money_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_money(text)
    assert caught.value.key == "error.money"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("-5", "error.money_positive"),
        ("-5 triệu", "error.money_positive"),
        ("0", "error.money_positive"),
        ("0 đồng", "error.money_positive"),
        ("5.000.000.000.000.000", "error.money_too_large"),
        ("2000000 tỷ", "error.money_too_large"),
    ],
)
def test_money_out_of_range_is_refused_saying_why(text: str, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_money(text)
    assert caught.value.key == key


def test_the_largest_amount_is_accepted() -> None:
    assert parse_money("1.000.000.000.000.000").vnd == 10**15


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/02/2026", date(2026, 2, 1)),
        ("1/2/2026", date(2026, 2, 1)),
        ("01-02-2026", date(2026, 2, 1)),
        ("01.02.2026", date(2026, 2, 1)),
        (" 1 / 2 / 2026 ", date(2026, 2, 1)),
        ("ngày 01/02/2026", date(2026, 2, 1)),
        ("từ ngày 1/2/2026", date(2026, 2, 1)),
        ("29/02/2024", date(2024, 2, 29)),
        ("25/11/2026", TODAY),
        ("chưa áp dụng", None),
        ("Chưa áp dụng.", None),
        ("Chưa", None),
        ("chưa triển khai", None),
        ("not applied", None),
    ],
)
def test_applied_since_reads_dates_and_not_applied(text: str, expected: date | None) -> None:
    assert parse_applied_since(text, today=TODAY).day == expected


@pytest.mark.parametrize(
    "text",
    [
        "1/2/26",
        "2026-02-01",
        "hôm qua",
        "",
    ],
)
def test_applied_since_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_applied_since(text, today=TODAY)
    assert caught.value.key == "error.date"


@pytest.mark.parametrize(
    ("text", "key", "args"),
    [
        ("31/02/2026", "error.date_no_day", {"day": "31", "month": "2", "year": "2026", "days": "28"}),
        ("29/02/2025", "error.date_no_day", {"day": "29", "month": "2", "year": "2025", "days": "28"}),
        ("00/01/2026", "error.date_no_day", {"day": "0", "month": "1", "year": "2026", "days": "31"}),
        ("1/13/2026", "error.date_no_month", {"month": "13"}),
        ("13/2025", "error.date_no_month", {"month": "13"}),
    ],
)
def test_an_impossible_date_says_what_does_not_exist(text: str, key: str, args: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_applied_since(text, today=TODAY)
    assert (caught.value.key, caught.value.args_) == (key, args)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("tháng 3/2025", date(2025, 3, 1)), ("3/2025", date(2025, 3, 1)), ("02/2026", date(2026, 2, 1))],
)
def test_a_month_alone_is_its_first_day(text: str, expected: date) -> None:
    assert parse_applied_since(text, today=TODAY) == AppliedSince(expected, month_only=True)


@pytest.mark.parametrize("text", ["1/1/1949", "01/01/1899"])
def test_applied_since_refuses_dates_too_far_back(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_applied_since(text, today=TODAY)
    assert (caught.value.key, caught.value.args_) == ("error.date_too_old", {"year": "1950"})


@pytest.mark.parametrize("text", ["26/11/2026", "01/01/2027"])
def test_applied_since_refuses_the_future(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_applied_since(text, today=TODAY)
    assert caught.value.key == "error.date_future"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("0912-345-678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084912345678", "+84912345678"),
        ("03 8888 8888", "+84388888888"),
        ("024 3823 4567", "+842438234567"),
        ("(024) 3823 4567", "+842438234567"),
    ],
)
def test_vietnamese_phone_numbers_are_normalised_to_e164(text: str, e164: str) -> None:
    assert parse_phone(text) == e164


@pytest.mark.parametrize("text", ["12345", "+1 202 555 0100", "0123", "0912 345 67", "", "điện thoại", "0988 888 888x"])
def test_phone_numbers_that_are_not_vietnamese_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_phone(text)
    assert caught.value.key == "error.phone"


@pytest.mark.parametrize(
    ("text", "own", "shares"),
    [
        ("60\nTrần Văn Nam 40", 60, [Share("Trần Văn Nam", 40)]),
        ("60%\nTrần Văn Nam – 40%", 60, [Share("Trần Văn Nam", 40)]),
        ("60 %\nNguyễn Văn A — 40 %", 60, [Share("Nguyễn Văn A", 40)]),
        ("Tôi 60\nNguyễn Văn Nam: 40", 60, [Share("Nguyễn Văn Nam", 40)]),
        (
            "Tôi: 50%\nTrần Văn Nam, 30%\nLê Thị Hoa - 20%",
            50,
            [Share("Trần Văn Nam", 30), Share("Lê Thị Hoa", 20)],
        ),
        ("  50  \n\n  Bùi   Thị   Mai   50 \n", 50, [Share("Bùi Thị Mai", 50)]),
        ("50; Nguyễn Văn Bình – 30; Trần Thị Cúc – 20", 50, [Share("Nguyễn Văn Bình", 30), Share("Trần Thị Cúc", 20)]),
        ("Tác giả 70\nĐặng Thị Thu Hà – 30", 70, [Share("Đặng Thị Thu Hà", 30)]),
        ("100", 100, []),
        ("Tôi: 100%", 100, []),
    ],
)
def test_contribution_lists_are_read(text: str, own: int, shares: list[Share]) -> None:
    assert parse_shares(text) == (own, shares)


@pytest.mark.parametrize(
    ("text", "total"),
    [("50\nNam 30", 80), ("70\nNam 20\nHoa 20", 110), ("150\nNam 50", 200), ("60", 60)],
)
def test_contributions_must_total_100_and_the_error_says_the_total(text: str, total: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_shares(text)
    assert caught.value.key == "error.shares_total"
    assert caught.value.args_ == {"total": total}


@pytest.mark.parametrize("text", ["0\nNam 100", "100\nNam 0", "50\nNam 0\nHoa 50"])
def test_a_zero_share_is_refused_as_such(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_shares(text)
    assert caught.value.key == "error.shares_zero"


@pytest.mark.parametrize(
    "text",
    [
        "60\nNam",
        "Nam 40\n60",
        "60\n40",
        "tôi 60%, Nam 40%",
        "",
        "Nguyễn Văn Bình – 50\nTrần Thị Cúc – 50",
        "50\nNam 1234",
    ],
)
def test_a_list_that_cannot_be_read_is_a_format_error(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_shares(text)
    assert caught.value.key == "error.shares_format"


@pytest.mark.parametrize(
    ("text", "key", "args"),
    [
        ("50,5\nNam 49,5", "error.shares_whole", {}),
        ("50\nNguyễn Văn Bình – 12.50", "error.shares_whole", {}),
        ("34\nBình – 33.5\nCúc – 32.5", "error.shares_whole", {}),
        ("50\nNguyễn Văn Bình – 25\nnguyen van binh 25", "error.shares_duplicate", {"name": "nguyen van binh"}),
        (f"50\n{'Nguyễn Văn Bình ' * 7}– 50", "error.shares_name_long", {"limit": 100, "length": 111}),
        ("70\nTổ 3 Phân xưởng 2 – 30", "error.shares_name", {"name": "Tổ 3 Phân xưởng 2"}),
        ("50\n😀😀 50", "error.shares_name", {"name": "😀😀"}),
        ("50\n<b>x</b> 50", "error.shares_name", {"name": "<b>x</b>"}),
        ("50\nmình – 50", "error.shares_self", {"name": "mình"}),
    ],
)
def test_a_list_with_decimals_twice_the_same_name_or_a_long_name_is_refused_saying_why(
    text: str, key: str, args: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_shares(text)
    assert (caught.value.key, caught.value.args_) == (key, args)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Công ty May 10", "cong ty may 10"),
        ("Đống Đa", "dong da"),
        ("ĐIỆN CƠ THỐNG NHẤT", "dien co thong nhat"),
        ("  Nguyễn   Thị\tLan  ", "nguyen thi lan"),
        ("Phường Ô Chợ Dừa", "phuong o cho dua"),
        ("Ưu tiên", "uu tien"),
        ("Ðức Giang", "duc giang"),  # U+00D0, a mis-decoded Đ
        ("ðống đa", "dong da"),
    ],
)
def test_fold_strips_diacritics_and_case(text: str, key: str) -> None:
    assert fold(text) == key


def test_fold_gives_the_same_key_for_nfd_and_nfc_input() -> None:
    name = "Công đoàn Công ty Điện cơ Thống Nhất"
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    assert fold(nfd) == fold(name) == "cong doan cong ty dien co thong nhat"


def test_clean_normalises_to_nfc_and_collapses_blanks_but_keeps_line_breaks() -> None:
    raw = unicodedata.normalize("NFD", "  Gắn  cảm biến\t quang \r\n\n Bàn   trượt  ")
    assert clean(raw) == "Gắn cảm biến quang\n\nBàn trượt"
    assert unicodedata.is_normalized("NFC", clean(raw))


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("\u200b\u200b", ""),  # zero-width spaces only: an empty answer
        ("\ufeff \u2060 ", ""),  # byte-order mark, word joiner
        ("\u200eNguyễn Thị Lan\u200f", "Nguyễn Thị Lan"),  # left-to-right / right-to-left marks
        ("\u202aMay\u202c 10\u202e", "May 10"),  # bidi embeddings and overrides
        ("Ng\u200buyễn \u200b Lan", "Nguyễn Lan"),
        ("e\u200b\u0301", "é"),  # a mark after a removed character still composes
        ("Dòng 1\u200b\nDòng 2", "Dòng 1\nDòng 2"),
    ],
)
def test_clean_drops_format_characters(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_the_format_characters_are_exactly_unicodes_category_cf() -> None:
    everything = [chr(code) for code in range(sys.maxunicode + 1)]
    matched = {ch for ch in everything if FORMAT_CHARACTERS.fullmatch(ch)}
    assert {ch for ch in everything if unicodedata.category(ch) == "Cf"} <= matched  # a newer Unicode: add it
    assert {unicodedata.category(ch) for ch in matched} <= {"Cf", "Cn"}  # Cn: Cf in a newer Unicode


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("công ty may 10.", "cong ty may 10"),
        ("cong-ty may", "cong ty may"),
        ("Ðức Giang", "duc giang"),
        ("  MAY,10!  ", "may 10"),
        ("3/2", "3 2"),
        ("50%_x", "50 x"),
        ("...", ""),
    ],
)
def test_search_words_take_punctuation_as_a_space(query: str, words: str) -> None:
    assert search_words(query) == words


@pytest.mark.parametrize(
    "ordered",
    [
        ["An", "Anh", "Ăn", "Ân", "Bình"],
        ["Dung", "Dương", "Đào", "Đỗ", "Giang"],
        ["ba", "bà", "bả", "bã", "bá", "bạ", "bác"],
        ["On", "Ôn", "Ơn", "Út", "Ư", "Vũ"],
    ],
)
def test_sort_key_follows_vietnamese_alphabet_then_tones(ordered: list[str]) -> None:
    assert sorted(reversed(ordered), key=sort_key) == ordered
    assert sorted(ordered[::2] + ordered[1::2], key=sort_key) == ordered


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("lê văn tuấn", "Lê Văn Tuấn"),
        ("LÊ VĂN TUẤN", "Lê Văn Tuấn"),
        ("Lê Văn Tuấn", "Lê Văn Tuấn"),
        ("đỗ thị ánh", "Đỗ Thị Ánh"),
        ("Ronald McDonald", "Ronald McDonald"),
        ("", ""),
    ],
)
def test_names_are_shown_in_title_case_unless_written_in_mixed_case(typed: str, shown: str) -> None:
    assert display_name(typed) == shown
