"""The Zalo Bot API client against the fake server: `ok` read, errors typed, idle polls, quota, long texts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from handlers.plain import split_paragraphs
from handlers.zalo.client import BadRequest, QuotaExceeded, Unauthorized, ZaloClient
from tests.fake_zalo import BOT_ID, TOKEN, FakeZalo, FakeZaloServer


@pytest.fixture
def zalo_server() -> Iterator[FakeZaloServer]:
    server = FakeZaloServer().start()
    yield server
    server.stop()


@pytest.fixture
async def client(zalo_server: FakeZaloServer) -> AsyncIterator[ZaloClient]:
    zalo = ZaloClient(TOKEN, zalo_server.url, timeout=5)
    yield zalo
    await zalo.close()


@pytest.fixture
def fake(zalo_server: FakeZaloServer) -> FakeZalo:
    return zalo_server.fake


async def test_get_me_names_the_bot(client: ZaloClient) -> None:
    assert (await client.get_me())["id"] == BOT_ID


async def test_a_wrong_token_is_unauthorized(zalo_server: FakeZaloServer) -> None:
    wrong = ZaloClient("1234:wrong", zalo_server.url)
    with pytest.raises(Unauthorized):
        await wrong.get_me()
    await wrong.close()


async def test_an_idle_poll_returns_nothing_and_the_next_poll_gets_the_update(
    client: ZaloClient, fake: FakeZalo
) -> None:
    assert await client.get_updates(timeout=0) is None
    fake.updates.put(fake.message("u1", "xin chào"))
    update = await client.get_updates(timeout=1)
    assert update is not None and update["message"]["text"] == "xin chào"


async def test_a_bad_chat_refused_with_http_200_raises(client: ZaloClient, fake: FakeZalo) -> None:
    with pytest.raises(BadRequest, match="Invalid chat_id"):
        await client.send_message("nobody", "xin chào")
    assert fake.sent == []


async def test_a_long_text_goes_in_parts_of_at_most_2000_characters_on_paragraphs(
    client: ZaloClient, fake: FakeZalo
) -> None:
    fake.chats.add("u1")
    paragraphs = [f"Đoạn {i}: " + "chữ " * 120 for i in range(12)]
    await client.send_message("u1", "\n\n".join(paragraphs))
    texts = fake.texts("u1")
    assert len(texts) > 1 and all(1 <= len(t) <= 2000 for t in texts)
    assert "\n\n".join(texts) == "\n\n".join(paragraphs)  # cut only between paragraphs
    assert all(t.startswith("Đoạn ") for t in texts)


def test_a_paragraph_longer_than_the_limit_is_cut_at_lines_then_words() -> None:
    lines = "\n".join("dòng " * 30 for _ in range(5))
    parts = split_paragraphs(lines, limit=200)
    assert all(len(p) <= 200 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(lines.split())
    assert split_paragraphs("x" * 450, limit=200) == ["x" * 200, "x" * 200, "x" * 50]


async def test_a_quota_error_pauses_the_next_send(client: ZaloClient, fake: FakeZalo) -> None:
    fake.chats.add("u1")
    fake.quota_errors = 1
    with pytest.raises(QuotaExceeded) as raised:
        await client.send_message("u1", "một")
    assert raised.value.retry_after >= 1
    assert client.paused_until > 0
    client.paused_until = 0  # the test does not wait the pause out
    await client.send_message("u1", "hai")
    assert fake.texts("u1") == ["hai"]


async def test_photo_by_url_with_a_caption_and_the_webhook_methods(client: ZaloClient, fake: FakeZalo) -> None:
    fake.chats.add("u1")
    await client.send_photo("u1", "https://example.test/chart.png", "Bảng xếp hạng " * 200)
    assert fake.sent[-1].method == "sendPhoto" and len(fake.sent[-1].params["caption"]) == 2000
    await client.set_webhook("https://bot.example.test/zalo", "s3cret-token")
    assert (await client.get_webhook_info())["url"] == "https://bot.example.test/zalo"
    assert fake.webhook["secret_token"] == "s3cret-token"
    with pytest.raises(ValueError):
        await client.set_webhook("https://bot.example.test/zalo", "short")
    await client.delete_webhook()
    assert (await client.get_webhook_info())["url"] == ""


async def test_download_reads_a_photo_url(client: ZaloClient, fake: FakeZalo, zalo_server: FakeZaloServer) -> None:
    fake.files["a.jpg"] = b"\xff\xd8jpeg"
    assert await client.download(f"{zalo_server.url}/files/a.jpg") == b"\xff\xd8jpeg"


def test_zalo_settings_come_from_bot_toml_and_the_environment(tmp_path: Path) -> None:
    (tmp_path / "bot.toml").write_text('[zalo]\ntoken = "from-file"\nfiles_dir = "photos"\n', encoding="utf-8")
    env = {"SANGKIEN_ZALO_TOKEN": "from-env", "SANGKIEN_ZALO_BASE_URL": "http://127.0.0.1:9/"}
    config = load_config(tmp_path / "bot.toml", env=env)
    assert (config.zalo.token, config.zalo.base_url) == ("from-env", "http://127.0.0.1:9/")
    assert config.zalo.files_dir == str(tmp_path / "photos")
    assert load_config(tmp_path / "bot.toml", env={}).zalo.token == "from-file"
