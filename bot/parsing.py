"""Parsers for what workers type: money in VND, dates, Vietnamese phone numbers, contributions."""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers

from bot.errors import InvalidInput
from bot.textnorm import clean, fold

_UNQUANTIFIABLE = re.compile(
    r"^(?:(?:khong|chua)(?: the)? (?:xac dinh|dinh luong|uoc tinh|tinh|do)(?: duoc)?"
    r"|khong xac dinh duoc gia tri|khong|chua co|(?:khong|chua) (?:ro|biet)"
    r"|(?:cannot|can't|can not) be (?:quantified|estimated)|not quantifiable|unknown|n/?a)$"
)
_MULTIPLIERS = {
    "ty": 10**9,
    "ti": 10**9,
    "billion": 10**9,
    "bn": 10**9,
    "trieu": 10**6,
    "tr": 10**6,
    "million": 10**6,
    "m": 10**6,
    "nghin": 10**3,
    "ngan": 10**3,
    "k": 10**3,
    "thousand": 10**3,
}
_PER_YEAR = re.compile(r"\s*(?:/\s*(?:nam|year)|(?:moi|mot|1|hang) nam|(?:a|per) year|yearly)$")
_PER_MONTH = re.compile(r"\s*(?:/\s*(?:thang|month)|(?:moi|mot|1|hang) thang|(?:a|per) month|monthly)$")
# "khoảng 2 tỷ rưỡi", "~50tr", "hơn 100 triệu": an estimate is an answer, the number is what counts
_ESTIMATE = re.compile(
    r"^(?:(?:khoang|chung|gan|hon|tren|xap xi|uoc tinh|uoc chung|uoc|du kien|du tinh|it nhat|toi thieu"
    r"|about|around|approximately|approx\.?|over|more than|nearly|almost|at least)(?:\s+|(?=\d))"
    r"|[~≈>+]=?\s*)+"
)
_CURRENCY = re.compile(r"(?:vnd|dong|d|₫)\.?$")
_MONEY_PART = re.compile(r"(\d[\d.,]*)\s*([a-z]*)")
_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")
# "1 tỷ 2" = 1,2 tỷ, "5 triệu 250" = 5,25 triệu, "2 triệu rưỡi" = 2,5 triệu
_SPOKEN_TAIL = re.compile(r"(?P<number>\d+)(?P<unit>ty|ti|trieu|tr|nghin|ngan|k)(?P<tail>\d{1,3}|ruoi)")
_NOT_APPLIED = re.compile(
    r"^(?:chua(?: duoc)?(?: ap dung| ap dung thu| trien khai)?|chua co"
    r"|not (?:yet )?applied|no|none|khong)$"
)
_DATE_PREFIX = re.compile(r"^(?:(?:ke )?tu |since |from )?(?:ngay |on )?")
_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_MONTH = re.compile(r"^(?:thang|t|month)?(\d{1,2})(?:[/.\-]|nam)(\d{4})$")  # "tháng 3/2025", "3/2025"
# The first line is the author's own share: a number, perhaps after a word for "me" ("Tôi: 50%").
_ME = r"(?:toi|minh|em|ban than|tac gia|me|i|myself|author)"
_OWN_SHARE = re.compile(rf"^(?:{_ME}\s*[:\-–—,]?\s*)?(\d{{1,3}})\s*%?$")
_ME_ALONE = re.compile(rf"^{_ME}$")
_SHARE_LINE = re.compile(r"^(?P<name>.*?)[\s,:–—\-]*(?<![\d.,])(?P<pct>\d{1,3})\s*%?$")
_DECIMAL = re.compile(r"\d\s*[.,]\s*\d")
_SHARE_SEPARATORS = re.compile(r"[\n;]")

MAX_VND = 10**15
MIN_YEAR = 1950
NAME_MAX = 100  # a person's full name (registration) or a co-author's
NAME_PUNCTUATION = frozenset(" '’-.")


