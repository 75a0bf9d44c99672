"""The ASGI app: each channel's webhook (its secret checked in constant time), health, metrics, pictures."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handlers.files import FileStore
from handlers.pictures import PATH, PictureLinks
from handlers.web.metrics import CONTENT_TYPE_LATEST, Metrics

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000  # bytes: an update is a few kilobytes, anything near this is not one
Health = Callable[[], Awaitable[dict[str, Any]]]
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}


@dataclass(frozen=True)
class Webhook:
    """One channel's webhook: where it is posted, the header with its secret, what handles a body."""

    channel: str
    path: str
    header: str
    secret: str
    process: Callable[[Any], Awaitable[Any]]
    kind: Callable[[Any], str]


async def read_body(request: Request) -> bytes | None:
    """The request body, or None when it is longer than MAX_BODY (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _endpoint(hook: Webhook, metrics: Metrics, turns: asyncio.Semaphore) -> Callable[[Request], Awaitable[Response]]:
    """The handler of one webhook: 403 without the right secret, 413 over MAX_BODY, else processed
    (at most as many at once as `turns` lets in, the others waiting in arrival order)."""
    secret = hook.secret.encode()

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(hook.header, "").encode()
        if not hmac.compare_digest(given, secret):
            metrics.refused.labels(hook.channel, "secret").inc()
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        body = await read_body(request)
        if body is None:
            metrics.refused.labels(hook.channel, "size").inc()
            return JSONResponse({"ok": False, "error": "body too large"}, status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            metrics.refused.labels(hook.channel, "json").inc()
            return JSONResponse({"ok": False, "error": "not JSON"}, status_code=400)
        metrics.updates.labels(hook.channel, hook.kind(data)).inc()
        started = time.perf_counter()
        try:
            async with turns:
                await hook.process(data)
        except Exception:
            log.exception("a %s webhook update failed", hook.channel)
            metrics.errors.labels(hook.channel).inc()
            return JSONResponse({"ok": False, "error": "internal"}, status_code=500)
        metrics.latency.labels(hook.channel).observe(time.perf_counter() - started)
        return JSONResponse({"ok": True})

    return endpoint


def web_app(
    hooks: list[Webhook],
    *,
    metrics: Metrics,
    health: Health,
    files: FileStore | None = None,
    pictures: PictureLinks | None = None,
    concurrency: int = 8,
) -> Starlette:
    """The app serving `hooks`, `/healthz`, `/metrics` and the pictures of `pictures` links; at most
    `concurrency` updates are handled at once (more only queue for SQLite's one writer, slower)."""
    turns = asyncio.Semaphore(concurrency)

    async def healthz(_request: Request) -> Response:
        try:
            report = await health()
        except Exception as exc:
            log.warning("health check failed: %s", exc)
            return JSONResponse({"ok": False, "error": type(exc).__name__}, status_code=503)
        return JSONResponse(report, status_code=200 if report.get("ok") else 503)

    async def metrics_page(_request: Request) -> Response:
        try:
            await health()  # refreshes the outbox gauges
        except Exception:
            log.debug("health check failed while serving metrics", exc_info=True)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def picture(request: Request) -> Response:
        params = request.path_params
        file_id = pictures.file_id(params["expiry"], params["signature"], params["name"]) if pictures else None
        content = await files.get(file_id) if file_id is not None and files is not None else None
        if content is None:
            return Response(status_code=404)
        suffix = "." + params["name"].rsplit(".", 1)[-1]
        return Response(content, media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"))

    routes = [Route(hook.path, _endpoint(hook, metrics, turns), methods=["POST"]) for hook in hooks]
    routes += [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route(PATH + "/{expiry}/{signature}/{name}", picture, methods=["GET"]),
    ]
    return Starlette(routes=routes)
