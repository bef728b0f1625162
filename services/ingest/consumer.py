"""The raw-topic validator's loop: fetch, validate, write, and only then commit.

Each fetch is handled as a unit. Its valid events go to ``indicator-events`` (keyed by region code)
and its bad records to ``indicator-events.dlq`` with reason headers; the offsets are committed only
once the broker has acknowledged every one of those writes. If it has not, the partitions are sought
back to the start of the fetch and the same records are handled again once Kafka answers (at least
once: the event ids let consumers drop what they already have). A record that breaks the handler
itself is dealt with by the shared processing-error policy (services/runtime/errors.py,
``INGEST_ERROR_POLICY``): by default (``dlq``) it goes to the dead-letter topic as ``internal_error``
with the traceback logged, so nothing stops the loop and nothing is dropped silently; ``skip`` logs
and counts it (rejected, ``internal_error``) without a dead letter; ``crash`` stops the loop before
anything of the fetch is written or committed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from schemas.reasons import INTERNAL_ERROR
from schemas.validation import Problem
from services.ingest.metrics import IngestMetrics
from services.ingest.raw_topic import RawOutcome, RawValidator
from services.ingest.records import SERVICE, event_record
from services.ingest.writer import KafkaUnavailable, KafkaWriter, Record
from services.runtime import logs
from services.runtime.errors import ErrorPolicy, FailedRecord, on_processing_error
from services.runtime.settings import Kafka, connection

log = logs.get("pantau.ingest.validator")

RETRY_PAUSE = 1.0


class ValidatorLoop:
    def __init__(
        self,
        handler: RawValidator,
        writer: KafkaWriter,
        metrics: IngestMetrics,
        *,
        kafka: Kafka,
        source_topic: str,
        output_topic: str,
        group_id: str,
        max_records: int = 2000,
        error_policy: ErrorPolicy = "dlq",
    ) -> None:
        self.handler = handler
        self.writer = writer
        self.metrics = metrics
        self.kafka = connection(kafka)
        self.bootstrap = self.kafka.bootstrap_servers
        self.source_topic = source_topic
        self.output_topic = output_topic
        self.group_id = group_id
        self.max_records = max_records
        self.error_policy: ErrorPolicy = error_policy
        self.processed = 0
        self._lag_at = 0.0
        self._lag_labels: set[tuple[str, str]] = set()

    async def run(self) -> None:
        """Consume until cancelled; reconnects when the broker goes away."""
        while True:
            consumer = AIOKafkaConsumer(
                self.source_topic, **self.kafka.aiokafka(), group_id=self.group_id,
                enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=self.max_records,
                client_id="pantau-ingest-validator",
            )  # fmt: skip
            try:
                await consumer.start()
            except KafkaError as exc:
                log.warning("validator cannot reach Kafka; retrying", error=repr(exc))
                await consumer.stop()
                await asyncio.sleep(RETRY_PAUSE)
                continue
            try:
                await self._consume(consumer)
            except KafkaError as exc:
                log.warning("validator lost Kafka; reconnecting", error=repr(exc))
                await asyncio.sleep(RETRY_PAUSE)
            finally:
                await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            fetched = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
            if fetched and not await self._handle_fetch(consumer, fetched):
                await asyncio.sleep(RETRY_PAUSE)
            await self._update_lag(consumer)

    async def _handle_fetch(self, consumer: AIOKafkaConsumer, fetched: dict[TopicPartition, list[Any]]) -> bool:
        """Handle one fetch; True when its output is acknowledged and its offsets committed."""
        outcomes: list[RawOutcome] = []
        records: list[Record] = []
        handle = self.handler.handle
        for recs in fetched.values():
            for rec in recs:
                try:
                    out = handle(rec.key, rec.value, rec.topic, rec.partition, rec.offset)
                except Exception as exc:  # a handler bug: by the error policy (ProcessingStopped under crash)
                    out = await self._failed(rec, exc)
                outcomes.append(out)
                records.extend(event_record(self.output_topic, ev) for ev in out.events)
                if out.dead_letter is not None:
                    records.append(out.dead_letter)
        try:
            acked = await self.writer.write(records)
        except KafkaUnavailable as exc:
            acked, why = [False], str(exc)
        else:
            why = "not acknowledged"
        if not all(acked):
            for tp, recs in fetched.items():
                consumer.seek(tp, recs[0].offset)
            log.warning("validator output not acknowledged; the fetch will be handled again", reason=why)
            return False
        self._count(outcomes)
        try:
            await consumer.commit({tp: recs[-1].offset + 1 for tp, recs in fetched.items()})
        except CommitFailedError as exc:  # a rebalance took the partitions: their new owner redoes them
            log.warning("offset commit failed after a rebalance", error=repr(exc))
        self.processed += sum(len(r) for r in fetched.values())
        return True

    async def _failed(self, rec: Any, exc: Exception) -> RawOutcome:
        """The outcome of a record whose handler raised: its dead letter (``dlq``) or nothing (``skip``)."""
        failed = FailedRecord(rec.topic, rec.partition, rec.offset, rec.key, rec.value)
        letters: list[Record] = []

        async def dead_letter(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
            letters.append(Record(self.handler.dlq_topic, key, value or b"", headers))  # written with the fetch

        await on_processing_error(self.error_policy, failed, exc, service=SERVICE, send_dead_letter=dead_letter)
        if letters:
            return RawOutcome(dead_letter=letters[0], reason=INTERNAL_ERROR)
        return RawOutcome(rejected=[Problem(INTERNAL_ERROR, "(record)", repr(exc))])

    def _count(self, outcomes: list[RawOutcome]) -> None:
        m = self.metrics
        accepted = sum(len(o.events) for o in outcomes)
        if accepted:
            m.accepted.labels("kafka").inc(accepted)
        for o in outcomes:
            for p in o.rejected:
                m.rejected.labels("kafka", p.code).inc()
            if o.reason is not None:
                m.invalid.labels(o.reason).inc()
                if not o.rejected:  # undecodable, empty, internal error: the record is the rejected event
                    m.rejected.labels("kafka", o.reason).inc()

    async def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        if now - self._lag_at < 1.0:
            return
        self._lag_at = now
        current: set[tuple[str, str]] = set()
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            labels = (tp.topic, str(tp.partition))
            self.metrics.consumer_lag.labels(*labels).set(max(0, high - await consumer.position(tp)))
            current.add(labels)
        for labels in self._lag_labels - current:
            self.metrics.consumer_lag.remove(*labels)
        self._lag_labels = current
