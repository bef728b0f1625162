"""The scoring service layer: one object owns a worker's cycle, from a fetched batch to its acknowledgement.

A cycle, all here (the entrypoints in worker.py and web.py only call in):

1. **apply** a partition's batch (``intake``): each record to the Scorer; dead letters, re-routed
   records and processing errors (services/runtime/errors.py) by what the Scorer says of them;
2. **persist** (``persist``) the changed region states to the table (whose changelog faust flushes
   before it commits offsets), then **settle the outbox**: wait until the broker has acknowledged the
   sends the batch made (dead letters, re-routed records);
3. then **acknowledge** the records those states and sends stand for, so that faust may commit them.
   A crash therefore never commits an offset whose effect is not durable; records redelivered after
   it are recognised by their offset, and a send whose acknowledgement was lost is made again.
4. **publish** the scores that are due (``publish_due``): at most once per region per
   ``publish_interval`` while the worker is caught up, per ``catchup_publish_interval`` while it works
   through a backlog (fetched records older than ``catchup_after``): a backlog's latency is its age
   anyway, and fewer, fuller scores let it catch up sooner. ``refresh_all`` re-scores every region,
   so that freshness is judged without new events.

A record on a partition that does not own its key is never applied there: it is produced again, as it
is, to the partition that owns it, and applied there (docs/decisions/0005-partition-ownership.md).

The service sees the runtime through three ports (``Runtime``, ``Output``, ``Store``); adapters.py
implements them on faust and aiokafka.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from schemas.dlq import dlq_headers
from schemas.reasons import INTERNAL_ERROR, LATE, WRONG_PARTITION
from schemas.topics import DEFAULT_PARTITIONS
from services.runtime import logs
from services.runtime.errors import FailedRecord, ProcessingStopped, on_processing_error
from services.runtime.faust_app import partition_of
from services.scoring.config import ScoringSettings
from services.scoring.domain import Outcome, weakest_indicators
from services.scoring.metrics import ScoringMetrics
from services.scoring.scorer import Misrouted, Rejection, Scorer

log = logs.get("pantau.scoring")
SERVICE = "scoring"
CHUNK = 500  # records applied between yields to the event loop
PUBLISH_CHUNK = 128  # scores computed and sent between yields

Sent = asyncio.Future[Any]  # a send the broker has yet to acknowledge
Headers = list[tuple[str, bytes]]


class Unsendable(Exception):
    """The producer refused a record (larger than it allows): ``error`` is why."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


class Runtime(Protocol):
    """The worker the service runs in: its consumer's flow and offsets, and stopping it."""

    #: Waits while the worker rebalances (faust's flow control).
    acquire: Callable[[], Awaitable[Any]]

    def generation(self) -> int:
        """The consumer group generation: it changes on a rebalance."""

    def partition_count(self) -> int | None:
        """Partitions of the source topic, once the consumer knows them."""

    def highwater(self, tp: Any) -> int | None: ...

    async def highwaters(self, tps: list[Any]) -> Mapping[Any, int]: ...

    async def position(self, tp: Any) -> int | None: ...

    def ack(self, tp: Any, first: int, last: int) -> None:
        """Acknowledge offsets first..last of ``tp``: faust may commit them."""

    async def crash(self, exc: BaseException) -> None:
        """Stop the worker (nothing more is acknowledged)."""


class Output(Protocol):
    """What the service produces."""

    async def dead_letter(self, key: bytes | None, value: bytes | None, headers: Headers) -> Sent:
        """Send a dead letter (without its value if the value cannot be sent); its acknowledgement."""

    async def reroute(self, record: Any, partition: int) -> Sent:
        """Produce ``record`` again, unchanged, to ``partition``; its acknowledgement. Raises Unsendable."""

    async def scores(self, scores: list[Any]) -> None:
        """Publish region scores (co-partitioned with the events)."""

    async def wait_until_ebb(self) -> None:
        """Wait until the producer's buffer has drained below its limit."""

    async def flush(self) -> None:
        """Wait until every send is acknowledged."""


class Store(Protocol):
    """The region-state table."""

    def load(self, region: str) -> bytes | None: ...

    def holds(self, region: str) -> bool: ...

    def regions(self) -> list[str]: ...

    def write(self, region: str, partition: int, data: bytes) -> None:
        """Write on ``partition`` of the source topic's co-partitioned changelog."""


