"""One person on Telegram and Zalo: a one-time code shown in one app and typed in the other."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.domain import User, UserRef
from bot.errors import InvalidInput
from bot.menu import main_menu
from bot.messages import Reply, private_chat
from bot.turn import Turn

CODE_MINUTES = 10
MAX_WRONG = 5
LOCK = timedelta(hours=1)
APPS = {"telegram": "Telegram", "zalo": "Zalo", "console": "console"}


async def show_code(turn: Turn) -> list[Reply]:
    """Give the person a fresh code (single use, 10 minutes) to type in the other app."""
    if not turn.user.registered:
        raise InvalidInput("error.register_first")
    expires = turn.now + timedelta(minutes=CODE_MINUTES)
    while True:  # a six-digit code may be another person's live one: draw again
        code = f"{secrets.randbelow(10**6):06d}"
        if await turn.tx.put_link_code(turn.user.id, code, expires_at=expires, now=turn.now):
            break
    return [Reply("link.code", {"code": code, "minutes": CODE_MINUTES})]


async def use_code(turn: Turn, ref: UserRef, typed: str) -> list[Reply]:
    """Join the identity `ref` (this app) to the account that showed the code: what this app's own
    account holds (initiatives, a draft, reviewer rights, reminder settings) moves to it, and this
    account is retired."""
    user = turn.user
    locked = await turn.tx.link_locked_until(user.id)
    if locked is not None and locked > turn.now:
        raise InvalidInput("link.locked", until=turn.local_time(locked).strftime("%H:%M"))
    code = "".join(typed.split())
    owner_id = await turn.tx.link_code_owner(code, now=turn.now) if code.isdigit() else None
    if owner_id is None:
        left = await turn.tx.link_failed(user.id, now=turn.now, limit=MAX_WRONG, lock=LOCK)
        if not left:
            until = turn.local_time(turn.now + LOCK).strftime("%H:%M")
            raise InvalidInput("link.locked", until=until)
        raise InvalidInput("link.wrong", left=left)
    owner = await turn.tx.user(owner_id)
    if owner is None or owner.deleted:
        raise InvalidInput("link.wrong", left=MAX_WRONG)
    if owner.id == user.id or user.ref != ref:
        raise InvalidInput("link.same_account")
    if owner.ref.channel == ref.channel:
        raise InvalidInput("link.same_app", app=APPS.get(ref.channel, ref.channel))
    owner = await turn.tx.user_by_ref(owner.ref, for_update=True) or owner  # its other app's updates wait
    if await turn.tx.both_voted(owner.id, user.id):
        raise InvalidInput("link.both_voted", app=APPS.get(owner.ref.channel, owner.ref.channel))
    await turn.tx.drop_link_code(code)
    await turn.tx.link_succeeded(user.id)
    told = await merge(turn, owner)
    await turn.tx.forget_person(user.id, now=turn.now)  # frees this identity for the link
    await turn.tx.link_identity(ref, owner.id, now=turn.now)
    user.deleted = True  # nothing of the retired account is saved back
    here, there = APPS.get(ref.channel, ref.channel), APPS.get(owner.ref.channel, owner.ref.channel)
    turn.notify(private_chat(owner.ref), owner.locale, Reply("link.done_there", {"app": here}))
    done = Reply("link.done", {"name": owner.full_name or "", "app": there})
    return [done, *told, main_menu()]


async def merge(turn: Turn, owner: User) -> list[Reply]:
    """Move what the retiring account (the turn's) holds to `owner`; what the person is told of it.
    Of two unsent drafts the newer is kept; a reminder turned off on either stays off."""
    user, told = turn.user, []
    drafts = await turn.tx.open_drafts([owner.id, user.id])
    if len(drafts) == 2:
        kept, dropped = sorted(drafts, key=lambda d: d.updated_at or d.created_at or turn.now, reverse=True)
        await turn.tx.delete_draft(dropped.id)
        told.append(Reply("link.draft_kept", {"kept": kept.title or "…", "dropped": dropped.title or "…"}))
    merged = await turn.tx.merge_person(owner.id, user.id)
    if merged.initiatives or merged.rights:
        told.insert(0, Reply("link.merged", {"initiatives": merged.initiatives, "rights": merged.rights}))
    owner.reminders_off = owner.reminders_off or user.reminders_off
    owner.leaderboard_off = owner.leaderboard_off or user.leaderboard_off
    await turn.tx.save_user(owner, now=turn.now)
    return told
