"""Links to pictures the bot serves itself (Zalo sends photos by URL only): unguessable and expiring."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from handlers.files import PREFIX

PATH = "/p"


class PictureLinks:
    """Sign `<public_url>/p/<expiry>/<signature>/<name>` links, and check them when they are fetched."""

    def __init__(
        self,
        public_url: str,
        minutes: int = 1440,
        *,
        key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = public_url.rstrip("/")
        self.seconds = minutes * 60
        self.key = key or secrets.token_bytes(32)
        self.clock = clock

    def _signature(self, expiry: int, name: str) -> str:
        return hmac.new(self.key, f"{expiry}/{name}".encode(), hashlib.sha256).hexdigest()[:32]

    def link(self, file_id: str) -> str:
        """The public URL of a stored file, valid for the configured minutes."""
        name = file_id.removeprefix(PREFIX)
        expiry = int(self.clock()) + self.seconds
        return f"{self.base}{PATH}/{expiry}/{self._signature(expiry, name)}/{name}"

    def file_id(self, expiry: str, signature: str, name: str) -> str | None:
        """The file id a fetched link names, or None when it is forged or expired."""
        if not expiry.isdigit() or int(expiry) < self.clock():
            return None
        if not hmac.compare_digest(signature, self._signature(int(expiry), name)):
            return None
        return f"{PREFIX}{name}"
