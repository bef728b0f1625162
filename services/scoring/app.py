"""Faust wiring of the scoring service: thin. The handler (handlers.py) does the work.

- The agent reads ``indicator-events`` with acks off, hands each record to the Scorer and
  acknowledges records only once the region state holding them is written to the table (whose
  changelog faust flushes before it commits offsets). A crash therefore never commits an offset
  whose effect is not persisted; records redelivered after it are recognised by their offset.
- Bad records go to ``indicator-events.dlq`` with reason headers; they never stop the worker.
- A record on a partition that does not own its key (a publisher whose client is not partitioning
  with murmur2) is never applied there: it is produced again, as it is, to the partition that owns
  it, and applied there (docs/decisions/0005-partition-ownership.md).
- Dead letters and re-routed records are acknowledged by the broker before the source offsets that
  they stand for are: a kill in between sends them again, never loses them.
- Region scores are published at most once per region per ``publish_interval`` (0.1 s) while the
  worker is caught up, and per ``catchup_publish_interval`` (1 s) while it works through a backlog
  (fetched records older than ``catchup_after``): a backlog's latency is its age anyway, and fewer,
  fuller scores let it catch up sooner. A timer re-scores every region so that freshness is judged
  without new events.
"""

from __future__ import annotations

import asyncio
import gc
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.exceptions import SameNode
from faust.types import StreamT
from faust.web import Request, Response, View
from prometheus_client import generate_latest

from schemas.dlq import dlq_headers
from schemas.framework import load_framework
from schemas.reasons import INTERNAL_ERROR, WRONG_PARTITION
from schemas.regions import default_registry
from schemas.scores import RegionScore
from schemas.topics import DEFAULT_PARTITIONS
from services.runtime import faust_app, faust_seam, logs
from services.runtime.topics import ensure_changelogs
from services.scoring.config import ScoringSettings
from services.scoring.domain import Outcome, weakest_indicators
from services.scoring.domain.state import to_micros
from services.scoring.handlers import Misrouted, Rejection, Scorer
from services.scoring.metrics import ScoringMetrics

log = logs.get("pantau.scoring")
SERVICE = "scoring"
# Prometheus text format; aiohttp takes the charset separately, so it is left out here.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
CHUNK = 500  # records applied between yields to the event loop
PUBLISH_CHUNK = 128  # scores computed and sent between yields
#: Header of a record produced again to the partition that owns its key: where it was first written.
REROUTED_FROM = "pantau.rerouted.from"


@dataclass
class ScoringService:
    settings: ScoringSettings
    app: faust.App
    scorer: Scorer
    metrics: ScoringMetrics
    pending: dict[Any, tuple[int, int]] = field(default_factory=dict)  # tp -> (first, last) offsets applied
    pending_count: int = 0
    last_persist: float = 0.0
    behind: bool = False  # fetched records are older than settings.catchup_after
    flush_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Sends (dead letters, re-routed records) that must be acknowledged before the offsets they stand for.
    outbox: list[asyncio.Future[Any]] = field(default_factory=list)
    misrouted_regions: set[tuple[int, str]] = field(default_factory=set)  # (source partition, region) logged


