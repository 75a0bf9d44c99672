"""Personal data: what is stored, an export of it, and deleting the account."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from bot import callbacks as cb
from bot.domain import RegStep
from bot.errors import InvalidInput
from bot.messages import Button, FileOut, Reply, rows
from bot.turn import Turn


def notice() -> Reply:
    """Explain what is stored and offer export and deletion."""
    return Reply(
        "privacy.text",
        {},
        rows(
            Button("privacy.export", cb.PrivacyChoice("export").encode()),
            Button("privacy.delete", cb.PrivacyChoice("delete").encode()),
        ),
    )


def _plain(value: Any) -> Any:
    """Make dates and enums JSON-friendly."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


async def press(turn: Turn, call: cb.PrivacyChoice) -> list[Reply]:
    """Handle the export / delete buttons."""
    choice = call.choice
    if choice == "export":
        data = await turn.tx.export_user(turn.user.id)
        unit = await turn.tx.unit(turn.user.unit_id) if turn.user.unit_id else None
        data["person"]["unit"] = unit.name if unit else None
        data["initiatives"] = [asdict(item) for item in data["initiatives"]]
        content = json.dumps(data, ensure_ascii=False, indent=2, default=_plain).encode()
        return [Reply("privacy.exported", file=FileOut(f"sangkien-data-{turn.user.id}.json", content))]
    if choice == "delete":
        buttons = rows(
            Button("privacy.confirm_delete", cb.PrivacyChoice("deleteok").encode()),
            Button("button.keep", cb.MenuChoice("privacy").encode()),
        )
        return [Reply("privacy.confirm", {}, buttons)]
    if choice == "deleteok":
        await turn.tx.forget_person(turn.user.id, now=turn.now)
        turn.user.deleted = True
        turn.user.reg_step = RegStep.LANGUAGE
        return [Reply("privacy.deleted", remove_keyboard=True)]
    raise InvalidInput("error.stale_button")
