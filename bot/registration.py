"""Registration and profile: language, consent, full name, phone, unit (or a deep-linked unit)."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks as cb
from bot.domain import RegStep, User
from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, Msg
from bot.menu import main_menu
from bot.messages import Button, Contact, Payload, Reply, Text, rows
from bot.parsing import parse_phone, valid_name
from bot.textnorm import clean, display_name, search_words
from bot.turn import Turn

UNIT_CHOICES = 8


def language_menu(user: User) -> Reply:
    """Offer the languages, the current one marked."""
    buttons = [
        Button(
            f"language.{lang}",
            cb.SetLanguage(lang).encode(),
            {"mark": "✅ " if lang == user.locale else ""},
        )
        for lang in LANGUAGES
    ]
    return Reply("language.choose", {}, rows(*buttons), question=True)


def consent_prompt() -> Reply:
    """Ask for consent to the processing of personal data."""
    return Reply(
        "consent.ask",
        {},
        rows(
            Button("button.agree", cb.Consent("yes").encode()),
            Button("button.decline", cb.Consent("no").encode()),
        ),
        question=True,
    )


async def prompt(turn: Turn) -> Reply:
    """Ask the question of the person's current registration step."""
    step = turn.user.reg_step
    if step is RegStep.LANGUAGE:
        return language_menu(turn.user)
    if step is RegStep.CONSENT:
        return consent_prompt()
    if step is RegStep.NAME:
        return Reply("register.ask_name")
    if step is RegStep.PHONE:
        return Reply("register.ask_phone", ask_contact=True)
    return Reply("register.ask_unit")


async def begin(turn: Turn, unit_code: str) -> list[Reply]:
    """Handle /start for someone not yet registered (remembering a deep-linked unit)."""
    replies: list[Reply] = []
    if unit_code:
        unit = await turn.tx.unit_by_code(unit_code)
        if unit and turn.user.reg_step is RegStep.UNIT:
            return await _bind_unit(turn, unit.id, unit.name)
        if unit:
            turn.user.pending_unit_code = unit.code
            replies.append(Reply("register.unit_from_link", {"unit": unit.name}))
        else:
            replies.append(Reply("error.unknown_unit_code", {"code": unit_code[:32]}))
    if turn.user.reg_step is RegStep.LANGUAGE:
        replies.append(Reply("welcome"))
    replies.append(await prompt(turn))
    return replies


async def press(turn: Turn, call: cb.SetLanguage | cb.Consent | cb.PickUnit) -> list[Reply]:
    """Handle a registration button: language, consent or a unit picked from search results."""
    user = turn.user
    if isinstance(call, cb.SetLanguage) and call.code in LANGUAGES:
        user.locale = call.code
        if user.reg_step is RegStep.LANGUAGE:
            user.reg_step = RegStep.CONSENT
            return [Reply("language.set", edit=True), consent_prompt()]
        if user.reg_step is not RegStep.DONE:  # mid-registration: ask again, in the new language
            return [Reply("language.set", edit=True), await prompt(turn)]
        return [Reply("language.set", edit=True)]
    if isinstance(call, cb.Consent) and user.reg_step is RegStep.CONSENT:
        if call.answer != "yes":
            return [Reply("consent.declined")]
        user.consent_at = turn.now
        user.reg_step = RegStep.NAME
        return [Reply("consent.thanks", edit=True), await prompt(turn)]
    if isinstance(call, cb.PickUnit) and user.reg_step is RegStep.UNIT:
        unit = await turn.tx.unit(call.unit)
        if unit is None:
            raise InvalidInput("error.stale_button")
        return await _bind_unit(turn, unit.id, unit.name)
    raise InvalidInput("error.stale_button")


async def answer(turn: Turn, payload: Payload) -> list[Reply]:
    """Take a typed (or shared) answer for the current registration step."""
    user = turn.user
    if user.reg_step in (RegStep.LANGUAGE, RegStep.CONSENT):
        raise InvalidInput("error.use_buttons")
    if user.reg_step is RegStep.PHONE:
        if isinstance(payload, Contact):
            if not payload.own:
                raise InvalidInput("error.contact_not_own")
            user.phone = parse_phone(payload.phone)
        elif isinstance(payload, Text):
            user.phone = parse_phone(clean(payload.text))
        else:
            raise InvalidInput("error.expected_phone")
        return await _after_phone(turn)
    if not isinstance(payload, Text):
        raise InvalidInput("error.expected_text")
    text = clean(payload.text)
    if not text:
        raise InvalidInput("error.empty")
    if user.reg_step is RegStep.NAME:
        if not valid_name(text):
            raise InvalidInput("error.name")
        user.full_name = text
        return await _next(turn, RegStep.PHONE)
    return await _search_unit(turn, text)


