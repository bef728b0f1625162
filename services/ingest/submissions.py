"""What a POST does with its items: authorise, validate, dedupe and write them (HTTP and NGSI-LD notifications).

The service layer of the HTTP doors: no HTTP framework and no Kafka client here (the writer is passed
in), so it is testable on its own; services/ingest/web.py turns a :class:`Submission` into an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import orjson

from schemas.dlq import dlq_headers
from schemas.events import IndicatorEvent
from services.ingest.domain import ngsi_ld
from services.ingest.domain.auth import Publisher
from services.ingest.domain.dedupe import DedupeKey, RecentIds, Seen
from services.ingest.domain.intake import ItemResult, Rules, Status, scope_problems, validate_item
from services.ingest.metrics import IngestMetrics
from services.ingest.records import SERVICE, event_record
from services.ingest.writer import KafkaUnavailable, Record
from services.runtime import logs

log = logs.get("pantau.ingest")
#: The dead-letter "source topic" of a notification posted over HTTP.
NOTIFY_SOURCE = "http:POST /v1/ngsi-ld/notify"
PUBLISHER_HEADER = "pantau.dlq.publisher"
#: A posted notification is dead-lettered as received up to this size, as a summary beyond it.
MAX_DEAD_LETTER_VALUE = 512 * 1024


class Writer(Protocol):
    """What the intake needs of Kafka (services/ingest/writer.py's KafkaWriter)."""

    @property
    def ready(self) -> bool: ...

    async def write(self, records: Sequence[Record]) -> list[bool]: ...

    async def settle(self, records: Sequence[Record], since_ms: int) -> list[bool]: ...


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


@dataclass
class _Plan:
    """What a request's valid events need: a write, a wait for another request's write, or nothing."""

    results: list[ItemResult] = field(default_factory=list)
    to_write: list[tuple[ItemResult, IndicatorEvent, DedupeKey]] = field(default_factory=list)
    waiting: list[tuple[ItemResult, asyncio.Future[bool]]] = field(default_factory=list)
    repeats: list[tuple[ItemResult, ItemResult]] = field(default_factory=list)  # (repeat, first in the request)
    firsts: dict[DedupeKey, ItemResult] = field(default_factory=dict)


class Intake:
    """Validates, authorises, dedupes and writes submitted items: nothing out of scope is ever written.

    Acknowledged means written: an item is ``duplicate`` only when the broker acknowledged the earlier
    write of its (publisher, region, event id). While that write is in flight, a resubmission waits
    for it (at most ``wait_timeout``) and gets its outcome: ``duplicate`` if it was acknowledged,
    ``unavailable`` (503) if not. A write that failed with its records possibly on the wire leaves
    them in doubt: they stay pending (resubmissions wait, or get 503) until the writer has read the
    topic back and found out whether they landed.
    """

    def __init__(
        self,
        rules: Rules,
        writer: Writer,
        dedupe: RecentIds,
        metrics: IngestMetrics,
        *,
        topic: str,
        dlq_topic: str,
        wait_timeout: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rules = rules
        self.writer = writer
        self.dedupe = dedupe
        self.metrics = metrics
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.wait_timeout = wait_timeout
        self.clock = clock
        self._pending: dict[DedupeKey, asyncio.Future[bool]] = {}  # True once written, False if not (yet)
        self._settling: set[asyncio.Task[None]] = set()

    async def submit(self, items: Sequence[object], publisher: Publisher, source: str = "http") -> Submission:
        # 1. Authorisation first, on what each item claims: one item out of scope refuses the request.
        denied = [
            (i, p) for i, raw in enumerate(items) if (p := scope_problems(raw, publisher.scope, publisher.key_id))
        ]
        if denied:
            return self._forbidden([ItemResult(i, Status.REJECTED, _event_id(items[i]), p) for i, p in denied], source)
        # 2. Validation, item by item.
        now = self.clock()
        plan = _Plan()
        for i, raw in enumerate(items):
            outcome = validate_item(raw, self.rules, now, publisher.id)
            if isinstance(outcome, list):
                plan.results.append(ItemResult(i, Status.REJECTED, _event_id(raw), outcome))
                self.metrics.rejected.labels(source, outcome[0].code).inc()
                continue
            result = ItemResult(i, Status.ACCEPTED, str(outcome.event_id))
            plan.results.append(result)
            self._plan(plan, result, outcome, publisher)
        # 3. Write what is new, wait for what other requests are writing.
        await self._carry_out(plan, source)
        return Submission(plan.results)

    async def notify(self, doc: object, body: bytes, publisher: Publisher) -> Submission:
        """An NGSI-LD notification posted over HTTP: the same mapping and dead letters as the raw topic.

        Every entity is checked against the key's scope first (one outside it refuses the request,
        nothing written). The good entities are written as events (deduped as any event); the bad
        ones are rejected with their reason, and the notification goes to the dead-letter topic once,
        naming each bad entity. Both writes are one: the answer is a 2xx only when both landed.
        """
        found = ngsi_ld.entities(doc)
        denied = [
            (i, p)
            for i, entity in enumerate(found)
            if (p := scope_problems(ngsi_ld.claims(entity), publisher.scope, publisher.key_id))
        ]
        if denied:
            return self._forbidden(
                [ItemResult(i, Status.REJECTED, None, p, entity_id=ngsi_ld.entity_id_of(found[i])) for i, p in denied],
                "http",
            )
        reads = ngsi_ld.read_entities(doc, self.rules, self.clock(), publisher.id)
        plan = _Plan()
        bad: list[ItemResult] = []
        for read in reads:
            if read.event is None:
                result = ItemResult(read.index, Status.REJECTED, None, list(read.problems), read.entity_id, read.reason)
                plan.results.append(result)
                bad.append(result)
                self.metrics.rejected.labels("http", read.problems[0].code).inc()
                continue
            result = ItemResult(read.index, Status.ACCEPTED, str(read.event.event_id), entity_id=read.entity_id)
            plan.results.append(result)
            self._plan(plan, result, read.event, publisher)
        dead = ngsi_ld.dead_letter_of(reads)
        extra = [] if dead is None else [self._notification_dead_letter(doc, body, *dead, publisher)]
        if not await self._carry_out(plan, "http", extra):
            for result in bad:
                result.status = Status.UNAVAILABLE
        elif dead is not None:
            self.metrics.invalid.labels(dead[0]).inc()
        return Submission(plan.results)

    async def close(self) -> None:
        """Stop settling writes in doubt (at shutdown): their ids are forgotten with the process."""
        for task in list(self._settling):
            task.cancel()
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    # ------------------------------------------------------------------ the parts

    def _forbidden(self, results: list[ItemResult], source: str) -> Submission:
        for r in results:
            self.metrics.rejected.labels(source, r.errors[0].code).inc()
        return Submission(results, forbidden=True)

    def _plan(self, plan: _Plan, result: ItemResult, event: IndicatorEvent, publisher: Publisher) -> None:
        """Decide what a valid item needs, by its dedupe key: written, pending elsewhere, repeated, new."""
        key: DedupeKey = (publisher.id, event.region_code, str(event.event_id))
        first = plan.firsts.get(key)
        if first is not None:
            plan.repeats.append((result, first))
            return
        plan.firsts[key] = result
        seen = self.dedupe.status(key)
        if seen is Seen.WRITTEN:
            result.status = Status.DUPLICATE
        elif seen is Seen.PENDING:
            plan.waiting.append((result, self._pending[key]))
        else:
            self.dedupe.reserve(key)
            self._pending[key] = asyncio.get_running_loop().create_future()
            plan.to_write.append((result, event, key))

    async def _carry_out(self, plan: _Plan, source: str, extra: Sequence[Record] = ()) -> bool:
        """Write and wait as planned; settle every result. True when the ``extra`` records were acknowledged."""
        extra_acked, _ = await asyncio.gather(self._write(plan.to_write, extra, source), self._wait(plan.waiting))
        for result, first in plan.repeats:
            result.status = Status.UNAVAILABLE if first.status is Status.UNAVAILABLE else Status.DUPLICATE
        duplicates = sum(1 for r in plan.results if r.status is Status.DUPLICATE)
        if duplicates:
            self.metrics.duplicates.labels(source).inc(duplicates)
        return extra_acked

    async def _write(
        self, batch: list[tuple[ItemResult, IndicatorEvent, DedupeKey]], extra: Sequence[Record], source: str
    ) -> bool:
        if not batch and not extra:
            return True
        records = [event_record(self.topic, ev) for _r, ev, _k in batch] + list(extra)
        since_ms = int(self.clock().timestamp() * 1000)
        try:
            acked = await self.writer.write(records)
            sent = True
        except KafkaUnavailable:  # nothing was sent
            acked, sent = [False] * len(records), False
        except BaseException:  # cancelled (shutdown) or a bug: never leave a key pending for good
            for _r, _ev, key in batch:
                self.dedupe.release(key)
                self._pending.pop(key).set_result(False)
            raise
        in_doubt: list[tuple[DedupeKey, Record]] = []
        n_acked = 0
        for (result, _ev, key), record, ok in zip(batch, records, acked, strict=False):
            answered = self._pending[key]
            if ok:
                self.dedupe.confirm(key)
                del self._pending[key]
                n_acked += 1
            elif sent:  # it may have landed: pending until the writer has looked
                result.status = Status.UNAVAILABLE
                self._pending[key] = asyncio.get_running_loop().create_future()
                in_doubt.append((key, record))
            else:
                result.status = Status.UNAVAILABLE
                self.dedupe.release(key)
                del self._pending[key]
            answered.set_result(ok)
        if n_acked:
            self.metrics.accepted.labels(source).inc(n_acked)
        if in_doubt:
            task = asyncio.create_task(self._settle(in_doubt, since_ms), name="ingest-settle")
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        return all(acked[len(batch) :])

    async def _wait(self, waiting: list[tuple[ItemResult, asyncio.Future[bool]]]) -> None:
        """Each item whose key another request is writing: its outcome, or unavailable after the timeout."""
        if not waiting:
            return
        futures = {f for _r, f in waiting if not f.done()}
        if futures and self.writer.ready:  # while Kafka is known to be down, nothing can settle: 503 now
            await asyncio.wait(futures, timeout=self.wait_timeout)
        for result, f in waiting:
            result.status = Status.DUPLICATE if f.done() and f.result() else Status.UNAVAILABLE

    async def _settle(self, in_doubt: list[tuple[DedupeKey, Record]], since_ms: int) -> None:
        found = await self.writer.settle([r for _k, r in in_doubt], since_ms)
        for (key, _r), ok in zip(in_doubt, found, strict=True):
            (self.dedupe.confirm if ok else self.dedupe.release)(key)
            self._pending.pop(key).set_result(ok)
            self.metrics.in_doubt.labels("written" if ok else "not_written").inc()
        log.info("writes in doubt settled", written=sum(found), not_written=len(found) - sum(found))

    def _notification_dead_letter(
        self, doc: object, body: bytes, reason: str, detail: str, publisher: Publisher
    ) -> Record:
        value = body
        if len(body) > MAX_DEAD_LETTER_VALUE:
            value = orjson.dumps({"truncated": True, "bytes": len(body), "id": _str_member(doc, "id"),
                                  "subscriptionId": ngsi_ld.subscription_of(doc)})  # fmt: skip
        headers = dlq_headers(reason=reason, detail=detail, topic=NOTIFY_SOURCE, partition=-1, offset=-1,
                              service=SERVICE)  # fmt: skip
        return Record(self.dlq_topic, None, value, [*headers, (PUBLISHER_HEADER, publisher.id.encode())])


def _event_id(raw: object) -> str | None:
    v = raw.get("event_id") if isinstance(raw, dict) else None
    return v if isinstance(v, str) else None


def _str_member(doc: object, name: str) -> str | None:
    v = doc.get(name) if isinstance(doc, dict) else None
    return v[:256] if isinstance(v, str) else None
