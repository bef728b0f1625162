"""The writer's Kafka clients (aiokafka): the followed topics in a consumer group, positioned by the
writer (manual offsets, no auto commit), and the dead-letter producer (acks=all, idempotent).

The clients are made in ``start`` (aiokafka binds them to the running event loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from services.history.service.ports import TP, BrokerUnavailable, DeadLettersUnavailable, Letter, Listener, Received
from services.runtime import logs
from services.runtime.settings import KafkaConnection

log = logs.get("pantau.history")


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, on_assigned: Listener, on_revoked: Listener) -> None:
        self.on_assigned, self.on_revoked = on_assigned, on_revoked

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.on_revoked({(tp.topic, tp.partition) for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.on_assigned({(tp.topic, tp.partition) for tp in assigned})


class KafkaTopics:
    """The followed topics, through one AIOKafkaConsumer in the group ``group_id``."""

    def __init__(self, kafka: KafkaConnection, topics: Sequence[str], group_id: str, **options: Any) -> None:
        self.kafka, self.topics, self.group_id, self.options = kafka, list(topics), group_id, options
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def consumer(self) -> AIOKafkaConsumer:
        assert self._consumer is not None, "start() first"
        return self._consumer

    async def start(self, on_assigned: Listener, on_revoked: Listener) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka.aiokafka(), group_id=self.group_id, client_id="pantau-history", enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", **self.options,
        )  # fmt: skip
        consumer.subscribe(self.topics, listener=_Rebalance(on_assigned, on_revoked))
        self._consumer = consumer  # the first assignment may come while it starts
        try:
            await consumer.start()
        except KafkaError as exc:
            self._consumer = None
            await consumer.stop()
            raise BrokerUnavailable(repr(exc)) from exc

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def getmany(self, timeout: float, max_records: int) -> Mapping[TP, Sequence[Received]]:
        fetched = await self.consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_records)
        return {(tp.topic, tp.partition): records for tp, records in fetched.items() if records}

    async def position(self, tp: TP) -> int:
        """The offset the consumer reads next on ``tp`` (past transaction markers too)."""
        return int(await self.consumer.position(TopicPartition(*tp)))

    def seek(self, tp: TP, offset: int) -> None:
        self.consumer.seek(TopicPartition(*tp), offset)

    async def seek_to_beginning(self, tps: Collection[TP]) -> None:
        await self.consumer.seek_to_beginning(*(TopicPartition(*tp) for tp in tps))

    def pause(self, tps: Collection[TP]) -> None:
        self.consumer.pause(*(TopicPartition(*tp) for tp in tps))

    def resume(self, tps: Collection[TP]) -> None:
        assigned = self.consumer.assignment()
        self.consumer.resume(*(tp for tp in (TopicPartition(*t) for t in tps) if tp in assigned))

    def assignment(self) -> set[TP]:
        return {(tp.topic, tp.partition) for tp in self.consumer.assignment()}

    def highwater(self, tp: TP) -> int | None:
        high = self.consumer.highwater(TopicPartition(*tp))
        return None if high is None else int(high)

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Best effort, for monitoring tools (kafka-consumer-groups): the writer follows the database's offsets."""
        try:
            await self.consumer.commit({TopicPartition(*tp): off for tp, off in offsets.items()})
        except KafkaError as exc:  # a rebalance took a partition, or the coordinator moved
            log.debug("history.kafka_commit_skipped", error=repr(exc))


class KafkaDeadLetters:
    """``history.dlq``: records as received, with the pantau.dlq.* headers."""

    def __init__(self, kafka: KafkaConnection, topic: str, timeout: float = 30.0) -> None:
        self.kafka, self.topic, self.timeout = kafka, topic, timeout
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(**self.kafka.aiokafka(), client_id="pantau-history-dlq", acks="all",
                                    enable_idempotence=True, request_timeout_ms=int(self.timeout * 1000))  # fmt: skip
        try:
            await producer.start()
        except KafkaError as exc:
            await producer.stop()
            raise BrokerUnavailable(repr(exc)) from exc
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def send(self, letters: Sequence[Letter]) -> None:
        assert self._producer is not None, "start() first"
        try:
            sent = [await self._producer.send(self.topic, key=lt.key, value=lt.value, headers=lt.headers)
                    for lt in letters]  # fmt: skip
            await asyncio.wait_for(asyncio.gather(*sent), self.timeout)
        except (KafkaError, TimeoutError) as exc:
            raise DeadLettersUnavailable(repr(exc)) from exc