def without_contact_keyboard(replies: list[Reply]) -> list[Reply]:
    """Take the share-contact keyboard away with the first new message that carries no buttons of its own."""
    for index, reply in enumerate(replies):
        if not (reply.edit or reply.buttons or reply.ask_contact):
            return [*replies[:index], replace(reply, remove_keyboard=True), *replies[index + 1 :]]
    if any(not reply.edit for reply in replies):  # only inline keyboards, which cannot share a message with it
        return [Reply("profile.unchanged", remove_keyboard=True), *replies]
    return replies


async def _after_phone(turn: Turn) -> list[Reply]:
    """After the phone: bind a deep-linked unit directly, or ask for the unit."""
    user = turn.user
    if user.editing_profile:
        return await finish_edit(turn)
    if user.pending_unit_code:
        unit = await turn.tx.unit_by_code(user.pending_unit_code)
        if unit:
            return await _bind_unit(turn, unit.id, unit.name)
    return await _next(turn, RegStep.UNIT)


async def _next(turn: Turn, step: RegStep) -> list[Reply]:
    """Move to `step` (or back to the profile when editing) and ask."""
    if turn.user.editing_profile:
        return await finish_edit(turn)
    turn.user.reg_step = step
    return [await prompt(turn)]


async def _search_unit(turn: Turn, text: str) -> list[Reply]:
    """Find units by part of their name, diacritics optional, and offer them as buttons."""
    key = search_words(text)
    if len(key) < 2:
        raise InvalidInput("error.unit_query_short")
    found = await turn.tx.search_units(key, limit=UNIT_CHOICES + 1)
    if not found:
        raise InvalidInput("error.unit_not_found", query=text[:100])
    buttons = [Button("common.literal", cb.PickUnit(u.id).encode(), {"text": u.name}) for u in found[:UNIT_CHOICES]]
    more = len(found) > UNIT_CHOICES
    return [
        Reply(
            "register.pick_unit",
            {"more": Msg("register.more_units") if more else ""},
            rows(*buttons),
            question=True,
        )
    ]


async def _bind_unit(turn: Turn, unit_id: int, name: str) -> list[Reply]:
    """Attach the person to a unit and finish registration (or the profile edit)."""
    user = turn.user
    user.unit_id = unit_id
    user.pending_unit_code = None
    if user.editing_profile:
        return await finish_edit(turn)
    user.reg_step = RegStep.DONE
    return [Reply("register.done", {"name": display_name(user.full_name), "unit": name}), main_menu()]


def profile_card(turn: Turn, unit_name: str) -> Reply:
    """Show the person's profile with buttons to change each field."""
    user = turn.user
    buttons = rows(
        Button("profile.edit_name", cb.EditProfile("name").encode()),
        Button("profile.edit_phone", cb.EditProfile("phone").encode()),
        Button("profile.edit_unit", cb.EditProfile("unit").encode()),
        Button("profile.edit_language", cb.EditProfile("language").encode()),
    )
    args = {
        "name": display_name(user.full_name),
        "phone": user.phone or "",
        "unit": unit_name,
        "language": Msg(f"language.{user.locale}", {"mark": ""}),
    }
    return Reply("profile.card", args, buttons)


async def show_profile(turn: Turn) -> list[Reply]:
    """Answer /profile."""
    unit = await turn.tx.unit(turn.user.unit_id) if turn.user.unit_id else None
    return [profile_card(turn, unit.name if unit else "—")]


async def edit_profile(turn: Turn, call: cb.EditProfile) -> list[Reply]:
    """Start editing one profile field, reusing the registration question for it."""
    target = {"name": RegStep.NAME, "phone": RegStep.PHONE, "unit": RegStep.UNIT}.get(call.field)
    if call.field == "language":
        return [language_menu(turn.user)]
    if target is None:
        raise InvalidInput("error.stale_button")
    turn.user.reg_step, turn.user.editing_profile = target, True
    return [await prompt(turn)]


async def finish_edit(turn: Turn) -> list[Reply]:
    """End a profile edit and show the profile again."""
    stop_editing(turn.user)
    return [Reply("profile.saved"), *await show_profile(turn)]


def stop_editing(user: User) -> None:
    """Leave a profile edit (the person stays registered)."""
    user.reg_step, user.editing_profile = RegStep.DONE, False


async def cancel_edit(turn: Turn) -> list[Reply]:
    """Stop a profile edit without changes."""
    stop_editing(turn.user)
    return [Reply("profile.unchanged"), *await show_profile(turn)]
