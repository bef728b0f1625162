"""The slow-client guard (services/runtime/http_guard.py) driven with a stand-in transport, in one event loop.

Also the contract test of what it relies on in uvicorn: the pinned version, and that its httptools
protocol still calls the parser callbacks the guard overrides.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from services.runtime.http_guard import SUPPORTED_UVICORN, GuardedProtocol, guarded_protocol

HEAD = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.closed:
            self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: dict, receive: Any, send: Any) -> None:
    """Reads the whole body, then answers 200 with its length."""
    body = b""
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": str(len(body)).encode()[:2].ljust(2)})


def _connect(state: ServerState, **limits: Any) -> tuple[GuardedProtocol, FakeTransport]:
    cls = guarded_protocol(**{"header_timeout": 0.1, "body_timeout": 0.1, "max_head_bytes": 1024,
                              "max_connections": 3, "retry_after": 7, **limits})  # fmt: skip
    config = uvicorn.Config(_app, log_config=None, timeout_keep_alive=5)
    proto = cls(config=config, server_state=state, app_state={})
    transport = FakeTransport()
    proto.connection_made(transport)
    assert isinstance(proto, GuardedProtocol)
    return proto, transport


def _status_and_error(written: bytes) -> tuple[int, str | None]:
    head, _, body = bytes(written).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, (orjson.loads(body)["error"]["code"] if b"application/json" in head else None)


def test_the_pinned_uvicorn_is_the_one_the_guard_is_written_for() -> None:
    assert uvicorn.__version__ == SUPPORTED_UVICORN
    for callback in ("on_message_begin", "on_headers_complete", "on_message_complete", "data_received"):
        assert callable(getattr(HttpToolsProtocol, callback))


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout() -> None:
    async def scenario() -> tuple[bool, bool, tuple[int, str | None]]:
        _proto, t = _connect(ServerState())
        await asyncio.sleep(0.05)
        open_before = not t.closed
        await asyncio.sleep(0.1)
        return open_before, t.closed, _status_and_error(t.written)

    assert asyncio.run(scenario()) == (True, True, (408, "request_timeout"))


def test_a_head_sent_one_byte_at_a_time_is_cut_off_at_its_deadline() -> None:
    """A byte every 20 ms restarts nothing: the deadline counts from the head's first byte."""

    async def scenario() -> tuple[int, bool, tuple[int, str | None]]:
        proto, t = _connect(ServerState(), header_timeout=0.15)
        sent = 0
        for byte in HEAD:
            if t.closed:
                break
            proto.data_received(bytes([byte]))
            sent += 1
            await asyncio.sleep(0.02)
        return sent, t.closed, _status_and_error(t.written)

    sent, closed, answer = asyncio.run(scenario())
    assert closed and answer == (408, "request_timeout") and 4 <= sent < len(HEAD)


def test_a_slow_body_is_cut_off_and_the_application_sees_a_disconnect() -> None:
    async def scenario() -> tuple[bool, tuple[int, str | None], bool]:
        proto, t = _connect(ServerState())
        proto.data_received(HEAD + b"12345")  # 5 of the 10 bytes announced
        await asyncio.sleep(0.15)
        cycle_disconnected = proto.cycle.disconnected
        return t.closed, _status_and_error(t.written), cycle_disconnected

    assert asyncio.run(scenario()) == (True, (408, "request_timeout"), True)


def test_a_request_in_time_is_answered_and_a_keep_alive_connection_gets_a_new_deadline() -> None:
    async def scenario() -> tuple[bytes, bool, bool]:
        proto, t = _connect(ServerState())
        proto.data_received(HEAD + b"0123456789")
        await asyncio.sleep(0.15)  # longer than both deadlines: they were disarmed once the request was in
        answered, still_open = bytes(t.written), not t.closed
        proto.data_received(b"GET / HTT")  # the next request's head begins, and stalls
        await asyncio.sleep(0.15)
        return answered, still_open, t.closed

    answered, still_open, closed_later = asyncio.run(scenario())
    assert answered.startswith(b"HTTP/1.1 200 OK") and answered.endswith(b"10")
    assert still_open and closed_later


def test_a_head_larger_than_the_limit_is_431() -> None:
    async def scenario() -> tuple[bool, tuple[int, str | None]]:
        proto, t = _connect(ServerState())
        proto.data_received(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 1100)
        return t.closed, _status_and_error(t.written)

    assert asyncio.run(scenario()) == (True, (431, "headers_too_large"))


def test_connections_beyond_the_limit_are_refused_with_503() -> None:
    async def scenario() -> list[tuple[bool, bytes]]:
        state = ServerState()
        conns = [_connect(state, header_timeout=5.0) for _ in range(4)]
        out = [(t.closed, bytes(t.written)) for _p, t in conns]
        for p, t in conns:
            p.connection_lost(None)
            t.close()
        return out

    results = asyncio.run(scenario())
    assert [closed for closed, _w in results] == [False, False, False, True]
    assert _status_and_error(results[3][1]) == (503, "too_many_connections")
    assert b"Retry-After: 7" in results[3][1]


@pytest.mark.parametrize("version", ["0.53.0", "0.55.0"])
def test_another_uvicorn_is_refused(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    monkeypatch.setattr(uvicorn, "__version__", version)
    with pytest.raises(RuntimeError, match=r"written against uvicorn 0\.54\.0"):
        guarded_protocol(header_timeout=1, body_timeout=1, max_head_bytes=1, max_connections=1, retry_after=1)
