"""The main menu and the help text."""

from __future__ import annotations

from bot import callbacks as cb
from bot.messages import Button, Reply, rows


def main_menu() -> Reply:
    """Offer what a registered person can do."""
    return Reply(
        "menu.text",
        {},
        rows(
            Button("menu.new", cb.MenuChoice("new").encode()),
            Button("menu.my", cb.MenuChoice("my").encode()),
            Button("menu.profile", cb.MenuChoice("profile").encode()),
            Button("menu.help", cb.MenuChoice("help").encode()),
            per_row=2,
        ),
    )


def help_text() -> Reply:
    """List what the bot can do."""
    return Reply("help.text")
