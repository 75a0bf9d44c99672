"""A Bot API request seam that counts the sends and their results (for the webhook app's metrics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

SENDS = ("sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "editMessageText")


class CountedRequest(BaseRequest):
    """Passes every call to `inner` and tells `on_send` whether each send succeeded (HTTP 200)."""

    def __init__(self, inner: BaseRequest, on_send: Callable[[bool], None]) -> None:
        self.inner = inner
        self.on_send = on_send

    @property
    def read_timeout(self) -> float | None:
        """The inner request's read timeout."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Open the inner request."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the inner request."""
        await self.inner.shutdown()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """Make the call; count it when it is a send."""
        try:
            status, body = await self.inner.do_request(url, method, request_data, *args, **kwargs)
        except Exception:
            if url.rsplit("/", 1)[-1] in SENDS:
                self.on_send(False)
            raise
        if url.rsplit("/", 1)[-1] in SENDS:
            self.on_send(status == 200)
        return status, body
