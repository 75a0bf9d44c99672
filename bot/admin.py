"""Administration in chat: grant and revoke reviewer rights, list reviewers, bind a review group."""

from __future__ import annotations

from bot import callbacks as cb
from bot import campaign_admin
from bot.config import Config
from bot.domain import User, UserRef
from bot.errors import InvalidInput
from bot.i18n import Lines, Msg
from bot.messages import Button, Reply, private_chat, rows
from bot.parsing import parse_phone
from bot.reviewers import rights_notice
from bot.textnorm import display_name, fold
from bot.turn import Turn


def is_admin(turn: Turn, ref: UserRef | None = None) -> bool:
    """True for people listed as admins in the configuration (as `channel:id`, on any channel)."""
    return private_chat(ref or turn.user.ref) in turn.config.bot.admins


def telegram_admin_only(config: Config, ref: UserRef) -> Reply | None:
    """A hint for someone not an admin on this channel whose id is listed as a Telegram admin (a bare
    number is a Telegram id): how to list them on this channel."""
    key = private_chat(ref)
    if ref.channel == "telegram" or key in config.bot.admins or f"telegram:{ref.external_id}" not in config.bot.admins:
        return None
    return Reply("admin.listed_for_telegram", {"id": ref.external_id, "key": key})


def _require_admin(turn: Turn) -> None:
    """Refuse non-admins."""
    if not is_admin(turn):
        raise InvalidInput("error.admin_only")


def _person_button(user: User) -> Button:
    """A button naming a person (name, masked phone)."""
    phone = f"…{user.phone[-3:]}" if user.phone else ""
    return Button(
        "admin.person", cb.GrantPerson(user.id).encode(), {"name": display_name(user.full_name) or "—", "phone": phone}
    )


async def grant_command(turn: Turn, args: str, reply_to: UserRef | None) -> list[Reply]:
    """Answer /grant: find the person (replied-to message, @username, phone or name)."""
    _require_admin(turn)
    query = args.strip()
    if reply_to is not None:
        found = [u for u in [await turn.tx.user_by_ref(reply_to)] if u is not None and u.registered]
    elif query.startswith("@"):
        found = await turn.tx.find_users(username=query[1:])
    elif query:
        try:
            found = await turn.tx.find_users(phone=parse_phone(query))
        except InvalidInput:
            found = await turn.tx.find_users(name=fold(query))
    else:
        raise InvalidInput("error.grant_usage")
    if not found:
        raise InvalidInput("error.person_not_found")
    if len(found) == 1:
        return await pick_person(turn, found[0].id)
    return [Reply("admin.pick_person", {}, rows(*(_person_button(u) for u in found)))]


async def pick_person(turn: Turn, user_id: int) -> list[Reply]:
    """Offer the person's unit and the units above it."""
    _require_admin(turn)
    person = await turn.tx.user(user_id)
    if person is None or not person.registered or person.unit_id is None:
        raise InvalidInput("error.person_not_found")
    chain = await turn.tx.unit_chain(person.unit_id)
    buttons = [
        Button(
            "admin.unit",
            cb.GrantUnit(person.id, unit.id).encode(),
            {"name": unit.name, "level": Msg(f"level.{unit.level}")},
        )
        for unit in chain
    ]
    return [Reply("admin.pick_unit", {"name": display_name(person.full_name) or "—"}, rows(*buttons))]


async def grant(turn: Turn, user_id: int, unit_id: int) -> list[Reply]:
    """Make the person a reviewer of the unit and tell them."""
    _require_admin(turn)
    person, unit = await turn.tx.user(user_id), await turn.tx.unit(unit_id)
    if person is None or unit is None or person.unit_id is None:
        raise InvalidInput("error.stale_button")
    if unit.id not in [u.id for u in await turn.tx.unit_chain(person.unit_id)]:
        raise InvalidInput("error.stale_button")
    if not await turn.tx.grant(person.id, unit.id, by=turn.user.id, now=turn.now):
        return [Reply("admin.already_reviewer", {"name": person.full_name or "—", "unit": unit.name})]
    turn.notices.append(rights_notice(person, unit, granted=True))
    level = Msg(f"level.{unit.level}")
    return [Reply("admin.granted", {"name": display_name(person.full_name) or "—", "unit": unit.name, "level": level})]


async def reviewers_list(turn: Turn, *, revoke_buttons: bool) -> list[Reply]:
    """List active reviewers by unit (with revoke buttons for /revoke)."""
    _require_admin(turn)
    grants = await turn.tx.grants()
    lines = tuple(Msg("admin.reviewer_line", {"name": g.user.full_name or "—", "unit": g.unit.name}) for g in grants)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if revoke_buttons:
        buttons = rows(
            *(
                Button(
                    "admin.revoke_button",
                    cb.RevokeGrant(g.id).encode(),
                    {"name": display_name(g.user.full_name) or "—", "unit": g.unit.code},
                )
                for g in grants
            )
        )
    return [Reply("admin.reviewers", {"lines": Lines(lines, empty="admin.no_reviewers")}, buttons)]


async def revoke(turn: Turn, grant_id: int) -> list[Reply]:
    """Take a reviewer right away and tell the person."""
    _require_admin(turn)
    grant = next((g for g in await turn.tx.grants() if g.id == grant_id), None)
    if grant is None or not await turn.tx.revoke(grant_id, now=turn.now):
        raise InvalidInput("error.stale_button")
    turn.notices.append(rights_notice(grant.user, grant.unit, granted=False))
    return [Reply("admin.revoked", {"name": grant.user.full_name or "—", "unit": grant.unit.name})]


async def bind_group(turn: Turn, chat_key: str, code: str) -> list[Reply]:
    """In a group chat: make it the review group of the unit with `code`."""
    _require_admin(turn)
    unit = await turn.tx.unit_by_code(code.strip()) if code.strip() else None
    if unit is None:
        raise InvalidInput("error.reviewgroup_usage")
    await turn.tx.set_review_chat(unit.id, chat_key)
    return [Reply("admin.group_bound", {"unit": unit.name})]


async def campaigns(turn: Turn) -> list[Reply]:
    """Answer /campaigns: every campaign with its progress, and how to change one."""
    _require_admin(turn)
    return await campaign_admin.overview(turn.tx)


async def change_campaign(turn: Turn, args: str) -> list[Reply]:
    """Answer /campaign …: create or change a campaign (see campaigns.usage)."""
    _require_admin(turn)
    reply = await campaign_admin.change(turn.tx, args.split(), now=turn.now)
    turn.campaigns_changed = True
    return [reply]
