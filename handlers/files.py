"""Files people sent through a channel whose links expire (Zalo), kept by content in one folder."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

PREFIX = "file:"  # an Attachment.file_id naming a file of this store: "file:<sha256><suffix>"
_NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp|gif)$")


class FileStore:
    """A folder of files named by their SHA-256; writing the same bytes twice keeps one copy."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _write(self, name: str, content: bytes) -> None:
        """Write atomically (a reader never sees half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        if target.exists():
            return
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(target)

    async def put(self, content: bytes, suffix: str = ".jpg") -> str:
        """Keep `content`; return its file id for an attachment."""
        name = f"{hashlib.sha256(content).hexdigest()}{suffix}"
        await asyncio.to_thread(self._write, name, content)
        return f"{PREFIX}{name}"

    async def get(self, file_id: str) -> bytes | None:
        """The bytes of a file id from `put`, or None for any other id (or a file gone)."""
        name = file_id.removeprefix(PREFIX)
        if not file_id.startswith(PREFIX) or not _NAME.match(name):
            return None
        try:
            return await asyncio.to_thread((self.folder / name).read_bytes)
        except OSError:
            return None


def image_suffix(content: bytes) -> str:
    """The file suffix of a picture, from its first bytes (JPEG unless it says otherwise)."""
    if content.startswith(b"\x89PNG"):
        return ".png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return ".webp"
    if content.startswith(b"GIF8"):
        return ".gif"
    return ".jpg"
