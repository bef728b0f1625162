"""A measured speed-up of faust-streaming 0.15.3's consumer (docs/decisions/0003-scoring-throughput.md).

faust turns every fetched record into a Message, an Event, a channel item and a stream step, and
awaits ``wait_first(callback(message), suspend_flow.wait())`` for each: about 100 us a record
before any work, which caps one worker near 5,000 records/s here. The scoring service instead
takes the records of its source topic a partition's batch at a time, straight from the fetch.

Those records never reach a faust stream, so faust's stream monitor (the livelock check of
``AIOKafkaConsumerThread.verify_event_path``, every 2.5 commit intervals) would see their partitions
fetched but never processed and log "Stream has not started processing" at error for each, over and
over. A handled batch marks its partition as processed, as a stream's event does
(``Monitor.stream_inbound_time``): the check then holds our batch path to the same rule, and still
reports a batch callback that stops for ``stream_processing_timeout``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Any

import faust
from faust.streams import _current_event as current_event_var
from faust.transport import consumer as faust_consumer
from faust.types import Message
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

#: The faust-streaming release these patches were measured and are tested on (tests/unit/test_faust_seam.py).
FAUST_VERSION = "0.15.3"

if faust.__version__ != FAUST_VERSION:  # the patches reach into private attributes of exactly this release
    raise ImportError(
        f"services.runtime.faust_seam is tested on faust-streaming {FAUST_VERSION}, not {faust.__version__}: "
        "install the "
        "locked versions (uv sync --frozen), or check the patched attributes (tests/unit/test_faust_seam.py) "
        "and update FAUST_VERSION"
    )

# Changes applied to every aiokafka consumer faust makes for its worker, by name (_on_worker_consumer).
_consumer_changes: dict[str, Callable[[Any], None]] = {}
# Topics whose fetched records go, a partition's batch at a time, to a callback of ours.
_batch_routes: dict[str, Any] = {}
_original_wait_next_records = faust_consumer.Consumer._wait_next_records


async def _wait_next_records(self: Any, timeout: float) -> Any:
    records, active = await _original_wait_next_records(self, timeout)
    if not records or not _batch_routes:
        return records, active
    rest = {}
    for tp, batch in records.items():
        callback = _batch_routes.get(tp.topic)
        if callback is None:
            rest[tp] = batch
            continue
        if not batch:
            continue
        # No check against ``active`` here: it is faust's live set, and a partition paused after the
        # fetch (standby recovery does that) is missing from it although aiokafka already moved past
        # its records; dropping them lost them for good. The fetch asked only for active partitions,
        # and a rebalance meanwhile is the callback's to detect (it compares generations).
        last_read = self._read_offset[tp]
        if last_read is not None and batch[0].offset < last_read:
            # Already delivered. faust's read offset is the next offset after a seek and the last
            # delivered one otherwise, so (like faust) keep last_read itself: the scorer's offset
            # check makes a second delivery harmless.
            batch = [r for r in batch if r.offset >= last_read]
            if not batch:
                continue
        first = batch[0].offset
        if last_read is not None and first > last_read + 1 and self.app.topics.acks_enabled_for(tp.topic):
            await self._add_gap(tp, last_read + 1, first)  # offsets with no record (compaction, markers)
        generation = self.app.consumer_generation_id
        await callback(tp, batch)
        if self.app.consumer_generation_id == generation:
            # After a rebalance faust has sought the partition back to its committed offset (and set
            # the read offset to match); what the callback did not acknowledge is fetched again.
            self._read_offset[tp] = batch[-1].offset
            mark_processed(self.app, tp)
    return rest, active


def mark_processed(app: Any, tp: Any) -> None:
    """Tell faust's stream monitor that ``tp`` was processed now (what ``Monitor.on_stream_event_in`` records)."""
    app.monitor.stream_inbound_time[tp] = monotonic()


def route_topic_batches(topic: str, callback: Any) -> None:
    """Deliver ``topic``'s fetched records to ``await callback(tp, records)``, one partition's batch a call.

    ``records`` are aiokafka ConsumerRecords, oldest first (timestamps in ms). No faust Message,
    Event, channel or stream is made for them, so the per-record cost is the callback's own. The
    callback acknowledges offsets with :func:`ack_offsets` once their effect is durable; faust
    commits acknowledged offsets as usual. Each handled batch counts as processing for faust's stream
    monitor. An agent must still subscribe to the topic, so that faust assigns its partitions and
    recovers the tables that follow them.
    """
    _batch_routes[topic] = callback
    faust_consumer.Consumer._wait_next_records = _wait_next_records  # type: ignore[method-assign]


