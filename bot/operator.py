"""Reviewer rights from the command line (`sangkien reviewers …`): the operator acts as an admin."""

from __future__ import annotations

from datetime import datetime

from bot.config import person_key
from bot.domain import User, UserRef
from bot.errors import InvalidInput
from bot.i18n import Lines, Msg
from bot.messages import Notice, Reply
from bot.parsing import parse_phone
from bot.ports import Tx
from bot.reviewers import rights_notice
from bot.textnorm import display_name, fold


async def find_person(tx: Tx, who: str) -> User:
    """Find one registered person by @username, phone, id (as admins are written: a bare number is a
    Telegram id, `channel:id` another channel's, e.g. console:lan) or name."""
    who = who.strip()
    if who.startswith("@"):
        found = await tx.find_users(username=who[1:])
    elif who.startswith(("+", "0")):
        found = await tx.find_users(phone=parse_phone(who))
    elif who.isdigit() or ":" in who:
        try:
            channel, _, external = person_key(who).partition(":")
        except ValueError:
            raise InvalidInput("error.person_not_found", count=0) from None
        user = await tx.user_by_ref(UserRef(channel, external))
        found = [user] if user is not None and user.registered else []
    else:
        found = await tx.find_users(name=fold(who))
    if len(found) != 1:
        raise InvalidInput("error.person_not_found" if not found else "error.person_ambiguous", count=len(found))
    return found[0]


async def grant(tx: Tx, who: str, unit_code: str, *, now: datetime) -> tuple[Reply, list[Notice]]:
    """Give reviewer rights on a unit; the answer, and the notice telling the person (as /grant does)."""
    person, unit = await find_person(tx, who), await tx.unit_by_code(unit_code)
    if unit is None:
        raise InvalidInput("error.unknown_unit_code", code=unit_code)
    args = {"name": display_name(person.full_name) or "—", "unit": unit.name, "level": Msg(f"level.{unit.level}")}
    if not await tx.grant(person.id, unit.id, by=None, now=now):
        return Reply("admin.already_reviewer", args), []
    return Reply("admin.granted", args), [rights_notice(person, unit, granted=True)]


async def revoke(tx: Tx, who: str, unit_code: str, *, now: datetime) -> tuple[Reply, list[Notice]]:
    """Take reviewer rights on a unit away; the answer, and the notice telling the person (as /revoke does)."""
    person = await find_person(tx, who)
    grant = next(
        (g for g in await tx.grants(user_id=person.id) if g.unit.code.upper() == unit_code.upper()),
        None,
    )
    if grant is None or not await tx.revoke(grant.id, now=now):
        raise InvalidInput("error.not_a_reviewer_there", name=display_name(person.full_name) or "—", code=unit_code)
    notice = rights_notice(person, grant.unit, granted=False)
    return Reply("admin.revoked", {"name": person.full_name or "—", "unit": grant.unit.name}), [notice]


async def listing(tx: Tx) -> Reply:
    """Every active reviewer right."""
    lines = tuple(
        Msg("admin.reviewer_line", {"name": g.user.full_name or "—", "unit": g.unit.name}) for g in await tx.grants()
    )
    return Reply("admin.reviewers", {"lines": Lines(lines, empty="admin.no_reviewers")})
