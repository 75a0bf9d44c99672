"""Replies as JSON, so a message can wait in the outbox and be rendered when it is sent."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from bot.domain import Attachment
from bot.i18n import Lines, Msg, Vnd
from bot.messages import Button, FileOut, Reply

VERSION = 1
TAG = "$"


def _value(value: Any) -> Any:
    """One argument as JSON: plain scalars as they are, everything else tagged with its type."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Msg):
        return {TAG: "msg", "key": value.key, "args": _args(value.args)}
    if isinstance(value, Lines):
        return {TAG: "lines", "items": [_value(m) for m in value.items], "empty": value.empty}
    if isinstance(value, Vnd):
        return {TAG: "vnd", "amount": value.amount}
    if isinstance(value, datetime):
        return {TAG: "datetime", "iso": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "iso": value.isoformat()}
    if isinstance(value, tuple | list):
        return {TAG: "tuple" if isinstance(value, tuple) else "list", "items": [_value(v) for v in value]}
    if isinstance(value, Mapping):
        return {TAG: "map", "items": _args(value)}
    raise TypeError(f"cannot store a reply argument of type {type(value).__name__}")


def _args(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of a message as JSON."""
    return {str(name): _value(value) for name, value in args.items()}


def _load_value(data: Any) -> Any:
    """The inverse of `_value`."""
    if not isinstance(data, dict):
        return data
    kind = data[TAG]
    if kind == "msg":
        return Msg(data["key"], _load_args(data["args"]))
    if kind == "lines":
        return Lines(tuple(_load_value(m) for m in data["items"]), data["empty"])
    if kind == "vnd":
        return Vnd(int(data["amount"]))
    if kind == "datetime":
        return datetime.fromisoformat(data["iso"])
    if kind == "date":
        return date.fromisoformat(data["iso"])
    if kind in ("tuple", "list"):
        items = [_load_value(v) for v in data["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "map":
        return _load_args(data["items"])
    raise ValueError(f"unknown stored argument type {kind!r}")


def _load_args(data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `_args`."""
    return {name: _load_value(value) for name, value in data.items()}


class Blobs(dict[str, bytes]):
    """Files put aside by SHA-256 digest; the same bytes object (one chart for everyone) is hashed once."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[int, tuple[bytes, str]] = {}  # keeps the bytes alive, so ids are not reused
        self._messages: dict[int, tuple[Msg, str]] = {}

    def digest(self, content: bytes) -> str:
        """The hex SHA-256 of `content`."""
        seen = self._seen.get(id(content))
        if seen is not None and seen[0] is content:
            return seen[1]
        digest = hashlib.sha256(content).hexdigest()
        self._seen[id(content)] = (content, digest)
        return digest

    def put_message(self, message: Msg) -> str:
        """Put a message aside as JSON; its digest (one board's text for every reader is encoded once)."""
        seen = self._messages.get(id(message))
        if seen is not None and seen[0] is message:
            return seen[1]
        digest = _put_message(message, self)
        self._messages[id(message)] = (message, digest)
        return digest


def _put_message(message: Msg, blobs: MutableMapping[str, bytes]) -> str:
    """Put a message into `blobs` as JSON; its SHA-256."""
    content = json.dumps(_value(message), ensure_ascii=False, separators=(",", ":")).encode()
    digest = hashlib.sha256(content).hexdigest()
    blobs[digest] = content
    return digest


def _blob(digest: str, blobs: Mapping[str, bytes] | None) -> bytes:
    """The bytes put aside under `digest`."""
    if blobs is None or digest not in blobs:
        raise KeyError(f"file {digest} is not available")
    return blobs[digest]


def _file(file: FileOut, blobs: MutableMapping[str, bytes] | None) -> dict[str, Any]:
    """A file inline (base64), or by its SHA-256 with the bytes put into `blobs`; its alt text the same
    way (by the SHA-256 of its JSON)."""
    if blobs is None:
        data = {"name": file.name, "b64": base64.b64encode(file.content).decode("ascii")}
        return {**data, "alt": _value(file.alt)} if file.alt is not None else data
    digest = blobs.digest(file.content) if isinstance(blobs, Blobs) else hashlib.sha256(file.content).hexdigest()
    blobs[digest] = file.content
    if file.alt is None:
        return {"name": file.name, "sha256": digest}
    alt = blobs.put_message(file.alt) if isinstance(blobs, Blobs) else _put_message(file.alt, blobs)
    return {"name": file.name, "sha256": digest, "alt_sha256": alt}


def _load_file(data: Mapping[str, Any], blobs: Mapping[str, bytes] | None) -> FileOut:
    """The inverse of `_file`; a reference needs its bytes in `blobs`."""
    content = base64.b64decode(data["b64"]) if "b64" in data else _blob(data["sha256"], blobs)
    alt = data.get("alt")
    if "alt_sha256" in data:
        alt = json.loads(_blob(data["alt_sha256"], blobs))
    return FileOut(data["name"], content, _load_value(alt) if alt is not None else None)


def _reply(reply: Reply, blobs: MutableMapping[str, bytes] | None) -> dict[str, Any]:
    """One reply as JSON, leaving out fields at their defaults (a broadcast writes many rows)."""
    data: dict[str, Any] = {"key": reply.key}
    if reply.args:
        data["args"] = _args(reply.args)
    if reply.buttons:
        data["buttons"] = [
            [{"label": b.label, "data": b.data, **({"args": _args(b.args)} if b.args else {})} for b in row]
            for row in reply.buttons
        ]
    for flag in ("ask_contact", "remove_keyboard", "edit", "question"):
        if getattr(reply, flag):
            data[flag] = True
    if reply.file is not None:
        data["file"] = _file(reply.file, blobs)
    if reply.media:
        data["media"] = [asdict(a) for a in reply.media]
    for name in ("notice", "card", "target"):
        if getattr(reply, name) is not None:
            data[name] = getattr(reply, name)
    return data


def _load_reply(data: Mapping[str, Any], blobs: Mapping[str, bytes] | None) -> Reply:
    """The inverse of `_reply`."""
    return Reply(
        key=data["key"],
        args=_load_args(data.get("args", {})),
        buttons=tuple(
            tuple(Button(b["label"], b["data"], _load_args(b.get("args", {}))) for b in row)
            for row in data.get("buttons", ())
        ),
        ask_contact=data.get("ask_contact", False),
        remove_keyboard=data.get("remove_keyboard", False),
        edit=data.get("edit", False),
        question=data.get("question", False),
        file=_load_file(data["file"], blobs) if "file" in data else None,
        media=tuple(Attachment(**a) for a in data.get("media", ())),
        notice=data.get("notice"),
        card=data.get("card"),
        target=data.get("target"),
    )


def dump_replies(replies: tuple[Reply, ...], *, blobs: MutableMapping[str, bytes] | None = None) -> str:
    """Replies as compact JSON; with `blobs`, file bytes go there (by SHA-256) instead of inline."""
    body = {"v": VERSION, "replies": [_reply(r, blobs) for r in replies]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def load_replies(text: str, *, blobs: Mapping[str, bytes] | None = None) -> tuple[Reply, ...]:
    """Replies from `dump_replies` output; referenced files are taken from `blobs`."""
    body = json.loads(text)
    if body.get("v") != VERSION:
        raise ValueError(f"unsupported reply payload version {body.get('v')!r}")
    return tuple(_load_reply(r, blobs) for r in body["replies"])


def blob_refs(text: str) -> set[str]:
    """The SHA-256 digests of the files a payload refers to (and does not hold inline)."""
    body = json.loads(text)
    files = [r["file"] for r in body["replies"] if "file" in r]
    return {f[key] for f in files for key in ("sha256", "alt_sha256") if key in f}