def ack_offsets(consumer: Any, tp: Any, first: int, last: int) -> None:
    """Acknowledge offsets first..last of ``tp`` at once (what ``Message.ack`` does for one record).

    Offsets in the range that carry no record are harmless: faust commits the end of the run of
    acknowledged offsets that starts at the committed offset.
    """
    with ack_lock:  # as Consumer.ack: the test-and-set of the index and the bookkeeping are one step
        committed = consumer._committed_offset[tp]
        start = first if committed is None else max(first, committed)
        if start > last:
            return
        index = consumer._acked_index[tp]
        fresh = [o for o in range(start, last + 1) if o not in index]
        index.update(fresh)
        consumer._acked[tp].extend(fresh)
        consumer._n_acked += len(fresh)
        notify(consumer._waiting_for_ack)  # wakes wait_empty (a rebalance, a shutdown) as Consumer.ack does


def set_fetch_max_wait(seconds: float) -> None:
    """How long the broker may hold a fetch that has too little data (faust hard-codes 1.5 s).

    faust's fetch requests also name partitions that have nothing new (the table's changelog, or a
    partition whose last batch is still being applied), so a fetch can sit for the whole wait while
    records queue up elsewhere: with 1.5 s the worker took records in bursts every 1.5 s.
    """

    def change(consumer: Any) -> None:
        consumer._fetch_max_wait_ms = int(seconds * 1000)  # read when the consumer starts its fetcher

    _on_worker_consumer("fetch_max_wait", change)


def set_group_instance_id(instance_id: str | None) -> None:
    """Join the consumer group as a static member (KIP-345) named ``instance_id`` (None: dynamic).

    A dynamic member that is killed stays in the group until its session times out, and a new
    process waits for that before it gets the partitions back: a restart after SIGKILL took 11-14 s.
    A static member that comes back under the same name takes its place and its partitions at once,
    with no rebalance. It also sends no LeaveGroup when it stops, so the partitions of a worker that
    is stopped for good move to the others only after the session timeout. faust has no setting for
    it; aiokafka reads the name when the consumer starts.
    """

    def change(consumer: Any) -> None:
        consumer._group_instance_id = instance_id  # read by AIOKafkaConsumer.start() for its GroupCoordinator

    _on_worker_consumer("group_instance_id", change)


def _on_worker_consumer(name: str, change: Callable[[Any], None]) -> None:
    """Apply ``change`` to each aiokafka consumer faust makes for its worker, before it starts.

    Idempotent: the factory is wrapped once, and a second change of the same ``name`` replaces the first.
    """
    from faust.transport.drivers import aiokafka as faust_aiokafka

    _consumer_changes[name] = change
    cls = faust_aiokafka.AIOKafkaConsumerThread
    if getattr(cls._create_worker_consumer, "_pantau_wrapped", False):
        return
    original = cls._create_worker_consumer

    def create(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        for apply in _consumer_changes.values():
            apply(consumer)
        return consumer

    create._pantau_wrapped = True  # type: ignore[attr-defined]
    cls._create_worker_consumer = create  # type: ignore[method-assign]


@contextmanager
def on_partition(app: faust.App, topic: str, partition: int, key: bytes) -> Iterator[None]:
    """Table writes inside go to ``partition`` (faust writes to the current event's partition).

    For writes outside an agent's stream: a batch path, a timer. The partition must be the one of
    the records the table follows, so that the changelog stays co-partitioned with them.
    """
    message = Message(topic, partition, -1, 0.0, 0, None, key, b"", None)
    event = app.create_event(key, b"", None, message)  # held here: the context variable keeps a weak reference
    token = current_event_var.set(weakref.ref(event))
    try:
        yield
    finally:
        current_event_var.reset(token)


def started_producer(app: faust.App) -> Any:
    """The aiokafka producer faust started for ``app`` (for batches of sends faust's own API has no call for)."""
    return app.producer._ensure_producer()  # type: ignore[attr-defined]
