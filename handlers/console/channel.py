"""Run the conversation in a terminal: type answers and /commands, pick buttons by number."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from pathlib import Path
from typing import TextIO

from bot.delivery import Delivery
from bot.domain import Attachment, UserRef
from bot.i18n import Catalog
from bot.messages import Choice, Command, Core, Inbound, Payload, Reply, Text, Upload
from handlers.choices import NumberedMenus, choices, labels
from handlers.plain import plain

CHANNEL = "console"


class NoSuchFile(Exception):
    """`:photo PATH` / `:file PATH` named no readable file."""


def upload(line: str) -> Payload:
    """Read `:photo PATH` / `:file PATH`, perhaps followed by ` | caption`, as an attachment kept by its path."""
    kind, _, rest = line[1:].partition(" ")
    raw, _, caption = rest.partition(" | ")
    path = Path(raw.strip()).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NoSuchFile(raw.strip()) from error
    attachment = Attachment(
        "photo" if kind == "photo" else "document",
        file_id=f"file://{path.resolve()}",
        file_unique_id=hashlib.sha256(data).hexdigest()[:32],
        size=len(data),
        mime_type=mimetypes.guess_type(path.name)[0],
        file_name=path.name,
        caption=caption.strip() or None,
    )
    return Upload(attachment)


class ConsoleChannel:
    """A terminal session of one person."""

    def __init__(
        self, core: Core, catalog: Catalog, person: str, stdin: TextIO, stdout: TextIO, delivery: Delivery | None = None
    ) -> None:
        self.core = core
        self.delivery = delivery
        self.catalog = catalog
        self.ref = UserRef(CHANNEL, person)
        self.stdin = stdin
        self.stdout = stdout
        self.numbering = NumberedMenus(catalog)
        self.locale = "vi"

    def parse(self, line: str) -> Payload:
        """Turn a typed line into a payload (a number or an option's text is read by the core
        against the menu shown last)."""
        stripped = line.strip()
        if stripped.startswith((":photo ", ":file ")):
            return upload(stripped)
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            return Command(head.lower(), rest.strip())
        return Text(line.rstrip("\n"))

    def show(self, replies: list[Reply]) -> None:
        """Print replies, numbering their buttons."""
        render = labels(self.catalog, self.locale)
        shown: list[Choice] = []
        for reply in replies:
            self.stdout.write(plain(render(reply.key, reply.args)) + "\n")
            for choice in choices([reply], render):
                shown.append(choice)
                self.stdout.write(f"  [{len(shown)}] {choice.label}\n")
            if reply.file is not None:
                target = Path.cwd() / reply.file.name
                target.write_bytes(reply.file.content)
                self.stdout.write(f"  -> {target}\n")
            for item in reply.media:
                self.stdout.write(f"  📎 {item.file_name or item.file_id}\n")
        self.stdout.write("> ")
        self.stdout.flush()

    async def send(self, line: str) -> None:
        """Handle one typed line (a file that cannot be read is reported here; nothing is sent)."""
        try:
            payload = self.parse(line)
        except NoSuchFile as missing:
            text = labels(self.catalog, self.locale)("console.no_file", {"path": str(missing)})
            self.stdout.write(plain(text) + "\n> ")
            self.stdout.flush()
            return
        outcome = await self.core.handle(Inbound(self.ref, payload, private=True, numbering=self.numbering))
        self.locale = outcome.locale
        if outcome.alert:
            self.stdout.write(f"(!) {plain(self.catalog.render(self.locale, outcome.alert))}\n")
        await self.show_outbox()
        self.show(outcome.replies)
        if outcome.kept:
            await self.core.delivered(outcome.kept)

    async def show_outbox(self) -> None:
        """Print what waits in the outbox for console chats (this terminal is their channel's sender)."""
        if self.delivery is None:
            return
        while items := await self.delivery.next_batch(100, channel=CHANNEL):
            for item in items:
                self.show_notice(item.chat, item.locale, list(await self.delivery.replies(item)))
                await self.delivery.sent(item.id)

    def show_notice(self, chat: str, locale: str, replies: list[Reply]) -> None:
        """Print what the bot sends to another chat (a reviewer, an author), indented."""
        self.stdout.write(f"  ── → {chat}\n")
        for reply in replies:
            text = plain(labels(self.catalog, locale)(reply.key, reply.args))
            self.stdout.write("".join(f"  │ {line}\n" for line in text.split("\n")))

    async def run(self) -> None:
        """Read lines until end of input."""
        self.stdout.write(self.catalog.render(self.locale, "console.banner") + "\n> ")
        self.stdout.flush()
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            if line.strip():
                await self.send(line)
        self.stdout.write("\n")
