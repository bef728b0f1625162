"""Slow and greedy clients: deadlines for a request's head and body, a cap on the head's size and on connections.

uvicorn closes a connection idle between requests after ``timeout_keep_alive``, but it has no deadline
for *reading* a request: a client that sends one byte every 2 s (of its request line, a header or the
body) keeps its connection, and a connection that never sends anything is never closed. This is
uvicorn's httptools protocol with four additions:

- the request head (request line and headers) must be complete ``header_timeout`` after its first
  byte (after the connection opened, for the first request): else ``408`` and the connection closed;
- the body must be complete ``body_timeout`` after the head: else ``408`` and closed (a client still
  trickling a body after its answer is simply disconnected);
- a head larger than ``max_head_bytes`` is refused with ``431`` and closed;
- beyond ``max_connections`` open connections a new one is answered ``503`` (``Retry-After``) and
  closed at once.

Errors are the API's JSON (``{"error": {"code", "message", "field"}}``) with ``Connection: close``.
Subclassing uvicorn's protocol reaches into its internals: uvicorn and httptools are pinned exactly
(pyproject.toml), the version is checked when the protocol is built, and
tests/unit/test_ingest_http_guard.py drives the protocol with a fake transport.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SUPPORTED_UVICORN = "0.54.0"
REQUEST_TIMEOUT = "request_timeout"
HEADERS_TOO_LARGE = "headers_too_large"
TOO_MANY_CONNECTIONS = "too_many_connections"
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


def guarded_protocol(
    *, header_timeout: float, body_timeout: float, max_head_bytes: int, max_connections: int, retry_after: int
) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn (``Config(http=...)``), with these limits."""
    if uvicorn.__version__ != SUPPORTED_UVICORN:
        raise RuntimeError(
            f"services/runtime/http_guard.py is written against uvicorn {SUPPORTED_UVICORN}, "
            f"found {uvicorn.__version__}: check its protocol internals and update the pin"
        )
    limits = {"header_timeout": header_timeout, "body_timeout": body_timeout, "max_head_bytes": max_head_bytes,
              "max_connections": max_connections, "retry_after": retry_after}  # fmt: skip
    return type("GuardedHttpToolsProtocol", (GuardedProtocol,), limits)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 answer with the API's JSON error body, closing the connection."""
    body = orjson.dumps({"error": {"code": code, "message": message, "field": None}})
    head = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Error")), b"content-type: application/json",
            b"content-length: %d" % len(body), b"connection: close"]  # fmt: skip
    head += [f"{k}: {v}".encode("latin-1") for k, v in (headers or {}).items()]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class GuardedProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_head_bytes: int = 65_536
    max_connections: int = 1000
    retry_after: int = 5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = True
        self._head_bytes = 0

    # ---- connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._refuse(503, TOO_MANY_CONNECTIONS, f"more than {self.max_connections} connections open; retry later",
                         {"Retry-After": str(self.retry_after)})  # fmt: skip
            return
        self._arm(self.header_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse(431, HEADERS_TOO_LARGE, f"the request line and headers exceed {self.max_head_bytes} bytes")

    # ---- parser callbacks (httptools calls them from data_received)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._deadline is None:  # the first request has had its deadline since the connection opened
            self._arm(self.header_timeout, "head")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._arm(self.body_timeout, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # ---- deadlines

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, part, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, part: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle if part == "body" else None
        if cycle is not None and cycle.response_started:  # answered already; the body still trickles in
            self.transport.close()
            return
        what = "request line and headers" if part == "head" else "request body"
        self._refuse(408, REQUEST_TIMEOUT, f"the {what} did not arrive within {seconds:g} s; send it faster")

    def _refuse(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` and close; a request the application is reading sees a disconnect."""
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the application's own answer, if any, goes nowhere
            self.cycle.message_event.set()
        self.transport.write(error_response(status, code, message, headers))
        self.transport.close()
