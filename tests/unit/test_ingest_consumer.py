"""The raw-topic validator's loop on one fetch, without Kafka: what a record that breaks the handler becomes.

The shared processing-error policy (services/runtime/errors.py, ``INGEST_ERROR_POLICY``): ``dlq`` (the
default) writes it to the dead-letter topic as ``internal_error`` with the headers it always had, in
the same write as the rest of the fetch; ``skip`` writes nothing for it and counts it rejected;
``crash`` stops the loop before anything of the fetch is written or committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from schemas.dlq import read_headers
from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.validation import TimeLimits
from services.ingest.consumer import ValidatorLoop
from services.ingest.domain.intake import Rules
from services.ingest.metrics import IngestMetrics
from services.ingest.raw_topic import RawOutcome, RawValidator
from services.ingest.writer import Record
from services.runtime.errors import ErrorPolicy, ProcessingStopped
from tests.builders import an_event_doc

RULES = Rules(default_registry(), load_framework(), TimeLimits(timedelta(minutes=5), timedelta(days=3650)))
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BOOM = b"boom"


class Breaks(RawValidator):
    """The raw-topic handler with a bug: it raises on the value ``boom``."""

    def handle(self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int) -> RawOutcome:
        if value == BOOM:
            raise ValueError("a bug")
        return super().handle(key, value, topic, partition, offset)


@dataclass
class Rec:
    key: bytes | None
    value: bytes | None
    topic: str = "raw"
    partition: int = 0
    offset: int = 0


class Writer:
    def __init__(self) -> None:
        self.records: list[Record] = []

    async def write(self, records: Sequence[Record]) -> list[bool]:
        self.records.extend(records)
        return [True] * len(records)


class Consumer:
    def __init__(self) -> None:
        self.committed: dict[TopicPartition, int] = {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        raise AssertionError("every write is acknowledged")


def _fetch(policy: ErrorPolicy) -> tuple[Writer, Consumer, IngestMetrics, Any]:
    writer, consumer, metrics = Writer(), Consumer(), IngestMetrics(CollectorRegistry())
    loop = ValidatorLoop(Breaks(RULES, dlq_topic="dlq", clock=lambda: NOW), writer, metrics,  # type: ignore[arg-type]
                         kafka="-", source_topic="raw", output_topic="events", group_id="g",
                         error_policy=policy)  # fmt: skip
    good = orjson.dumps(an_event_doc())
    fetched = {TopicPartition("raw", 0): [Rec(b"k1", good, offset=7), Rec(b"k2", BOOM, offset=8)]}
    return writer, consumer, metrics, asyncio.run(loop._handle_fetch(consumer, fetched))  # type: ignore[arg-type]


def _count(metrics: IngestMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_by_default_a_record_that_breaks_the_handler_is_dead_lettered_as_internal_error() -> None:
    writer, consumer, metrics, done = _fetch("dlq")
    assert done and consumer.committed == {TopicPartition("raw", 0): 9}
    assert [r.topic for r in writer.records] == ["events", "dlq"]
    letter = writer.records[1]
    assert (letter.key, letter.value) == (b"k2", BOOM)
    headers = read_headers(letter.headers)
    assert [name for name, _v in letter.headers] == [*headers]  # each once
    assert headers.pop("pantau.dlq.at").startswith("20")
    assert headers == {
        "pantau.dlq.reason": "internal_error",
        "pantau.dlq.detail": "ValueError('a bug')",
        "pantau.dlq.source.topic": "raw",
        "pantau.dlq.source.partition": "0",
        "pantau.dlq.source.offset": "8",
        "pantau.dlq.service": "ingest",
    }
    assert _count(metrics, "pantau_ingest_messages_invalid_total", reason="internal_error") == 1
    assert _count(metrics, "pantau_ingest_events_rejected_total", source="kafka", reason="internal_error") == 1


def test_skip_writes_nothing_for_the_record_and_counts_it_rejected() -> None:
    writer, consumer, metrics, done = _fetch("skip")
    assert done and consumer.committed == {TopicPartition("raw", 0): 9}
    assert [r.topic for r in writer.records] == ["events"]
    assert _count(metrics, "pantau_ingest_messages_invalid_total", reason="internal_error") is None
    assert _count(metrics, "pantau_ingest_events_rejected_total", source="kafka", reason="internal_error") == 1


def test_crash_stops_before_anything_of_the_fetch_is_written_or_committed() -> None:
    with pytest.raises(ProcessingStopped, match="raw\\[0\\]@8"):
        _fetch("crash")
