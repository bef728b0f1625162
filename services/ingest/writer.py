"""Writing to Kafka with a yes-or-no answer: acknowledged by the broker, or not written and never will be.

aiokafka's producer (``acks=all``, idempotent) runs in the service's event loop, so a request waits
for its acks without a thread per request. Its one catch: an idempotent aiokafka producer never
expires a batch; it retries until the broker is back. A record the service had already answered
503 for would then be written later, behind the client's back, and written again by the client's
retry. So when the broker does not acknowledge in time, the producer is *abandoned*: its queued
batches are failed, its sender task cancelled and its connections reset (so that nothing still
buffered for them goes out later); a new producer (a new producer id) is started once the broker
answers again.

A record that was on the wire when the broker went away may have been appended without its ack
reaching us: it is *in doubt*. ``settle`` finds out which: once the broker answers again, it reads
the topics back from the time of the write and looks for each such record (key and value).

The readiness probe asks the broker for cluster metadata every ``probe_interval`` and checks that the
output topics exist; requests are refused with 503 at once while it fails, before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.ingest.metrics import IngestMetrics
from services.runtime import logs
from services.runtime.settings import Kafka, connection

log = logs.get("pantau.ingest.writer")
#: How far before a failed write the topics are read back (clock skew of LogAppendTime topics).
READ_BACK_MARGIN_MS = 30_000
READ_BACK_TIMEOUT = 60.0


class KafkaUnavailable(Exception):
    """Nothing was written: the broker is unreachable, or did not acknowledge in time."""


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


class KafkaWriter:
    def __init__(
        self,
        kafka: Kafka,
        metrics: IngestMetrics,
        *,
        required_topics: Sequence[str],
        timeout: float = 5.0,
        probe_interval: float = 1.0,
        linger_ms: int = 0,
        client_id: str = "pantau-ingest",
    ) -> None:
        self.kafka = connection(kafka)
        self.bootstrap = self.kafka.bootstrap_servers
        self.metrics = metrics
        self.required_topics = tuple(required_topics)
        self.timeout = timeout
        self.probe_interval = probe_interval
        self.linger_ms = linger_ms
        self.client_id = client_id
        self.ready = False
        self.why_not_ready = "not started"
        self._producer: AIOKafkaProducer | None = None
        self._probe_task: asyncio.Task[None] | None = None
        self._abandoning: set[asyncio.Task[None]] = set()
        self._ready_event = asyncio.Event()
        #: After the broker answers again, how long to wait before reading back records in doubt: a
        #: broker that was paused (not stopped) handles what it had read of the old connections first.
        self.settle_delay = timeout

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start probing (and connecting) in the background; never fails when Kafka is down."""
        self._probe_task = asyncio.create_task(self._probe_loop(), name="kafka-probe")

    async def wait_ready(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready_event.wait(), timeout)
        return self.ready

    async def stop(self) -> None:
        """Stop probing; flush what is pending (bounded by the timeout), else abandon it."""
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
        prod, self._producer = self._producer, None
        self._set_ready(False, "stopped")
        if prod is not None:
            try:
                await asyncio.wait_for(prod.flush(), self.timeout)
                await asyncio.wait_for(prod.stop(), self.timeout)
            except (TimeoutError, Exception):  # on the way out whatever the failure
                await _abandon(prod)
        if self._abandoning:
            await asyncio.gather(*self._abandoning, return_exceptions=True)

    # ------------------------------------------------------------------ writing

    async def write(self, records: Sequence[Record]) -> list[bool]:
        """Send ``records``; which ones the broker acknowledged (all or, after a failure, some).

        Raises KafkaUnavailable, having sent nothing, when the broker is known to be unreachable.
        After a failure the producer is abandoned: what was not acknowledged will not be written.
        """
        prod = self._producer
        if prod is None or not self.ready:
            raise KafkaUnavailable(self.why_not_ready)
        if not records:
            return []
        t0 = time.perf_counter()
        futures: list[asyncio.Future[Any]] = []
        failure: str | None = None
        try:
            async with asyncio.timeout(self.timeout):
                for r in records:
                    futures.append(await prod.send(r.topic, r.value, key=r.key, headers=r.headers))
                await asyncio.wait(futures)
        except TimeoutError:
            failure = f"no acknowledgement within {self.timeout:g} s"
        except Exception as exc:  # any producer error means: not written
            failure = f"{type(exc).__name__}: {exc}"
        acked = [f.done() and not f.cancelled() and f.exception() is None for f in futures]
        acked += [False] * (len(records) - len(acked))
        if failure is None and not all(acked):
            failure = next(
                (repr(f.exception()) for f in futures if f.done() and not f.cancelled() and f.exception() is not None),
                "not acknowledged",
            )
        if failure is None:
            self.metrics.produce_latency.observe(time.perf_counter() - t0)
            return acked
        for f in futures:
            if not f.done():
                f.add_done_callback(_retrieve)
        self._lost(prod, failure)
        return acked

    async def settle(self, records: Sequence[Record], since_ms: int) -> list[bool]:
        """Which of ``records``, whose write failed, are in the log after all; waits until it can tell.

        Waits for the broker to answer again and for the abandoned producer to be gone, then
        ``settle_delay`` more, then reads the records' topics back from ``since_ms`` (less a margin)
        to their end. Cancel it to give up.
        """
        while True:
            await self._ready_event.wait()
            if self._abandoning:
                await asyncio.gather(*self._abandoning, return_exceptions=True)
            await asyncio.sleep(self.settle_delay)
            if not self.ready:
                continue
            try:
                return await asyncio.wait_for(self._read_back(records, since_ms), READ_BACK_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker gone again, or slow: try again once it answers
                log.warning("reading back records in doubt failed; trying again", error=repr(exc))
                await asyncio.sleep(self.probe_interval)

    async def _read_back(self, records: Sequence[Record], since_ms: int) -> list[bool]:
        wanted = {(r.topic, r.key, r.value) for r in records}
        prod = self._producer
        if prod is None:
            raise KafkaUnavailable(self.why_not_ready)
        tps = [
            TopicPartition(t, p)
            for t in sorted({r.topic for r in records})
            for p in sorted(await prod.partitions_for(t))
        ]
        consumer = AIOKafkaConsumer(**self.kafka.aiokafka(), client_id=f"{self.client_id}-read-back",
                                    group_id=None, enable_auto_commit=False)  # fmt: skip
        await consumer.start()
        try:
            consumer.assign(tps)
            starts = await consumer.offsets_for_times({tp: max(0, since_ms - READ_BACK_MARGIN_MS) for tp in tps})
            ends = await consumer.end_offsets(tps)
            for tp in tps:
                start = starts.get(tp)
                consumer.seek(tp, ends[tp] if start is None else start.offset)
            found: set[tuple[str, bytes | None, bytes]] = set()
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                for tp, recs in (await consumer.getmany(timeout_ms=500)).items():
                    for rec in recs:
                        if rec.offset < ends[tp] and (seen := (tp.topic, rec.key, rec.value)) in wanted:
                            found.add(seen)
            return [(r.topic, r.key, r.value) in found for r in records]
        finally:
            await consumer.stop()

    # ------------------------------------------------------------------ probing

    async def _probe_loop(self) -> None:
        while True:
            try:
                await self._probe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the probe must outlive anything the client throws
                log.warning("kafka probe failed", error=repr(exc))
            await asyncio.sleep(self.probe_interval)

    async def _probe(self) -> None:
        if self._producer is None:
            prod = AIOKafkaProducer(
                **self.kafka.aiokafka(), client_id=self.client_id, acks="all", enable_idempotence=True,
                linger_ms=self.linger_ms, max_batch_size=256 * 1024, request_timeout_ms=int(self.timeout * 1000),
            )  # fmt: skip
            try:
                await asyncio.wait_for(prod.start(), self.timeout)
            except Exception as exc:  # unreachable, refused, timed out: all the same here
                self._set_ready(False, f"cannot connect to Kafka at {self.bootstrap}: {type(exc).__name__}")
                await _abandon(prod)
                return
            self._producer = prod
        prod = self._producer
        try:
            cluster = await asyncio.wait_for(prod.client.fetch_all_metadata(), self.timeout)
        except Exception as exc:
            self._lost(prod, f"Kafka at {self.bootstrap} does not answer: {type(exc).__name__}")
            return
        missing = [t for t in self.required_topics if t not in cluster.topics()]
        if missing:
            self._set_ready(False, f"topic(s) missing: {', '.join(missing)} (run 'pantau topics create')")
        else:
            self._set_ready(True, "")

    def _lost(self, prod: AIOKafkaProducer, why: str) -> None:
        self._set_ready(False, why)
        if self._producer is prod:
            self._producer = None
            log.warning("kafka producer abandoned", reason=why)
            task = asyncio.create_task(_abandon(prod))
            self._abandoning.add(task)
            task.add_done_callback(self._abandoning.discard)

    def _set_ready(self, ready: bool, why: str) -> None:
        if ready != self.ready and why != "stopped":
            log.info("kafka ready" if ready else "kafka not ready", reason=why or None)
        self.ready, self.why_not_ready = ready, why
        self.metrics.kafka_up.set(1 if ready else 0)
        if ready:
            self._ready_event.set()
        else:
            self._ready_event.clear()


def _retrieve(f: asyncio.Future[Any]) -> None:
    """Mark a late outcome as seen (its request has been answered already)."""
    if not f.cancelled():
        f.exception()


async def _abandon(prod: AIOKafkaProducer) -> None:
    """Make sure nothing still queued in ``prod`` is ever sent, and release it.

    aiokafka has no public way to drop pending records (``stop()`` waits for them forever while the
    broker is away), so this reaches into it: fail the accumulator's batches (and every later send),
    cancel the sender task, reset the connections. Checked against aiokafka 0.14 by
    tests/integration/test_ingest_kafka_down.py.
    """
    with contextlib.suppress(Exception):
        prod._message_accumulator.fail_all(KafkaUnavailable("producer abandoned"))
    sender = getattr(prod, "_sender", None)
    task = sender.sender_task if sender is not None else None
    if sender is not None and task is not None and not task.done():
        # Its own failure callback would fail the batches again, and trips over the transaction state
        # of a producer that has none; they are failed already.
        task.remove_done_callback(sender._fail_all)
        task.add_done_callback(_retrieve)
        task.cancel()
    _reset_connections(prod)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(prod.client.close(), 5.0)
    if task is not None and not task.done():
        # The cancelled sender waits for its in-flight requests; they cannot reach a closed client.
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        if not task.done():
            task.cancel()
    prod._closed = True  # stops its __del__ from warning about a producer that was dealt with


def _reset_connections(prod: AIOKafkaProducer) -> None:
    """Drop the producer's connections at once, with a TCP reset: what is still buffered for them (in
    asyncio or in the kernel, for a broker that stopped reading) is discarded, never sent later."""
    for conn in list(getattr(prod.client, "_conns", {}).values()):
        writer = getattr(conn, "_writer", None)
        transport = getattr(writer, "transport", None)
        if transport is None:
            continue
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