class ScoringService:
    def __init__(
        self,
        settings: ScoringSettings,
        scorer: Scorer,
        metrics: ScoringMetrics,
        *,
        runtime: Runtime,
        output: Output,
        store: Store,
        source_topic: str,
    ) -> None:
        self.scorer, self.metrics = scorer, metrics
        self.runtime, self.output, self.store = runtime, output, store
        self.source_topic = source_topic
        self.error_policy = settings.error_policy
        self.publish_interval = settings.publish_interval
        self.catchup_publish_interval = settings.catchup_publish_interval
        self.catchup_after = settings.catchup_after
        self.persist_interval = settings.persist_interval
        self.batch_max = settings.batch_max
        self.late_detail = f"observed_at older than the series watermark minus {settings.allowed_lateness}"
        self.pending: dict[Any, tuple[int, int]] = {}  # tp -> (first, last) offsets applied, not yet acknowledged
        self.pending_count = 0
        self.last_persist = 0.0
        self.behind = False  # fetched records are older than catchup_after
        self.persist_lock = asyncio.Lock()
        self.outbox: list[Sent] = []  # sends to be acknowledged before the offsets they stand for
        self.misrouted_seen: set[tuple[int, bytes]] = set()  # (source partition, key) already logged
        self.held: set[Any] = set()  # the source topic's partitions assigned to this worker
        self.lag = metrics.consumer_lag
        self.lag.assigned = lambda: self.held
        self.outcome_counter = {o: metrics.events.labels(o.value) for o in Outcome}
        self.invalid_counter = metrics.events.labels("invalid")
        self.rerouted_counter = metrics.events.labels("rerouted")
        self.error_counter = metrics.events.labels("error")

    # ------------------------------------------------------------------ apply

    async def intake(self, tp: Any, records: list[Any]) -> None:
        """A partition's fetched records (aiokafka ConsumerRecords, oldest first), applied a chunk at a time.

        The inner loop is the worker's hot path (tens of thousands of records a second): locals only.
        """
        runtime, scorer, lag = self.runtime, self.scorer, self.lag
        generation = runtime.generation()
        if scorer.owner is None:
            self.learn_owner()
        apply, acquire = scorer.apply_record, runtime.acquire
        outcome_counter, invalid_counter, late_detail = self.outcome_counter, self.invalid_counter, self.late_detail
        dead_letter, reroute = self.dead_letter, self.reroute
        age = max(0.0, time.time() - records[-1].timestamp / 1000)
        self.metrics.record_age.observe(age)
        self.behind = age > self.catchup_after
        for start in range(0, len(records), CHUNK):
            await acquire()  # paused while faust rebalances
            if runtime.generation() != generation:
                return  # a rebalance: the rest is delivered again to the partition's new owner
            chunk = records[start : start + CHUNK]
            for record in chunk:
                try:
                    result = apply(record.key, record.value, record.partition, record.offset, record.timestamp / 1000)
                except Exception as exc:  # a bug, not bad input
                    if await self.failed(record, exc):
                        return
                    continue
                if isinstance(result, Rejection):
                    invalid_counter.inc()
                    await dead_letter(record, result.reason, result.detail)
                    continue
                if isinstance(result, Misrouted):
                    await reroute(record, result.partition)
                    continue
                outcome_counter[result].inc()
                if result is Outcome.LATE:
                    await dead_letter(record, LATE, late_detail)
            first = self.pending.get(tp, (chunk[0].offset, 0))[0]
            self.pending[tp] = (first, chunk[-1].offset)
            self.pending_count += len(chunk)
            lag.handled[tp] = chunk[-1].offset + 1
            lag.raise_end(tp, runtime.highwater(tp))
            if self.pending_count >= self.batch_max:
                await self.persist(force=True)
            else:
                await asyncio.sleep(0)  # let timers (publication) and the web server run

    def learn_owner(self) -> None:
        """Ownership by the murmur2 rule over the source topic's partitions (known once it is assigned)."""
        count = self.runtime.partition_count() or DEFAULT_PARTITIONS
        self.scorer.owner = lambda region: partition_of(region, count)

    async def dead_letter(self, record: Any, reason: str, detail: str) -> None:
        self.metrics.invalid.labels(reason).inc()
        headers = dlq_headers(reason=reason, detail=detail, topic=record.topic, partition=record.partition,
                              offset=record.offset, service=SERVICE)  # fmt: skip
        self.outbox.append(await self.output.dead_letter(record.key, record.value, headers))

    async def reroute(self, record: Any, partition: int) -> None:
        """Send ``record`` on to the partition that owns its key. Its event id is kept, so a second copy
        (after a kill before the commit) is a duplicate there."""
        if (record.partition, record.key) not in self.misrouted_seen:
            self.misrouted_seen.add((record.partition, record.key))
            log.warning("scoring.misrouted_key", where=f"{record.topic}[{record.partition}]@{record.offset}",
                        key=record.key.decode(errors="replace"), owner=partition,
                        hint="the publisher's client does not partition with murmur2")  # fmt: skip
        try:
            sent = await self.output.reroute(record, partition)
        except Unsendable as exc:  # this record cannot be produced again (too large for the producer)
            detail = f"key {record.key!r} belongs to partition {partition}; it could not be produced there: "
            detail += repr(exc.error)
            await self.dead_letter(record, WRONG_PARTITION, detail)
            return
        self.outbox.append(sent)
        self.rerouted_counter.inc()

    async def failed(self, record: Any, exc: Exception) -> bool:
        """A record whose handling raised, by the error policy (dlq, crash, skip). True: the worker stops."""
        where = FailedRecord(record.topic, record.partition, record.offset, record.key, record.value)
        try:
            await on_processing_error(self.error_policy, where, exc, service=SERVICE,
                                      send_dead_letter=self.dead_letter_failed,
                                      count=lambda _policy: self.error_counter.inc())  # fmt: skip
        except ProcessingStopped as stopped:
            await self.runtime.crash(stopped)
            return True
        return False

    async def dead_letter_failed(self, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        self.metrics.invalid.labels(INTERNAL_ERROR).inc()
        self.outbox.append(await self.output.dead_letter(key, value, headers))

    # ------------------------------------------------------------------ persist, settle, acknowledge

    async def persist(self, force: bool = False) -> None:
        """Persist changed region states, wait for the outbox, then acknowledge the records they hold."""
        async with self.persist_lock:
            if not self.pending:
                return
            if not force and time.monotonic() - self.last_persist < self.persist_interval:
                return
            ranges, self.pending, self.pending_count = self.pending, {}, 0
            sent, self.outbox = self.outbox, []
            scorer, write = self.scorer, self.store.write
            t0 = time.perf_counter()
            for n, (region, data) in enumerate(scorer.take_unpersisted(), 1):
                if n % 32 == 0:
                    await asyncio.sleep(0)  # a full flush takes ~0.2 s: let records and publications through
                write(region, scorer.partition_of[region], data)
            self.metrics.persist_seconds.observe(time.perf_counter() - t0)
            self.last_persist = time.monotonic()
            try:
                await settle(sent)
            except Exception as exc:
                await self.runtime.crash(exc)
                return
            for tp, (first, last) in ranges.items():
                self.runtime.ack(tp, first, last)
            await self.output.wait_until_ebb()

    # ------------------------------------------------------------------ publish

    async def publish(self, regions: list[str]) -> None:
        score_if_changed = self.scorer.score_if_changed
        for start in range(0, len(regions), PUBLISH_CHUNK):
            scores = [score_if_changed(region) for region in regions[start : start + PUBLISH_CHUNK]]
            await self.output.scores([s for s in scores if s is not None])
            await asyncio.sleep(0)  # let records flow in between

    async def publish_due(self) -> None:
        interval = self.catchup_publish_interval if self.behind else self.publish_interval
        await self.publish(self.scorer.due(interval=interval))

    async def refresh_all(self) -> None:
        """Re-score every region, so that freshness moves without events. Regions restored from the
        table after a restart are held too."""
        for region in self.store.regions():
            self.scorer.state_for(region)
        await self.publish(list(self.scorer.states))

    # ------------------------------------------------------------------ partitions, lag, stop

    def assigned(self, tps: Iterable[Any]) -> None:
        self.held.update(tp for tp in tps if tp.topic == self.source_topic)

    async def revoked(self, tps: Iterable[Any]) -> None:
        mine = {tp for tp in tps if tp.topic == self.source_topic}
        self.held.difference_update(mine)
        self.lag.forget(mine)
        if mine:
            await self.persist(force=True)
            self.scorer.forget_partitions({tp.partition for tp in mine})

    async def refresh_lag(self) -> None:
        """The log end offsets from the broker, so that the lag is true within a second even while no
        fetch returns (a partition whose records wait behind a long batch)."""
        tps = list(self.held)
        if not tps:
            return
        for tp, end in (await self.runtime.highwaters(tps)).items():
            self.lag.raise_end(tp, end)
        for tp in tps:
            if tp not in self.lag.handled:  # nothing handled yet since the assignment: where it starts
                position = await self.runtime.position(tp)
                if position is not None:
                    self.lag.handled.setdefault(tp, position)

    async def stop(self) -> None:
        """Persist what was applied, and publish the final scores, before the producer closes."""
        await self.persist(force=True)
        await self.publish(list(self.scorer.dirty))
        await self.output.flush()
        log.info("scoring.stopped", processed=self.scorer.processed, regions=len(self.scorer.states))

    # ------------------------------------------------------------------ queries

    def knows(self, region: str) -> bool:
        return region in self.scorer.regions

    def score_now(self, region: str) -> dict[str, Any] | None:
        """The region's score now and its five weakest indicators, as JSON (None: no events for it yet)."""
        if region not in self.scorer.states and not self.store.holds(region):
            return None
        score = self.scorer.score(region, datetime.now(UTC))
        body = score.model_dump(mode="json")
        body["weakest"] = [i.model_dump(mode="json") for i in weakest_indicators(score, 5)]
        return body

    def progress(self) -> dict[str, int]:
        return {"regions": len(self.scorer.states), "processed": self.scorer.processed}


async def settle(sent: list[Sent]) -> None:
    """Wait for the broker's acknowledgement of ``sent``; a send that failed raises (and stops the worker,
    so that the records it stands for are not acknowledged: they come back after the restart)."""
    for result in await asyncio.gather(*sent, return_exceptions=True):
        if isinstance(result, BaseException):
            log.error("scoring.send_failed", error=repr(result))
            raise result
