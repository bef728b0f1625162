"""What a record of ``indicator-events.raw`` yields: valid events to write, a dead letter when anything was wrong.

The handler of the raw-topic validator (services/ingest/consumer.py runs it over fetches). No Kafka
client here: it is a function of the record, testable on its own, and never raises for bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from schemas.dlq import dlq_headers
from schemas.events import IndicatorEvent
from schemas.reasons import EMPTY_VALUE, NGSI_LD_INVALID, SCHEMA_INVALID, UNDECODABLE
from schemas.validation import Problem, dead_letter_reason
from services.ingest.domain import ngsi_ld
from services.ingest.domain.intake import Rules, validate_document
from services.ingest.records import SERVICE
from services.ingest.writer import Record


@dataclass
class RawOutcome:
    """What one raw record yields: valid events to write, and a dead letter when anything was wrong."""

    events: list[IndicatorEvent] = field(default_factory=list)
    dead_letter: Record | None = None
    reason: str | None = None
    rejected: list[Problem] = field(default_factory=list)


class RawValidator:
    """Decodes and validates records of ``indicator-events.raw`` (Pantau JSON events or NGSI-LD KPIs).

    Time is judged by the validator's own ``clock``, not by the record's timestamp: a producer sets
    CreateTime as it likes (the broker lets it run an hour ahead), and a record stamped ahead must not
    carry an ``observed_at`` as far ahead into indicator-events.
    """

    def __init__(self, rules: Rules, *, dlq_topic: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.rules = rules
        self.dlq_topic = dlq_topic
        self.clock = clock

    def handle(self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int) -> RawOutcome:
        """Never raises for bad input."""
        if value is None:
            return self._dead(key, value, topic, partition, offset, EMPTY_VALUE, "record has no value")
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return self._dead(key, value, topic, partition, offset, UNDECODABLE, f"not JSON: {exc}")
        now = self.clock()
        if ngsi_ld.looks_like_ngsi_ld(doc):
            return self._ngsi_ld(doc, key, value, topic, partition, offset, now)
        if not isinstance(doc, dict):
            return self._dead(key, value, topic, partition, offset, SCHEMA_INVALID, "an event is a JSON object")
        result = validate_document(doc, self.rules, now)
        if isinstance(result, IndicatorEvent):
            return RawOutcome(events=[result])
        out = self._dead(key, value, topic, partition, offset, dead_letter_reason(result[0]),
                         "; ".join(map(str, result)))  # fmt: skip
        out.rejected = result[:1]  # one event, one rejection (its first problem)
        return out

    def _ngsi_ld(
        self, doc: object, key: bytes | None, value: bytes, topic: str, partition: int, offset: int, now: datetime
    ) -> RawOutcome:
        reads = ngsi_ld.read_entities(doc, self.rules, now)
        if not reads:
            return self._dead(key, value, topic, partition, offset, NGSI_LD_INVALID, "no entity in the record")
        out = RawOutcome(events=[r.event for r in reads if r.event is not None],
                         rejected=[r.problems[0] for r in reads if r.event is None])  # fmt: skip
        dead = ngsi_ld.dead_letter_of(reads)
        if dead is not None:
            letter = self._dead(key, value, topic, partition, offset, *dead)
            out.dead_letter, out.reason = letter.dead_letter, letter.reason
        return out

    def _dead(
        self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int, reason: str, detail: str
    ) -> RawOutcome:
        headers = dlq_headers(reason=reason, detail=detail, topic=topic, partition=partition, offset=offset,
                              service=SERVICE)  # fmt: skip
        return RawOutcome(dead_letter=Record(self.dlq_topic, key, value or b"", headers), reason=reason)