@dataclass(frozen=True)
class Money:
    """A benefit value: a whole number of VND a year, or None when it cannot be quantified;
    `per_month` keeps what was typed when a monthly amount was converted (×12)."""

    vnd: int | None
    per_month: int | None = None


@dataclass(frozen=True)
class AppliedSince:
    """When an initiative was first applied: a day, or the first day of a month when only the
    month was given (`month_only`); `day` is None when it is not applied yet."""

    day: date | None
    month_only: bool = False


@dataclass(frozen=True)
class Share:
    """One contributor's share of an initiative, in whole percent."""

    name: str
    percent: int


def _number(token: str) -> Decimal:
    """Read `50.000.000`, `50,000,000`, `1,5` or `1.5` as a number."""
    if _GROUPED.match(token):
        return Decimal(re.sub(r"[.,]", "", token))
    if token.count(",") + token.count(".") > 1:
        raise InvalidInput("error.money")
    try:
        return Decimal(token.replace(",", "."))
    except InvalidOperation as exc:
        raise InvalidInput("error.money") from exc


def parse_money(text: str) -> Money:
    """Parse a yearly benefit: "50 triệu", "khoảng 1,5 tỷ", "~50tr", "không rõ"…; a monthly
    amount ("100.000đ/tháng") is converted to a year and says so through `per_month`."""
    key = _ESTIMATE.sub("", fold(text).rstrip(".").strip())
    monthly = bool(_PER_MONTH.search(key))
    key = _PER_YEAR.sub("", _PER_MONTH.sub("", key)).strip()
    if not key:
        raise InvalidInput("error.money")
    if key.startswith(("-", "−")):
        raise InvalidInput("error.money_positive")
    if _UNQUANTIFIABLE.match(key):
        return Money(None)
    amount = _amount(key)
    if not monthly:
        return amount
    assert amount.vnd is not None
    return Money(_checked(Decimal(amount.vnd) * 12).vnd, per_month=amount.vnd)


def _amount(key: str) -> Money:
    """Read a folded amount without its per-period suffix."""
    compact = _CURRENCY.sub("", key.replace(" ", ""))
    spoken = _SPOKEN_TAIL.fullmatch(compact)
    if spoken:
        tail = spoken.group("tail")
        fraction = Decimal("0.5") if tail == "ruoi" else Decimal(f"0.{tail}")
        return _checked((int(spoken.group("number")) + fraction) * _MULTIPLIERS[spoken.group("unit")])
    parts = _MONEY_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InvalidInput("error.money")
    total = Decimal(0)
    for number, unit in parts:
        if (unit and unit not in _MULTIPLIERS) or (not unit and len(parts) > 1):
            raise InvalidInput("error.money")
        value = _number(number)
        total += value * _MULTIPLIERS.get(unit, 1)
    return _checked(total)


def _checked(total: Decimal) -> Money:
    """Accept a positive whole number of VND up to MAX_VND."""
    if total <= 0:
        raise InvalidInput("error.money_positive")
    if total > MAX_VND:
        raise InvalidInput("error.money_too_large")
    if total != total.to_integral_value():
        raise InvalidInput("error.money")
    return Money(int(total))


def parse_day(text: str) -> date:
    """Parse a date written dd/mm/yyyy (also with - or . between); an impossible one says why."""
    match = _DATE.match(_compact_date(text))
    if not match:
        raise InvalidInput("error.date")
    day, month, year = (int(g) for g in match.groups())
    return _checked_day(year, month, day)


def _compact_date(text: str) -> str:
    """The folded date without "từ ngày"-like words and blanks."""
    return _DATE_PREFIX.sub("", fold(text)).replace(" ", "")


def _checked_day(year: int, month: int, day: int) -> date:
    """The date, or a refusal naming what does not exist (month 13, 31/02)."""
    if not 1 <= month <= 12:
        raise InvalidInput("error.date_no_month", month=str(month))
    last = monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise InvalidInput("error.date_no_day", day=str(day), month=str(month), year=str(year), days=str(last))
    return date(year, month, day)


