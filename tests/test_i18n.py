"""Message catalogues: vi and en agree, every key the code uses exists, arguments are formatted."""

from __future__ import annotations

import html
import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import DEFAULT_CATEGORIES
from bot.domain import InitiativeType, Status
from bot.fields import NAMES
from bot.i18n import LANGUAGES, Catalog, Lines, Msg, Vnd, format_date, format_vnd

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")])
KEY = r"[a-z_]+(?:\.[a-z_]+)*"
CALL = re.compile(rf"\b(?:Reply|Button|InvalidInput|DomainError|Msg)\(\s*\"({KEY})\"")
RENDER = re.compile(rf"\.render\(\s*[\w.]+,\s*\"({KEY})\"")
LITERAL = re.compile(r"\"([a-z_]+(?:\.[a-z_]+)+)\"")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def format_fields(template: str) -> set[str]:
    """The {names} a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def source_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)


def test_vi_and_en_have_exactly_the_same_keys(catalog: Catalog) -> None:
    vi, en = set(catalog.messages["vi"]), set(catalog.messages["en"])
    assert len(vi) > 100
    assert sorted(vi - en) == []
    assert sorted(en - vi) == []


def test_vi_and_en_use_the_same_placeholders_per_key(catalog: Catalog) -> None:
    vi, en = catalog.messages["vi"], catalog.messages["en"]
    differing = {
        key: (format_fields(vi[key]), format_fields(en[key]))
        for key in vi.keys() & en.keys()
        if format_fields(vi[key]) != format_fields(en[key])
    }
    assert differing == {}


def test_every_template_is_well_formed(catalog: Catalog) -> None:
    for lang in LANGUAGES:
        for key, template in catalog.messages[lang].items():
            assert template.strip(), f"{lang}:{key} is empty"
            format_fields(template)  # raises ValueError on a stray brace


def test_every_key_called_in_the_code_exists_in_both_catalogues(catalog: Catalog) -> None:
    text = source_text()
    used = set(CALL.findall(text)) | set(RENDER.findall(text))
    assert {"welcome", "error.money", "button.submit", "receipt.text", "error.internal"} <= used
    assert len(used) > 60
    for lang in LANGUAGES:
        missing = sorted(used - set(catalog.messages[lang]))
        assert missing == [], f"missing in {lang}.toml"


def test_every_dotted_literal_of_a_catalogue_section_exists(catalog: Catalog) -> None:
    sections = {key.split(".")[0] for key in catalog.messages["vi"] if "." in key}
    literals = {k for k in LITERAL.findall(source_text()) if k.split(".")[0] in sections}
    assert "common.sole_author" in literals
    for lang in LANGUAGES:
        assert sorted(k for k in literals if k not in catalog.messages[lang]) == []


def test_keys_built_from_names_exist_in_both_catalogues(catalog: Catalog) -> None:
    built = (
        [f"status.{s.value}" for s in Status]
        + [f"type.{t.value}" for t in InitiativeType]
        + [f"category.{c.key}" for c in DEFAULT_CATEGORIES]
        + [f"field.{name}" for name in NAMES]
        + [f"ask.{name}" for name in NAMES]
        + [f"language.{lang}" for lang in LANGUAGES]
    )
    for lang in LANGUAGES:
        assert sorted(k for k in built if k not in catalog.messages[lang]) == []


@pytest.mark.parametrize(
    ("amount", "text"),
    [(1_234_567, "1.234.567 đ"), (50_000_000, "50.000.000 đ"), (999, "999 đ"), (0, "0 đ")],
)
def test_money_is_formatted_the_vietnamese_way(amount: int, text: str) -> None:
    assert format_vnd(amount) == text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_money_and_dates_render_the_same_in_every_locale(catalog: Catalog, lang: str) -> None:
    value = catalog.render(lang, "common.literal", {"text": Vnd(1_234_567)})
    day = catalog.render(lang, "common.literal", {"text": date(2026, 3, 5)})
    assert (value, day) == ("1.234.567 đ", "05/03/2026")


def test_dates_are_dd_mm_yyyy() -> None:
    assert format_date(date(2026, 2, 1)) == "01/02/2026"
    assert format_date(date(2027, 12, 31)) == "31/12/2027"


def test_a_moment_renders_as_hours_then_date(catalog: Catalog) -> None:
    moment = datetime(2026, 11, 25, 17, 5, tzinfo=UTC)
    assert catalog.render("vi", "common.literal", {"text": moment}) == "17:05 25/11/2026"


def test_counts_are_grouped_per_locale(catalog: Catalog) -> None:
    assert catalog.render("vi", "common.literal", {"text": 130000}) == "130.000"
    assert catalog.render("en", "common.literal", {"text": 130000}) == "130,000"


def test_user_text_is_escaped_while_catalogue_markup_is_kept(catalog: Catalog) -> None:
    out = catalog.render(
        "vi",
        "register.done",
        {"name": "<b>Lan</b> & {unit}", "unit": Msg("register.unit_from_link", {"unit": "A<B"})},
        escape=html.escape,
    )
    assert "&lt;b&gt;Lan&lt;/b&gt; &amp; {unit}" in out
    assert "<b>Đơn vị của bạn: <b>A&lt;B</b>.</b>" in out
    assert "<b>Lan</b>" not in out


def test_lines_render_each_item_escaped_or_the_empty_message(catalog: Catalog) -> None:
    people = Lines((Msg("line.coauthor", {"name": "Nam <i>", "percent": 40}),))
    assert catalog.render("vi", "common.literal", {"text": people}, escape=html.escape) == ("• Nam &lt;i&gt;: 40%")
    nobody = Lines((), empty="common.sole_author")
    assert catalog.render("en", "common.literal", {"text": nobody}) == (catalog.messages["en"]["common.sole_author"])


def test_without_an_escape_function_text_is_left_alone(catalog: Catalog) -> None:
    assert catalog.render("vi", "common.literal", {"text": "a < b & c"}) == "a < b & c"


def test_an_unknown_locale_falls_back_to_vietnamese_and_an_unknown_key_raises(
    catalog: Catalog,
) -> None:
    assert catalog.render("fr", "menu.text") == catalog.messages["vi"]["menu.text"]
    with pytest.raises(KeyError):
        catalog.render("vi", "no.such_key")


# The layout rule: a block the code appends after other text (card.changed, card.votes, card.hints,
# card.applied, report.sector, …) carries its own leading line break, written "\n" on one line; TOML
# drops a line break right after an opening """, so no value may open that way; and every key is laid
# out alike in both locales (the same leading and trailing line breaks, the same number of lines).
OPENS_ON_A_DROPPED_LINE = re.compile(r'^[\w-]+\s*=\s*"""\r?\n', re.M)


def layout(template: str) -> tuple[int, int, int]:
    """Leading line breaks, lines and trailing line breaks of a template rendered with one-word arguments."""
    text = template.format_map({name: "x" for name in format_fields(template)})
    return len(text) - len(text.lstrip("\n")), text.count("\n"), len(text) - len(text.rstrip("\n"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_value_opens_on_a_line_break_that_toml_drops(lang: str) -> None:
    text = (ROOT / "locales" / f"{lang}.toml").read_text(encoding="utf-8")
    assert OPENS_ON_A_DROPPED_LINE.findall(text) == []


def test_every_key_renders_with_the_same_layout_in_both_locales(catalog: Catalog) -> None:
    vi, en = catalog.messages["vi"], catalog.messages["en"]
    differing = {key: (layout(vi[key]), layout(en[key])) for key in vi if layout(vi[key]) != layout(en[key])}
    assert differing == {}
    blocks = {key for key in vi if layout(vi[key])[0]}
    assert {"card.changed", "card.votes", "card.hints", "card.applied"} <= blocks
    assert all(layout(vi[key])[0] == 1 and not layout(vi[key])[2] for key in blocks)
