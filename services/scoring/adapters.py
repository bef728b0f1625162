"""The scoring service's ports on faust and aiokafka: the worker's consumer, the producer, the table.

No decisions here (service.py makes them): only how a thing is done on this runtime. Private API
of faust and aiokafka is reached through services/runtime/faust_seam.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import faust
from aiokafka.errors import KafkaError

from schemas.dlq import DETAIL, MAX_DETAIL
from schemas.scores import RegionScore
from services.runtime import faust_app, faust_seam
from services.scoring.service import Sent, Unsendable

#: Header of a record produced again to the partition that owns its key: where it was first written.
REROUTED_FROM = "pantau.rerouted.from"


class FaustRuntime:
    """The worker's consumer (offsets, flow, partitions) and stopping the app."""

    def __init__(self, app: faust.App, source_topic: str) -> None:
        self.app, self.source_topic = app, source_topic
        self.acquire: Callable[[], Awaitable[Any]] = app.flow_control.acquire

    def generation(self) -> int:
        return int(self.app.consumer_generation_id)

    def partition_count(self) -> int | None:
        return self.app.consumer.topic_partitions(self.source_topic)

    def highwater(self, tp: Any) -> int | None:
        return self.app.consumer.highwater(tp)

    async def highwaters(self, tps: list[Any]) -> Mapping[Any, int]:
        return await self.app.consumer.highwaters(*tps)

    async def position(self, tp: Any) -> int | None:
        return await self.app.consumer.position(tp)

    def ack(self, tp: Any, first: int, last: int) -> None:
        faust_seam.ack_offsets(self.app.consumer, tp, first, last)

    async def crash(self, exc: BaseException) -> None:
        await self.app.crash(exc)


class KafkaOutput:
    """Sends through faust's aiokafka producer: dead letters, re-routed records, region scores."""

    def __init__(self, app: faust.App, *, source_topic: str, dlq_topic: str, scores_topic: str,
                 encode: Callable[[RegionScore], bytes], regions: Iterable[str]) -> None:  # fmt: skip
        self.app = app
        self.source_topic, self.dlq_topic, self.scores_topic = source_topic, dlq_topic, scores_topic
        self.encode = encode
        self.regions = list(regions)
        self.score_partitions: dict[str, int] = {}  # region -> its partition of the scores topic

    def producer(self) -> Any:
        return faust_seam.started_producer(self.app)  # aiokafka's, as faust started it

    async def dead_letter(self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Sent:
        sent: Sent
        try:
            sent = await self.producer().send(self.dlq_topic, value=value, key=key, headers=headers)
        except KafkaError as exc:  # the record itself cannot be produced (too large): its headers still go
            sent = await self.producer().send(self.dlq_topic, value=None, key=key, headers=value_left_out(headers, exc))
        return sent

    async def reroute(self, record: Any, partition: int) -> Sent:
        """``record`` again, unchanged (key, value, timestamp, headers), on ``partition`` of its topic."""
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        headers = [*(record.headers or ()), (REROUTED_FROM, where.encode())]
        try:
            sent: Sent = await self.producer().send(self.source_topic, value=record.value, key=record.key,
                                                    headers=headers, partition=partition,
                                                    timestamp_ms=record.timestamp)  # fmt: skip
        except KafkaError as exc:
            raise Unsendable(exc) from exc
        return sent

    async def scores(self, scores: list[RegionScore]) -> None:
        """Publish scores as one producer batch per partition.

        aiokafka's own batches, not a ``send()`` per score: at a few thousand scores a second the
        per-record path (faust's and aiokafka's futures, one accumulator call each) took a fifth of
        the worker. The partition is the one the default partitioner gives the region's key, so
        ``region-scores`` stays co-partitioned with ``indicator-events``.
        """
        if not scores:
            return
        producer, topic, encode = self.producer(), self.scores_topic, self.encode
        partitions = self.score_partitions
        if not partitions:
            count = len(await producer.partitions_for(topic))
            partitions.update({r: faust_app.partition_of(r, count) for r in self.regions})
        batches: dict[int, Any] = {}
        for score in scores:
            region = score.region_code
            key, value = region.encode(), encode(score)
            partition = partitions[region]
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it, start another
                await producer.send_batch(batch, topic, partition=partition)
                batch = batches[partition] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        for partition, batch in batches.items():
            await producer.send_batch(batch, topic, partition=partition)

    async def wait_until_ebb(self) -> None:
        await self.app.producer.buffer.wait_until_ebb()

    async def flush(self) -> None:
        await self.app.producer.flush()


def value_left_out(headers: list[tuple[str, bytes]], exc: BaseException) -> list[tuple[str, bytes]]:
    """The headers of a dead letter whose value could not be sent: its detail says so."""
    out = []
    for name, value in headers:
        if name == DETAIL:
            value = f"{value.decode()} (value left out: {exc!r})"[:MAX_DETAIL].encode()
        out.append((name, value))
    return out


class RegionTable:
    """The region-state table, written on the partition of the records it follows."""

    def __init__(self, app: faust.App, table: Any, source_topic: str) -> None:
        self.app, self.table, self.source_topic = app, table, source_topic
        self.name: str = table.name

    def load(self, region: str) -> bytes | None:
        raw = self.table.get(region.encode())
        return bytes(raw) if raw is not None else None

    def holds(self, region: str) -> bool:
        return self.table.get(region.encode()) is not None

    def regions(self) -> list[str]:
        return [key.decode() for key in list(self.table.keys())]

    def write(self, region: str, partition: int, data: bytes) -> None:
        key = region.encode()
        with faust_app.on_partition(self.app, self.source_topic, partition, key):
            self.table[key] = data