def parse_applied_since(text: str, *, today: date) -> AppliedSince:
    """Parse dd/mm/yyyy or a month ("tháng 3/2025", "3/2025": its first day), not in the future,
    or "chưa áp dụng" (no day)."""
    key = fold(text).rstrip(".")
    if _NOT_APPLIED.match(key):
        return AppliedSince(None)
    month = _MONTH.match(_compact_date(key))
    value = _checked_day(int(month.group(2)), int(month.group(1)), 1) if month else parse_day(key)
    if value > today:
        raise InvalidInput("error.date_future")
    if value.year < MIN_YEAR:
        raise InvalidInput("error.date_too_old", year=str(MIN_YEAR))  # a year, not a number
    return AppliedSince(value, month_only=month is not None)


def parse_phone(text: str) -> str:
    """Return a Vietnamese phone number in E.164 (+84…), or raise InvalidInput."""
    raw = re.sub(r"[\s().\-]", "", text)
    if not re.fullmatch(r"\+?\d{6,15}", raw):
        raise InvalidInput("error.phone")
    if re.fullmatch(r"84\d{9,10}", raw):
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("error.phone") from exc
    if phonenumbers.region_code_for_number(number) != "VN" or not phonenumbers.is_valid_number(number):
        raise InvalidInput("error.phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_name(name: str) -> bool:
    """True for a one-line name of 2–100 characters: letters (at least two), spaces and ' ’ - . only."""
    letters, after_letter = 0, False
    for char in name:
        mark = unicodedata.category(char).startswith("M")  # a combining mark NFC could not compose
        if char.isalpha():
            letters += 1
        elif not (mark and after_letter) and char not in NAME_PUNCTUATION:
            return False
        after_letter = char.isalpha() or (mark and after_letter)
    return 2 <= len(name) <= NAME_MAX and letters >= 2


def _coauthor_name(name: str) -> str:
    """A co-author's name checked by the registration rule (not "me": the first line is the author's)."""
    if len(name) > NAME_MAX:
        raise InvalidInput("error.shares_name_long", limit=NAME_MAX, length=len(name))
    if _ME_ALONE.match(fold(name)):
        raise InvalidInput("error.shares_self", name=name)
    if not valid_name(name):
        raise InvalidInput("error.shares_name", name=name)
    return name


def parse_shares(text: str) -> tuple[int, list[Share]]:
    """Parse the author's share (first line; "100" alone: no co-authors) and "Name – %" co-author
    lines, one per line or separated by ";" (a console line); whole percents, each name once
    and a person's name, totalling 100."""
    lines = [line.strip() for line in _SHARE_SEPARATORS.split(clean(text)) if line.strip()]
    if not lines:
        raise InvalidInput("error.shares_format")
    if any(_DECIMAL.search(line) for line in lines):
        raise InvalidInput("error.shares_whole")
    own = _OWN_SHARE.match(fold(lines[0]))
    if not own:
        raise InvalidInput("error.shares_format")
    shares: list[Share] = []
    for line in lines[1:]:
        match = _SHARE_LINE.match(line)
        name = match.group("name").strip(" -–—,:") if match else ""
        if not match or not name:
            raise InvalidInput("error.shares_format")
        _coauthor_name(name)
        if any(fold(name) == fold(share.name) for share in shares):
            raise InvalidInput("error.shares_duplicate", name=name)
        shares.append(Share(name, int(match.group("pct"))))
    own_percent = int(own.group(1))
    total = own_percent + sum(share.percent for share in shares)
    if own_percent <= 0 or any(share.percent <= 0 for share in shares):
        raise InvalidInput("error.shares_zero")
    if total != 100:
        raise InvalidInput("error.shares_total", total=total)
    return own_percent, shares
