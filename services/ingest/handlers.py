"""Ingest handlers: submitted items -> results (HTTP), raw-topic records -> output records (validator).

No HTTP framework and no Kafka client here: the writer is passed in, so both are testable on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import orjson

from schemas.dlq import dlq_headers
from schemas.events import IndicatorEvent
from schemas.validation import INVALID_VALUE, MISSING_FIELD, NOT_FINITE, UNDECODABLE, UNKNOWN_FIELD, Problem
from services.ingest.domain import ngsi_ld
from services.ingest.domain.auth import Publisher
from services.ingest.domain.dedupe import RecentIds
from services.ingest.domain.intake import (
    ItemResult,
    Rules,
    Status,
    scope_problems,
    validate_document,
    validate_item,
)
from services.ingest.metrics import IngestMetrics
from services.ingest.writer import KafkaUnavailable, Record

SERVICE = "ingest"
SCHEMA_INVALID = "schema_invalid"
EMPTY_VALUE = "empty_value"
_SCHEMA_CODES = frozenset({UNKNOWN_FIELD, MISSING_FIELD, NOT_FINITE, INVALID_VALUE})


class Writer(Protocol):
    """What the handlers need of Kafka (services/ingest/writer.py's KafkaWriter)."""

    async def write(self, records: Sequence[Record]) -> list[bool]: ...


def event_record(topic: str, event: IndicatorEvent) -> Record:
    """The Kafka record of a valid event: keyed by region code, the event's JSON as value."""
    return Record(topic, event.region_code.encode(), event.model_dump_json().encode())


# ---------------------------------------------------------------------------------------------- HTTP


@dataclass
class Submission:
    """The outcome of one request: per-item results, and the HTTP status they add up to."""

    results: list[ItemResult]
    forbidden: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def http_status(self) -> int:
        if self.forbidden:
            return 403
        if self.count(Status.UNAVAILABLE):
            return 503
        rejected = self.count(Status.REJECTED)
        if rejected == 0:
            return 200
        return 422 if rejected == len(self.results) else 207


class Intake:
    """Validates, authorises, dedupes and writes submitted items: nothing out of scope is ever written."""

    def __init__(
        self,
        rules: Rules,
        writer: Writer,
        dedupe: RecentIds,
        metrics: IngestMetrics,
        *,
        topic: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rules = rules
        self.writer = writer
        self.dedupe = dedupe
        self.metrics = metrics
        self.topic = topic
        self.clock = clock

    async def submit(self, items: Sequence[object], publisher: Publisher, source: str = "http") -> Submission:
        # 1. Authorisation first, on what each item claims: one item out of scope refuses the request.
        denied = [
            (i, p) for i, raw in enumerate(items) if (p := scope_problems(raw, publisher.scope, publisher.key_id))
        ]
        if denied:
            for _i, problems in denied:
                self.metrics.rejected.labels(source, problems[0].code).inc()
            return Submission(
                [ItemResult(i, Status.REJECTED, _event_id(items[i]), p) for i, p in denied], forbidden=True
            )
        # 2. Validation, item by item.
        now = self.clock()
        results: list[ItemResult] = []
        to_write: list[tuple[ItemResult, IndicatorEvent]] = []
        for i, raw in enumerate(items):
            outcome = validate_item(raw, self.rules, now, publisher.id)
            if isinstance(outcome, list):
                results.append(ItemResult(i, Status.REJECTED, _event_id(raw), outcome))
                self.metrics.rejected.labels(source, outcome[0].code).inc()
                continue
            event_id = str(outcome.event_id)
            # 3. Duplicates: written recently, being written, or twice in this request.
            if not self.dedupe.reserve(event_id):
                results.append(ItemResult(i, Status.DUPLICATE, event_id))
                self.metrics.duplicates.labels(source).inc()
                continue
            result = ItemResult(i, Status.ACCEPTED, event_id)
            results.append(result)
            to_write.append((result, outcome))
        # 4. Write; a result stays 'accepted' only when the broker acknowledged it.
        if to_write:
            await self._write(to_write, source)
        return Submission(results)

    async def _write(self, batch: list[tuple[ItemResult, IndicatorEvent]], source: str) -> None:
        try:
            acked = await self.writer.write([event_record(self.topic, ev) for _r, ev in batch])
        except KafkaUnavailable:
            acked = [False] * len(batch)
        n_acked = 0
        for (result, _ev), ok in zip(batch, acked, strict=True):
            assert result.event_id is not None
            if ok:
                self.dedupe.confirm(result.event_id)
                n_acked += 1
            else:
                self.dedupe.release(result.event_id)
                result.status = Status.UNAVAILABLE
        if n_acked:
            self.metrics.accepted.labels(source).inc(n_acked)


def _event_id(raw: object) -> str | None:
    v = raw.get("event_id") if isinstance(raw, dict) else None
    return v if isinstance(v, str) else None


# ---------------------------------------------------------------------------------------------- raw topic


@dataclass
class RawOutcome:
    """What one raw record yields: valid events to write, and a dead letter when anything was wrong."""

    events: list[IndicatorEvent] = field(default_factory=list)
    dead_letter: Record | None = None
    reason: str | None = None
    rejected: list[Problem] = field(default_factory=list)


class RawValidator:
    """Decodes and validates records of ``indicator-events.raw`` (Pantau JSON events or NGSI-LD KPIs)."""

    def __init__(self, rules: Rules, *, dlq_topic: str) -> None:
        self.rules = rules
        self.dlq_topic = dlq_topic
        self.unit_of = {i.id: i.unit for i in rules.framework.indicators}

    def handle(
        self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int, timestamp_ms: int
    ) -> RawOutcome:
        """Never raises for bad input. Time checks judge ``observed_at`` against the record's timestamp,
        so a replay of the raw topic reaches the same verdicts as the first pass."""
        now = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
        if value is None:
            return self._dead(key, value, topic, partition, offset, EMPTY_VALUE, "record has no value")
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return self._dead(key, value, topic, partition, offset, UNDECODABLE, f"not JSON: {exc}")
        if ngsi_ld.looks_like_ngsi_ld(doc):
            return self._ngsi_ld(doc, key, value, topic, partition, offset, now)
        if not isinstance(doc, dict):
            return self._dead(key, value, topic, partition, offset, SCHEMA_INVALID, "an event is a JSON object")
        result = validate_document(doc, self.rules, now)
        if isinstance(result, IndicatorEvent):
            return RawOutcome(events=[result])
        out = self._dead(key, value, topic, partition, offset, _reason(result[0]), "; ".join(map(str, result)))
        out.rejected = result[:1]  # one event, one rejection (its first problem)
        return out

    def _ngsi_ld(
        self, doc: object, key: bytes | None, value: bytes, topic: str, partition: int, offset: int, now: datetime
    ) -> RawOutcome:
        sub = ngsi_ld.subscription_of(doc)
        out = RawOutcome()
        details: list[str] = []
        found = ngsi_ld.entities(doc)
        if not found:
            return self._dead(key, value, topic, partition, offset, ngsi_ld.NGSI_LD_INVALID, "no entity in the record")
        reasons: list[str] = []
        for i, entity in enumerate(found):
            converted = ngsi_ld.to_event(entity, self.unit_of, sub)
            if isinstance(converted, Problem):  # not a KPI entity the adapter can map
                result: IndicatorEvent | list[Problem] = [converted]
                reasons.append(ngsi_ld.NGSI_LD_INVALID)
            else:
                result = validate_document(converted, self.rules, now)
                if not isinstance(result, IndicatorEvent):
                    reasons.append(_reason(result[0]))
            if isinstance(result, IndicatorEvent):
                out.events.append(result)
                continue
            out.rejected.append(result[0])
            details.append(f"entity[{i}] " + "; ".join(map(str, result)))
        if out.rejected:
            dead = self._dead(key, value, topic, partition, offset, reasons[0], " | ".join(details))
            out.dead_letter, out.reason = dead.dead_letter, dead.reason
        return out

    def _dead(
        self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int, reason: str, detail: str
    ) -> RawOutcome:
        headers = dlq_headers(reason=reason, detail=detail, topic=topic, partition=partition, offset=offset,
                              service=SERVICE)  # fmt: skip
        return RawOutcome(dead_letter=Record(self.dlq_topic, key, value or b"", headers), reason=reason)


def _reason(problem: Problem) -> str:
    """The dead-letter reason of a problem: field-level schema codes fold into ``schema_invalid``."""
    return SCHEMA_INVALID if problem.code in _SCHEMA_CODES else problem.code
