"""Render the core's replies for Zalo: plain text, buttons as numbered lines, pictures by URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import Attachment
from bot.i18n import Catalog
from bot.messages import Choice, FileOut, Reply
from handlers.choices import choices, labels
from handlers.plain import plain

IMAGE_NAMES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass
class Rendered:
    """One outcome as Zalo messages: the text, the options it numbers, pictures and files."""

    text: str
    options: list[Choice] = field(default_factory=list)
    media: list[Attachment] = field(default_factory=list)
    files: list[FileOut] = field(default_factory=list)


def hint(catalog: Catalog, locale: str, count: int) -> str:
    """The line under a menu that says what to type: "Gõ 1, 2 hoặc 3"."""
    if count == 1:
        return catalog.render(locale, "choice.one")
    if count <= 4:
        numbers = ", ".join(str(n) for n in range(1, count))
        return catalog.render(locale, "choice.few", {"numbers": numbers, "last": str(count)})
    return catalog.render(locale, "choice.many", {"last": str(count)})


def render(catalog: Catalog, locale: str, replies: list[Reply], *, pictures: bool = True) -> Rendered:
    """Every reply in order as one text; the buttons numbered across them, then what to type. Without
    `pictures` (no public URL to send them from), a picture's alt text follows its reply's text."""
    text_of = labels(catalog, locale)
    blocks: list[str] = []
    shown: list[Choice] = []
    for reply in (r for r in replies if not r.edits_earlier):  # Zalo has no edits: nothing to show
        lines = [plain(text_of(reply.key, reply.args))]
        if not pictures and reply.file is not None and reply.file.alt is not None and is_picture(reply.file):
            lines.append("\n" + plain(text_of(reply.file.alt.key, dict(reply.file.alt.args))))
        for choice in choices([reply], text_of):
            shown.append(choice)
            lines.append(f"{len(shown)}. {choice.label}")
        blocks.append("\n".join(lines))
    if shown:
        blocks.append(hint(catalog, locale, len(shown)))
    return Rendered(
        "\n\n".join(b for b in blocks if b.strip()),
        shown,
        [item for reply in replies for item in reply.media],
        [reply.file for reply in replies if reply.file is not None],
    )


def is_picture(file: FileOut) -> bool:
    """True for a file Zalo can show as a photo."""
    return file.name.lower().endswith(IMAGE_NAMES)
