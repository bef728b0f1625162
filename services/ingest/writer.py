"""Writing to Kafka with a yes-or-no answer: acknowledged by the broker, or not written and never will be.

aiokafka's producer (``acks=all``, idempotent) runs in the service's event loop, so a request waits
for its acks without a thread per request. Its one catch: an idempotent aiokafka producer never
expires a batch; it retries until the broker is back. A record the service had already answered
503 for would then be written later, behind the client's back, and written again by the client's
retry. So when the broker does not acknowledge in time, the producer is *abandoned*: its queued
batches are failed, its sender task cancelled and its connections closed; a new producer (a new
producer id) is started once the broker answers again. Only a batch already on the wire when the
broker went away is in doubt; its events may be in the log, and a resubmission is absorbed by the
event_id dedupe downstream.

The readiness probe asks the broker for cluster metadata every ``probe_interval`` and checks that the
output topics exist; requests are refused with 503 at once while it fails, before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from pantau import logs
from services.ingest.metrics import IngestMetrics

log = logs.get("pantau.ingest.writer")


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
        bootstrap: str,
        metrics: IngestMetrics,
        *,
        required_topics: Sequence[str],
        timeout: float = 5.0,
        probe_interval: float = 1.0,
        linger_ms: int = 0,
        client_id: str = "pantau-ingest",
    ) -> None:
        self.bootstrap = bootstrap
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
                bootstrap_servers=self.bootstrap, client_id=self.client_id, acks="all", enable_idempotence=True,
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
    cancel the sender task, close the connections. Checked against aiokafka 0.14 by
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
    with contextlib.suppress(Exception):
        await asyncio.wait_for(prod.client.close(), 5.0)
    if task is not None and not task.done():
        # The cancelled sender waits for its in-flight requests; they cannot reach a closed client.
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        if not task.done():
            task.cancel()
    prod._closed = True  # stops its __del__ from warning about a producer that was dealt with
