"""Message catalogues from `locales/` and the formatting of their arguments."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LOCALE = "vi"


@dataclass(frozen=True)
class Msg:
    """A nested message, rendered in the reader's locale."""

    key: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lines:
    """Several nested messages joined by line breaks; `empty` is shown when there are none."""

    items: tuple[Msg, ...]
    empty: str = "common.none"


@dataclass(frozen=True)
class Vnd:
    """An amount of money in VND, shown as `1.234.567 đ`."""

    amount: int


@lru_cache(maxsize=4096)
def format_vnd(amount: int) -> str:
    """Format VND the Vietnamese way: dots between thousands, then đ (cached: Babel takes 24 µs,
    and a draft's value is shown again on every summary)."""
    return f"{format_decimal(amount, locale='vi', group_separator=True)} đ"


def format_int(value: int, locale: str) -> str:
    """Format a whole number: 1.204 in Vietnamese, 1,204 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if locale == "vi" else text


def format_date(value: date) -> str:
    """Format a date as dd/mm/yyyy."""
    return value.strftime("%d/%m/%Y")


def format_moment(value: datetime) -> str:
    """Format a local time as HH:MM dd/mm/yyyy."""
    return value.strftime("%H:%M %d/%m/%Y")


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    """Flatten nested TOML tables into dotted keys."""
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalogues of `locales/`, loaded once (the core reads button labels typed as answers)."""
    return Catalog()


class Catalog:
    """All message catalogues, keyed by locale then dotted key."""

    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self.messages: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            flat: dict[str, str] = {}
            with (directory / f"{lang}.toml").open("rb") as fh:
                _flatten("", tomllib.load(fh), flat)
            self.messages[lang] = flat

    def has(self, key: str) -> bool:
        """True when `key` exists in the default catalogue."""
        return key in self.messages[DEFAULT_LOCALE]

    def render(
        self,
        locale: str,
        key: str,
        args: Mapping[str, Any] | None = None,
        escape: Callable[[str], str] = lambda s: s,
    ) -> str:
        """Render `key` in `locale`, escaping user-supplied text with `escape`."""
        table = self.messages.get(locale) or self.messages[DEFAULT_LOCALE]
        template = table.get(key) or self.messages[DEFAULT_LOCALE].get(key)
        if template is None:
            raise KeyError(f"missing message {key!r}")
        values = {name: self._arg(locale, value, escape) for name, value in (args or {}).items()}
        return template.format_map(values)

    def _arg(self, locale: str, value: Any, escape: Callable[[str], str]) -> str:
        """Turn one argument into text."""
        if isinstance(value, Msg):
            return self.render(locale, value.key, value.args, escape)
        if isinstance(value, Lines):
            if not value.items:
                return self.render(locale, value.empty, None, escape)
            return "\n".join(self.render(locale, m.key, m.args, escape) for m in value.items)
        if isinstance(value, Vnd):
            return format_vnd(value.amount)
        if isinstance(value, datetime):
            return format_moment(value)
        if isinstance(value, date):
            return format_date(value)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return format_int(value, locale)
        if isinstance(value, float):  # a mean score, one decimal: 4,5 in Vietnamese, 4.5 in English
            return format_decimal(value, format="0.#", locale=locale)
        return escape(str(value))
