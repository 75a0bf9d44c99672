"""A self-hosted Bot API server (`SANGKIEN_TELEGRAM_BASE_URL`) receives every call the bot makes."""

from __future__ import annotations

from typing import Any

from bot.config import Config, TelegramSection
from tests.conftest import FakeClock, Harness, register
from tests.fake_telegram import FakeBotApi, Person

SERVER = "http://localhost:8081/bot"


class AddressedApi(FakeBotApi):
    """The fake Bot API, noting the address of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Note the address, answer as the fake does."""
        self.urls.append(url)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_replies_and_button_answers_go_to_the_configured_server(config: Config, clock: FakeClock) -> None:
    """Texts, edits of pressed messages and answers to presses all reach the configured server."""
    server_config = config.model_copy(update={"telegram": TelegramSection(token="123456:TEST", base_url=SERVER)})
    harness = Harness(server_config, clock)
    api = harness.api = AddressedApi()
    tg = await harness.start()
    try:
        await register(tg, Person(501))
    finally:
        await harness.stop()
    methods = {url.rsplit("/", 1)[-1] for url in api.urls}
    assert {"sendMessage", "editMessageText", "answerCallbackQuery"} <= methods
    assert api.urls and all(url.startswith(f"{SERVER}123456:TEST/") for url in api.urls)
