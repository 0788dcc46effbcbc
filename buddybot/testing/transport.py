"""Discord's side of the wire, offline: an aiohttp-shaped session and gateway socket.

discord.py keeps its whole REST path (routes, rate limits, retries, error mapping, multipart
building) and its gateway parser; only the last hop, aiohttp's network I/O, is answered here.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from multidict import CIMultiDict

from buddybot.testing.ratelimits import RateLimits, too_many_requests

API_PREFIX = "/api/v10"
# Which interaction a request serves, how many REST calls came before it in the same causal chain (the
# task that made it, and the tasks that task started: asyncio copies the context into new tasks), and
# how many seconds that chain slept in the harness's virtual time (rate-limit waits, retries).
ORIGIN: contextvars.ContextVar[tuple[int, int, float]] = contextvars.ContextVar(
    "harness_origin", default=(0, 0, 0.0)
)


@dataclass
class RestCall:
    """One REST request discord.py made, as Discord would receive it."""

    method: str
    path: str
    params: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    headers: dict[str, str]
    status: int = 0
    response: Any = None
    bucket: str | None = None  # the kind of rate-limit bucket it used (None: not limited)
    origin: int = 0  # the interaction whose handling made it (0: none, e.g. login or a background loop)
    depth: int = 0  # its place in the chain of sequential round trips since the interaction arrived

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Fault:
    """An injected failure: the next `times` requests matching method and path get this answer."""

    method: str
    path_contains: str
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    exception: BaseException | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method == method and self.path_contains in path


class FakeResponse:
    def __init__(
        self, status: int, body: Any, headers: dict[str, str] | None = None, latency: float = 0.0
    ) -> None:
        self.status = status
        self._latency = latency
        self.reason = {
            200: "OK",
            204: "No Content",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
        }.get(status, "Error")
        # orjson, as discord.py uses on its side: the harness's own work stays small next to the bot's
        self._text = "" if body is None else orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS).decode()
        self.headers = CIMultiDict(headers or {})
        if body is not None:
            self.headers.setdefault("content-type", "application/json")

    async def text(self, encoding: str = "utf-8") -> str:
        await asyncio.sleep(self._latency)  # network I/O: other tasks run meanwhile, as in production
        return self._text

    async def read(self) -> bytes:
        return self._text.encode()

    async def __aenter__(self) -> FakeResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def decode_body(data: Any) -> tuple[Any, list[tuple[str, bytes]]]:
    """The JSON payload and the attached files of a request body (plain JSON or multipart)."""
    if data is None:
        return None, []
    if isinstance(data, (str, bytes)):
        return (orjson.loads(data) if data else None), []
    if isinstance(data, aiohttp.FormData):
        payload, files = None, []
        for options, _headers, value in data._fields:
            name = options.get("name")
            if name == "payload_json":
                payload = orjson.loads(value)
            else:
                raw = value.read() if isinstance(value, io.IOBase) else value
                if isinstance(raw, str):
                    raw = raw.encode()
                files.append((options.get("filename", name), bytes(raw)))
        return payload, files
    raise TypeError(f"unexpected request body type {type(data)!r}")


Handler = Callable[[RestCall], "tuple[int, Any]"]


class FakeSession:
    """Stands in for aiohttp.ClientSession inside discord.py's HTTPClient and webhook adapter."""

    def __init__(self, handler: Handler, socket_factory: Callable[[], FakeGatewaySocket]) -> None:
        self._handler = handler
        self._socket_factory = socket_factory
        self.closed = False
        self.faults: list[Fault] = []
        self.calls: list[RestCall] = []
        self.latency = 0.0  # round-trip delay, seconds per response: 0 in tests, 0.05 in the benchmark
        self.limits: RateLimits | None = None  # Discord's rate limits (FakeDiscord turns them on)

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse | _Raiser:
        parts = urlsplit(str(url))
        path = parts.path[len(API_PREFIX) :] if parts.path.startswith(API_PREFIX) else parts.path
        params = {k: str(v) for k, v in (kwargs.get("params") or {}).items()}
        payload, files = decode_body(kwargs.get("data"))
        call = RestCall(
            method=method,
            path=path,
            params=params,
            json=payload,
            files=files,
            headers=dict(kwargs.get("headers") or {}),
        )
        self.calls.append(call)
        origin, depth, waited = ORIGIN.get()
        call.origin, call.depth = origin, depth + 1
        ORIGIN.set((origin, depth + 1, waited))
        if self.limits is not None:
            verdict = self.limits.check(method, path)
            call.bucket = verdict.bucket
            if not verdict.allowed:
                call.status, call.response = 429, too_many_requests(verdict)
                return FakeResponse(429, call.response, verdict.headers, latency=self.latency)
        else:
            verdict = None
        for fault in self.faults:
            if fault.matches(method, path):
                fault.times -= 1
                call.status = fault.status
                if fault.exception is not None:
                    return _Raiser(fault.exception)
                call.response = fault.body
                return FakeResponse(fault.status, fault.body, fault.headers)
        call.status, call.response = self._handler(call)
        headers = verdict.headers if verdict is not None else None
        return FakeResponse(call.status, call.response, headers, latency=self.latency)

    async def ws_connect(self, url: str, **kwargs: Any) -> FakeGatewaySocket:
        return self._socket_factory()

    async def close(self) -> None:
        self.closed = True


class _Raiser:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def __aenter__(self) -> None:
        raise self.exc

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeGatewaySocket:
    """The gateway websocket: frames go out as zlib-stream bytes, like Discord's compressed gateway."""

    def __init__(self) -> None:
        self.closed = False
        self.sent: list[dict[str, Any]] = []
        self._inbox: asyncio.Queue[aiohttp.WSMessage] = asyncio.Queue()
        self._compressor = zlib.compressobj()

    def compress(self, message: dict[str, Any]) -> bytes:
        raw = json.dumps(message, separators=(",", ":")).encode()
        return self._compressor.compress(raw) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def push(self, message: dict[str, Any]) -> None:
        self._inbox.put_nowait(aiohttp.WSMessage(aiohttp.WSMsgType.BINARY, self.compress(message), None))

    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage:  # noqa: ASYNC109 (aiohttp signature)
        return await asyncio.wait_for(self._inbox.get(), timeout)

    async def send_str(self, data: str, compress: int | None = None) -> None:
        self.sent.append(json.loads(data))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.closed = True
        return True

    def exception(self) -> None:
        return None