def build(settings: ScoringSettings) -> ScoringService:
    faust_seam.set_fetch_max_wait(settings.fetch_max_wait)
    faust_seam.set_group_instance_id(settings.group_instance_id)
    ensure_changelogs(settings.kafka, settings.app_id, ["region-state"], DEFAULT_PARTITIONS)
    framework = load_framework(settings.framework_file)
    metrics = ScoringMetrics()
    app = faust_app.make_app(
        settings.app_id, kafka=settings.kafka, store=settings.store, data_dir=settings.data_dir,
        web_host=settings.web_host, web_port=settings.web_port, commit_interval=settings.commit_interval,
        session_timeout=settings.session_timeout,
        # A RegionScore is ~10 KB: with faust's default 16 KB batches every score is a batch of its
        # own, and publication waits a broker round trip per partition for every one or two scores.
        producer_max_batch_size=1_048_576,
        producer_linger=0.005,
        stream_buffer_maxsize=4096,
        broker_max_poll_records=10_000,
        # Records are acknowledged only when their state is persisted (flush). On a rebalance or a
        # stop faust must not wait for that: what is not yet acknowledged is simply not committed,
        # is redelivered, and is recognised by the offset kept in the region state.
        stream_wait_empty=False,
    )  # fmt: skip
    source = app.topic(settings.topic("indicator-events"), key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")  # fmt: skip
    scores_topic_name = settings.topic("region-scores")
    dlq_topic = app.topic(settings.topic("indicator-events.dlq"), key_serializer="raw", value_serializer="raw")
    table = app.Table(
        "region-state", key_type=bytes, value_type=bytes, partitions=DEFAULT_PARTITIONS,
    )  # fmt: skip

    def load(region: str) -> bytes | None:
        raw = table.get(region.encode())
        return bytes(raw) if raw is not None else None

    scorer = Scorer(
        framework, default_registry(), metrics,
        lateness_us=to_micros(settings.allowed_lateness), publish_interval=settings.publish_interval, load=load,
        limits=settings.time_limits,
    )  # fmt: skip
    svc = ScoringService(settings, app, scorer, metrics)
    outcome_counter = {o: metrics.events.labels(o.value) for o in Outcome}
    rerouted_counter = metrics.events.labels("rerouted")
    dlq_name = dlq_topic.get_topic_name()
    lag = metrics.consumer_lag
    held: set[Any] = set()  # the source topic's partitions assigned to this worker
    lag.assigned = lambda: held

    def aiokafka_producer() -> Any:
        return app.producer._ensure_producer()  # type: ignore[attr-defined]  # aiokafka's, as faust started it

    async def send_dlq(record: Any, reason: str, detail: str) -> None:
        metrics.invalid.labels(reason).inc()
        headers = dlq_headers(reason=reason, detail=detail, topic=record.topic, partition=record.partition,
                              offset=record.offset, service=SERVICE)  # fmt: skip
        try:
            sent = await aiokafka_producer().send(dlq_name, value=record.value, key=record.key, headers=headers)
        except KafkaError as exc:  # the record itself cannot be produced (too large): its headers still go
            headers = dlq_headers(reason=reason, detail=f"{detail} (value left out: {exc!r})", topic=record.topic,
                                  partition=record.partition, offset=record.offset, service=SERVICE)  # fmt: skip
            sent = await aiokafka_producer().send(dlq_name, value=None, key=record.key, headers=headers)
        svc.outbox.append(sent)

    async def reroute(record: Any, partition: int) -> None:
        """Produce ``record`` again, unchanged (key, value, timestamp, headers), to the partition that owns
        its key. Its event id is kept, so a second copy (after a kill before the commit) is a duplicate."""
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        if (record.partition, record.key) not in svc.misrouted_regions:
            svc.misrouted_regions.add((record.partition, record.key))
            log.warning("scoring.misrouted_key", where=where, key=record.key.decode(errors="replace"),
                        owner=partition, hint="the publisher's client does not partition with murmur2")  # fmt: skip
        headers = [*(record.headers or ()), (REROUTED_FROM, where.encode())]
        try:
            sent = await aiokafka_producer().send(source_name, value=record.value, key=record.key, headers=headers,
                                                  partition=partition, timestamp_ms=record.timestamp)  # fmt: skip
        except KafkaError as exc:  # this record cannot be produced again (too large for the producer)
            await send_dlq(record, WRONG_PARTITION, f"key {record.key!r} belongs to partition {partition}; "
                                                    f"it could not be produced there: {exc!r}")  # fmt: skip
            return
        svc.outbox.append(sent)
        rerouted_counter.inc()

    async def settle_outbox(sent: list[asyncio.Future[Any]]) -> None:
        """Wait for the broker's acknowledgement of ``sent``; a send that failed stops the worker, so that
        the records it stands for are not acknowledged (they come back after the restart)."""
        for result in await asyncio.gather(*sent, return_exceptions=True):
            if isinstance(result, BaseException):
                log.error("scoring.send_failed", error=repr(result))
                raise result

    async def flush(force: bool = False) -> None:
        """Persist changed region states, then acknowledge the records they hold."""
        async with svc.flush_lock:
            if not svc.pending:
                return
            if not force and time.monotonic() - svc.last_persist < settings.persist_interval:
                return
            ranges, svc.pending, svc.pending_count = svc.pending, {}, 0
            sent, svc.outbox = svc.outbox, []
            t0 = time.perf_counter()
            for n, (region, data) in enumerate(scorer.take_unpersisted(), 1):
                if n % 32 == 0:
                    await asyncio.sleep(0)  # a full flush takes ~0.2 s: let records and publications through
                with faust_app.on_partition(app, source_name, scorer.partition_of[region], region.encode()):
                    table[region.encode()] = data
            metrics.persist_seconds.observe(time.perf_counter() - t0)
            svc.last_persist = time.monotonic()
            try:
                await settle_outbox(sent)
            except Exception as exc:
                await app.crash(exc)
                return
            consumer = app.consumer
            for tp, (first, last) in ranges.items():
                faust_seam.ack_offsets(consumer, tp, first, last)
            await app.producer.buffer.wait_until_ebb()

    score_partitions: dict[str, int] = {}

    async def send_scores(scores: list[RegionScore]) -> None:
        """Publish scores as one producer batch per partition.

        aiokafka's own batches, not a ``send()`` per score: at a few thousand scores a second the
        per-record path (faust's and aiokafka's futures, one accumulator call each) took a fifth of
        the worker. The partition is the one the default partitioner gives the region's key, so
        ``region-scores`` stays co-partitioned with ``indicator-events``.
        """
        if not scores:
            return
        producer = aiokafka_producer()
        if not score_partitions:
            count = len(await producer.partitions_for(scores_topic_name))
            score_partitions.update({r: faust_app.partition_of(r, count) for r in scorer.regions.regions})
        batches: dict[int, Any] = {}
        for score in scores:
            region = score.region_code
            key, value = region.encode(), scorer.encode(score)
            partition = score_partitions[region]
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it, start another
                await producer.send_batch(batch, scores_topic_name, partition=partition)
                batch = batches[partition] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        for partition, batch in batches.items():
            await producer.send_batch(batch, scores_topic_name, partition=partition)

    async def publish(regions: list[str]) -> None:
        for start in range(0, len(regions), PUBLISH_CHUNK):
            scores = [scorer.publish(region) for region in regions[start : start + PUBLISH_CHUNK]]
            await send_scores([s for s in scores if s is not None])
            await asyncio.sleep(0)  # let records flow in between

    async def publish_due() -> None:
        interval = settings.catchup_publish_interval if svc.behind else settings.publish_interval
        await publish(scorer.due(interval=interval))

    async def handle_failed(record: Any, exc: Exception) -> bool:
        """An unexpected exception for one record, by policy. True when the worker must stop."""
        log.error("scoring.record_failed", where=f"{record.topic}[{record.partition}]@{record.offset}",
                  error=repr(exc), traceback=traceback.format_exc(limit=5))  # fmt: skip
        metrics.events.labels("error").inc()
        if settings.error_policy == "crash":
            await app.crash(exc)
            return True
        await send_dlq(record, INTERNAL_ERROR, repr(exc))
        return False

    def learn_owner() -> None:
        """Ownership by the murmur2 rule over the source topic's partitions (known once it is assigned)."""
        count = app.consumer.topic_partitions(source_name) or DEFAULT_PARTITIONS
        scorer.owner = lambda region: faust_app.partition_of(region, count)

    async def intake(tp: Any, records: list[Any]) -> None:
        """A partition's fetched records, straight from faust's consumer (faust_seam.route_topic_batches)."""
        generation = app.consumer_generation_id
        if scorer.owner is None:
            learn_owner()
        handle = scorer.handle
        age = max(0.0, time.time() - records[-1].timestamp / 1000)
        metrics.record_age.observe(age)
        svc.behind = age > settings.catchup_after
        for start in range(0, len(records), CHUNK):
            await flow_acquire()  # paused while faust rebalances
            if app.consumer_generation_id != generation:
                return  # a rebalance: the rest is delivered again to the partition's new owner
            chunk = records[start : start + CHUNK]
            for record in chunk:
                try:
                    result = handle(record.key, record.value, record.partition, record.offset, record.timestamp / 1000)
                except Exception as exc:  # a bug, not bad input
                    if await handle_failed(record, exc):
                        return
                    continue
                if isinstance(result, Rejection):
                    metrics.events.labels("invalid").inc()
                    await send_dlq(record, result.reason, result.detail)
                    continue
                if isinstance(result, Misrouted):
                    await reroute(record, result.partition)
                    continue
                outcome_counter[result].inc()
                if result is Outcome.LATE:
                    await send_dlq(record, "late", late_detail)
            first = svc.pending.get(tp, (chunk[0].offset, 0))[0]
            svc.pending[tp] = (first, chunk[-1].offset)
            svc.pending_count += len(chunk)
            lag.handled[tp] = chunk[-1].offset + 1
            lag.raise_end(tp, app.consumer.highwater(tp))
            if svc.pending_count >= settings.batch_max:
                await flush(force=True)
            else:
                await asyncio.sleep(0)  # let timers (publication) and the web server run

    late_detail = f"observed_at older than the series watermark minus {settings.allowed_lateness}"
    flow_acquire = app.flow_control.acquire
    source_name = source.get_topic_name()
    faust_seam.route_topic_batches(source_name, intake)

    @app.agent(source, name="score-events")
    async def score_events(stream: StreamT[Any]) -> None:
        # Subscribes the worker to the source topic, so that faust assigns its partitions and
        # recovers the table that follows them. The records themselves go to intake().
        async for _ in stream:  # pragma: no cover - nothing is delivered here
            pass

    @app.timer(interval=max(0.02, min(0.1, settings.publish_interval / 2)))
    async def tick() -> None:
        await flush()
        await publish_due()

    @app.timer(interval=settings.staleness_interval)
    async def staleness() -> None:
        # Regions restored from the table after a restart are held too, so their freshness moves.
        for key in list(table.keys()):
            scorer.state_for(key.decode())
        await publish(list(scorer.states))

    @app.timer(interval=1.0)
    async def lag_ends() -> None:
        # The log end offsets from the broker, so that the lag is true within a second even while no
        # fetch returns (a partition whose records wait behind a long batch).
        tps = list(held)
        if not tps:
            return
        for tp, end in (await app.consumer.highwaters(*tps)).items():
            lag.raise_end(tp, end)
        for tp in tps:
            if tp not in lag.handled:  # nothing handled yet since the assignment: where it starts
                position = await app.consumer.position(tp)
                if position is not None:
                    lag.handled.setdefault(tp, position)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        held.update(tp for tp in assigned if tp.topic == source_name)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        mine = {tp for tp in revoked if tp.topic == source_name}
        held.difference_update(mine)
        lag.forget(mine)
        if mine:
            await flush(force=True)
            scorer.forget_partitions({tp.partition for tp in mine})

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def on_shutdown(sender: Any, **_: Any) -> None:
        # Persist what was applied, and publish the final scores, before the producer closes.
        await flush(force=True)
        await publish(list(scorer.dirty))
        await app.producer.flush()
        log.info("scoring.stopped", processed=scorer.processed, regions=len(scorer.states))

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Request) -> Response:
        return web.bytes(generate_latest(metrics.registry), content_type=METRICS_CONTENT_TYPE)

    @app.page("/scores/{region}")
    class ScoresView(View):
        async def get(self, request: Request, region: str) -> Response:
            if region not in scorer.regions:
                return self.json({"error": f"unknown region code {region!r}"}, status=404)
            if faust_app.partition_of(region) not in held_source_partitions():
                # Another worker holds the region (what this one has of it is at most a standby
                # copy): faust's router asks the table's owner.
                try:
                    return await app.router.route_req(table.name, region.encode(), self.web, request)
                except SameNode:
                    pass
                except Exception as exc:  # that worker is unreachable, or the assignment is moving
                    error = f"region {region} is held by another worker, which did not answer ({type(exc).__name__})"
                    return self.json({"error": error + "; try again"}, status=503)
            if region not in scorer.states and table.get(region.encode()) is None:
                return self.json({"error": f"no events for {region} yet"}, status=404)
            score = scorer.score(region, datetime.now(UTC))
            body = score.model_dump(mode="json")
            body["weakest"] = [i.model_dump(mode="json") for i in weakest_indicators(score, 5)]
            return self.json(body)

    def held_source_partitions() -> set[int]:
        name = source.get_topic_name()
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == name}

    @app.page("/healthz")
    async def healthz(web: Any, request: Request) -> Response:
        return web.json({"status": "ok", "regions": len(scorer.states), "processed": scorer.processed})

    _ = (score_events, tick, staleness, lag_ends, on_assigned, on_revoked, on_shutdown, metrics_page, ScoresView,
         healthz)  # fmt: skip
    return svc


def run_worker(settings: ScoringSettings, log_format: str = "auto") -> None:
    """Run one worker until SIGTERM/SIGINT (faust's Worker stops the app gracefully)."""
    svc = build(settings)
    # Region states are many small long-lived objects; with the default thresholds the collector
    # walks them all every few thousand allocations (a full collection stalls the loop for tens of ms).
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    faust_app.run(svc.app, settings.log_level, log_format)
