"""Slow and greedy clients against the running service, on loopback: their connections are closed.

Bounded in count (at most 25 connections at a time) and in time (deadlines of 3 s, the whole test in about 15 s):
20 clients sending their request line one byte every 2 s, one a header line one byte every 2 s, one a
body one byte a second, one that sends nothing, and an idle keep-alive connection. Meanwhile a normal
client is served. Then the connection cap: beyond it a new connection is refused with 503.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import UTC, datetime

from tests.builders import an_event_doc
from tests.integration.helpers import http_get
from tests.integration.test_ingest_support import StartIngest, start_ingest, wait_ready

__all__ = ["start_ingest"]

HEADER_TIMEOUT = 3.0
BODY_TIMEOUT = 3.0
KEEP_ALIVE = 2
MAX_CONNECTIONS = 25


class Slow:
    """A client connection that sends ``data`` one byte every ``every`` seconds (after ``prefix`` at once)."""

    def __init__(self, port: int, data: bytes, every: float, prefix: bytes = b"") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.data, self.every, self.sent, self.next_at = data, every, 0, time.monotonic()
        self.answer = b""
        self.closed_at: float | None = None
        if prefix:
            self.sock.sendall(prefix)

    def step(self, now: float) -> None:
        """Read what the server sent (noting when it closed), then send the next byte when it is due."""
        if self.closed_at is not None:
            return
        try:
            chunk: bytes | None = self.sock.recv(65536)
        except BlockingIOError:
            chunk = None
        except OSError:  # reset
            chunk = b""
        if chunk == b"":
            self.closed_at = now
            return
        self.answer += chunk or b""
        if self.sent < len(self.data) and now >= self.next_at:
            try:
                self.sock.send(self.data[self.sent : self.sent + 1])
            except OSError:
                self.closed_at = now
                return
            self.sent += 1
            self.next_at = now + self.every

    @property
    def status(self) -> int | None:
        return int(self.answer.split(b" ", 2)[1]) if self.answer.startswith(b"HTTP/1.1 ") else None

    def close(self) -> None:
        self.sock.close()


def _drive(clients: list[Slow], until: float) -> None:
    while time.monotonic() < until and any(c.closed_at is None for c in clients):
        now = time.monotonic()
        for c in clients:
            c.step(now)
        time.sleep(0.05)


def test_slow_clients_are_cut_off_and_a_normal_one_is_served(start_ingest: StartIngest) -> None:
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        INGEST_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        INGEST_BODY_TIMEOUT=str(BODY_TIMEOUT),
        INGEST_KEEP_ALIVE_TIMEOUT=str(KEEP_ALIVE),
        INGEST_VALIDATOR="false",
    )
    wait_ready(ing)
    port = int(ing.url.rsplit(":", 1)[1])
    key = ing.keys["all"]
    line = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    doc = json.dumps(an_event_doc(event_id=str(uuid.uuid4()), observed_at=datetime.now(UTC).isoformat())).encode()
    post_head = (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(doc)}\r\n\r\n").encode()  # fmt: skip

    t0 = time.monotonic()
    request_lines = [Slow(port, line, every=2.0) for _ in range(20)]
    header_line = Slow(port, b"ab\r\n\r\n", every=2.0, prefix=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    body = Slow(port, doc, every=1.0, prefix=post_head)
    silent = Slow(port, b"", every=1.0)
    idle = Slow(port, b"", every=1.0, prefix=line)  # answered at once, then idle on keep-alive
    slow = [*request_lines, header_line, body, silent]
    clients = [*slow, idle]
    try:
        _drive(clients, until=t0 + 1.0)
        # The service works while they hang on.
        assert http_get(ing.url + "/healthz")[0] == 200
        _drive(clients, until=t0 + HEADER_TIMEOUT + 4)
        assert [c.closed_at is not None for c in clients] == [True] * len(clients)
        # Each was closed at its deadline (within a second), answered 408 when a request was under way.
        for c in slow:
            assert c.closed_at is not None and HEADER_TIMEOUT - 0.2 <= c.closed_at - t0 <= HEADER_TIMEOUT + 1.0
        assert [c.status for c in slow] == [408] * len(slow)
        assert b'"code":"request_timeout"' in body.answer and b"request body" in body.answer
        assert b"request line and headers" in header_line.answer
        assert all(c.sent <= 3 for c in request_lines)  # two or three bytes of the request line, no more
        assert idle.status == 200 and idle.closed_at is not None
        assert KEEP_ALIVE - 0.2 <= idle.closed_at - t0 <= KEEP_ALIVE + 1.0
    finally:
        for c in clients:
            c.close()
    assert ing.events() == []  # the slow body was never written


def test_beyond_the_connection_cap_a_new_connection_is_refused(start_ingest: StartIngest) -> None:
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        INGEST_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        INGEST_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        INGEST_VALIDATOR="false",
    )
    wait_ready(ing)
    port = int(ing.url.rsplit(":", 1)[1])
    hogs = [Slow(port, b"", every=1.0) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        extra = Slow(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", every=0.0)
        _drive([extra], until=time.monotonic() + 2)
        assert extra.closed_at is not None
        # Refused with a 503 it may read, or reset before it could: either way not served.
        assert extra.status in (503, None) and b'"status":"ok"' not in extra.answer
        if extra.status == 503:
            assert b'"code":"too_many_connections"' in extra.answer and b"Retry-After: 5" in extra.answer
        # Once the idle ones are cut off (header timeout), there is room again.
        _drive(hogs, until=time.monotonic() + HEADER_TIMEOUT + 2)
        assert all(h.closed_at is not None for h in hogs)
        assert http_get(ing.url + "/healthz")[0] == 200
    finally:
        for h in [*hogs]:
            h.close()
