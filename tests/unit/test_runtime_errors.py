"""The one processing-error policy (services/runtime/errors.py): dlq, crash, skip."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from schemas.dlq import dlq_headers, read_headers
from services.runtime.errors import FailedRecord, ProcessingStopped, on_processing_error

RECORD = FailedRecord(topic="region-scores", partition=7, offset=41, key=b"32.73", value=b'{"x": 1}')


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes | None, dict[str, str]]] = []

    async def __call__(self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        self.sent.append((key, value, read_headers(headers)))


def run(policy: Any, dlq: DeadLetters | None, counted: list[str]) -> None:
    asyncio.run(on_processing_error(policy, RECORD, ValueError("boom"), service="alerts", send_dead_letter=dlq,
                                    count=counted.append))  # fmt: skip


def test_dlq_writes_the_record_as_received_with_why_and_where() -> None:
    dlq, counted = DeadLetters(), []
    run("dlq", dlq, counted)
    assert counted == ["dlq"]
    [(key, value, headers)] = dlq.sent
    assert (key, value) == (b"32.73", b'{"x": 1}')
    assert headers["pantau.dlq.reason"] == "internal_error"
    assert headers["pantau.dlq.detail"] == "ValueError('boom')"
    where = [headers[f"pantau.dlq.{k}"] for k in ("source.topic", "source.partition", "source.offset", "service")]
    assert where == ["region-scores", "7", "41", "alerts"]


def test_crash_stops_and_sends_nothing() -> None:
    dlq, counted = DeadLetters(), []
    with pytest.raises(ProcessingStopped, match=r"region-scores\[7\]@41"):
        run("crash", dlq, counted)
    assert (dlq.sent, counted) == ([], ["crash"])


def test_skip_goes_on_and_sends_nothing() -> None:
    dlq, counted = DeadLetters(), []
    run("skip", dlq, counted)
    assert (dlq.sent, counted) == ([], ["skip"])


def test_an_unregistered_dead_letter_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="not registered"):
        dlq_headers(reason="processing_error", detail="", topic="t", partition=0, offset=0, service="x")
