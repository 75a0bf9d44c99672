"""`sangkien run --webhook`: the ASGI app serving Telegram's and Zalo's webhooks, health and metrics."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import Config
from bot.serve import TELEGRAM_HEADER, ZALO_HEADER, Served, open_webhook
from tests.conftest import FakeClock
from tests.fake_telegram import FakeBotApi, Person
from tests.fake_zalo import TOKEN, FakeZalo, FakeZaloServer
from tests.test_polling import START
from tests.zalo_support import zalo_server

__all__ = ["zalo_server"]  # fixture
PUBLIC = "https://sangkien.example.vn"
LAN = Person(501)


@pytest.fixture
async def served(
    config: Config, clock: FakeClock, zalo_server: FakeZaloServer, tmp_path: Path
) -> AsyncIterator[tuple[Served, FakeBotApi]]:
    config.zalo.token, config.zalo.base_url, config.zalo.files_dir = TOKEN, zalo_server.url, str(tmp_path / "f")
    config.webhook.public_url = PUBLIC
    api = FakeBotApi()
    served = await open_webhook(config, request=api, clock=clock, migrate=False)
    yield served, api
    await served.close()


@pytest.fixture
async def web(served: tuple[Served, FakeBotApi]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=served[0].app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        yield client


def zalo_headers(served: Served, secret: str | None = None) -> dict[str, str]:
    return {ZALO_HEADER: secret if secret is not None else served.secrets["zalo"]}


async def test_both_channels_register_their_webhooks_with_a_secret(
    served: tuple[Served, FakeBotApi], zalo_server: FakeZaloServer
) -> None:
    app, api = served
    [telegram] = [c.params for c in api.calls if c.method == "setWebhook"]
    assert telegram["url"] == f"{PUBLIC}/telegram" and telegram["secret_token"] == app.secrets["telegram"]
    assert zalo_server.fake.webhook == {"url": f"{PUBLIC}/zalo", "secret_token": app.secrets["zalo"]}
    assert len(app.secrets["zalo"]) >= 32


@pytest.mark.parametrize("wrapped", [False, True], ids=["flat", "wrapped"])
async def test_a_zalo_update_with_the_right_secret_is_answered(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient, zalo_server: FakeZaloServer, wrapped: bool
) -> None:
    fake: FakeZalo = zalo_server.fake
    body = fake.message("zl-1", "/start")
    posted = {"ok": True, "result": body} if wrapped else body
    response = await web.post("/zalo", json=posted, headers=zalo_headers(served[0]))
    assert response.status_code == 200
    assert "Chọn ngôn ngữ" in fake.texts("zl-1")[0]


@pytest.mark.parametrize("secret", ["wrong-secret-value", "", None], ids=["wrong", "empty", "missing"])
async def test_a_zalo_update_without_the_right_secret_is_refused_and_not_processed(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient, zalo_server: FakeZaloServer, secret: str | None
) -> None:
    headers = {} if secret is None else zalo_headers(served[0], secret)
    response = await web.post("/zalo", json=zalo_server.fake.message("zl-1", "/start"), headers=headers)
    assert response.status_code == 403
    assert zalo_server.fake.sent == []
    assert await people(served[0]) == 0


async def people(served: Served) -> int:
    """How many people the database knows."""
    from sqlalchemy import text

    async with served.runtime.store.transaction() as tx:
        return int((await tx.conn.execute(text("select count(*) from app_user"))).scalar_one())


async def test_a_telegram_update_is_answered_only_with_its_secret(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient
) -> None:
    app, api = served
    refused = await web.post("/telegram", json=START, headers={TELEGRAM_HEADER: app.secrets["zalo"]})
    assert refused.status_code == 403
    assert [c for c in api.calls if c.method == "sendMessage"] == []
    response = await web.post("/telegram", json=START, headers={TELEGRAM_HEADER: app.secrets["telegram"]})
    assert response.status_code == 200
    [reply] = [c for c in api.calls if c.method == "sendMessage"]
    assert reply.params["chat_id"] == LAN.id and "Chọn ngôn ngữ" in reply.params["text"]
    metrics = (await web.get("/metrics")).text
    assert 'sangkien_updates_total{channel="telegram",kind="message"} 1.0' in metrics
    assert 'sangkien_sends_total{channel="telegram",result="ok"} 1.0' in metrics
    assert 'sangkien_webhook_refused_total{channel="telegram",reason="secret"} 1.0' in metrics


async def test_a_body_over_one_megabyte_is_refused(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient, zalo_server: FakeZaloServer
) -> None:
    body = zalo_server.fake.message("zl-1", "x" * 1_100_000)
    response = await web.post("/zalo", content=json.dumps(body), headers=zalo_headers(served[0]))
    assert response.status_code == 413
    assert zalo_server.fake.sent == []


async def test_health_and_metrics_report_and_health_fails_without_the_database(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient, zalo_server: FakeZaloServer, config: Config
) -> None:
    await web.post("/zalo", json=zalo_server.fake.message("zl-1", "/start"), headers=zalo_headers(served[0]))
    health = await web.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "ok": True,
        "database": "ok",
        "scheduler": "running",
        "outbox": {"backlog": 0, "oldest_seconds": 0.0},
    }
    metrics = (await web.get("/metrics")).text
    assert 'sangkien_updates_total{channel="zalo",kind="message.text.received"} 1.0' in metrics
    assert 'sangkien_sends_total{channel="zalo",result="ok"} 1.0' in metrics
    assert 'sangkien_answer_seconds_count{channel="zalo"} 1.0' in metrics
    assert "sangkien_outbox_backlog 0.0" in metrics
    if not config.database.url.startswith("sqlite"):
        return
    assert served[0].scheduler is not None
    await served[0].scheduler.close()  # no job reopens the file meanwhile; the database fails first
    await served[0].runtime.store.close()
    shutil.rmtree(Path(config.database.url.removeprefix("sqlite+aiosqlite:///")).parent)
    gone = await web.get("/healthz")
    assert gone.status_code == 503 and gone.json() == {"ok": False, "error": "OperationalError"}
    for thread in threading.enumerate():  # aiosqlite ends a failed connection's thread without waiting:
        if "_connection_worker_thread" in thread.name:  # let it end before the loop closes
            await asyncio.to_thread(thread.join, 5)


async def test_a_picture_link_serves_the_stored_file_until_it_expires(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient
) -> None:
    app = served[0]
    assert app.zalo is not None and app.zalo.pictures is not None
    file_id = await app.zalo.files.put(b"\x89PNG chart", ".png")
    link = app.zalo.pictures.link(file_id)
    assert link.startswith(f"{PUBLIC}/p/")
    path = link.removeprefix(PUBLIC)
    response = await web.get(path)
    assert response.status_code == 200 and response.content == b"\x89PNG chart"
    assert response.headers["content-type"] == "image/png"
    expiry, signature, name = path.removeprefix("/p/").split("/")
    forged = f"/p/{expiry}/{signature[::-1]}/{name}"
    assert (await web.get(forged)).status_code == 404
    app.zalo.pictures.clock = lambda: 10**12  # long after the link expired
    assert (await web.get(path)).status_code == 404


async def test_health_fails_once_the_scheduler_has_stopped(
    served: tuple[Served, FakeBotApi], web: httpx.AsyncClient
) -> None:
    app = served[0]
    assert app.scheduler is not None and "outbox:zalo" in app.scheduler.names()
    assert "outbox:telegram" in app.scheduler.names() and "reminders" in app.scheduler.names()
    await app.scheduler.close()
    health = await web.get("/healthz")
    assert health.status_code == 503
    assert health.json()["ok"] is False and health.json()["scheduler"] == "stopped"
