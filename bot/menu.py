"""The main menu and the help text."""

from __future__ import annotations

from bot import callbacks as cb
from bot.domain import Initiative
from bot.messages import Button, Reply, rows
from bot.views import draft_args


def main_menu(draft: Initiative | None = None) -> Reply:
    """Offer what a registered person can do; continuing an unfinished draft comes first."""
    choices = rows(
        Button("menu.new", cb.MenuChoice("new").encode()),
        Button("menu.my", cb.MenuChoice("my").encode()),
        Button("menu.profile", cb.MenuChoice("profile").encode()),
        Button("menu.help", cb.MenuChoice("help").encode()),
        per_row=2,
    )
    if draft is None:
        return Reply("menu.text", {}, choices)
    resume = Button("button.resume", cb.ResumeDraft(draft.id).encode())
    return Reply("menu.with_draft", draft_args(draft), ((resume,), *choices))


def help_text() -> Reply:
    """List what the bot can do."""
    return Reply("help.text")
