"""Small Kafka chores: end offsets, read a topic to its end, and a safe producer (kafka-python, blocking)."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from services.runtime.settings import Kafka, connection


def end_offsets(kafka: Kafka, topics: list[str]) -> dict[tuple[str, int], int]:
    """The current end offset of every partition of ``topics`` (LookupError names a topic that does not exist)."""
    consumer = KafkaConsumer(**connection(kafka).kafka_python(), enable_auto_commit=False, group_id=None)
    try:
        tps = []
        for topic in topics:
            parts = consumer.partitions_for_topic(topic) or set()
            if not parts:
                raise LookupError(f"topic {topic!r} does not exist (run: pantau topics create)")
            tps += [TopicPartition(topic, p) for p in sorted(parts)]
        return {(tp.topic, tp.partition): int(n) for tp, n in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def read_topic(kafka: Kafka, topic: str, timeout: float = 30.0) -> list[Any]:
    """Every record now on ``topic`` (all partitions, from the beginning to the current end offsets)."""
    consumer = KafkaConsumer(**connection(kafka).kafka_python(), enable_auto_commit=False, group_id=None)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            raise LookupError(f"topic {topic!r} does not exist (run: pantau topics create)")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic!r} to its end within {timeout:.0f}s")
            for recs in consumer.poll(timeout_ms=500).values():
                out.extend(recs)
        return out
    finally:
        consumer.close()


def safe_producer(kafka: Kafka, **kwargs: Any) -> KafkaProducer:
    """acks=all and idempotence, as every Pantau producer."""
    return KafkaProducer(**connection(kafka).kafka_python(), acks="all", enable_idempotence=True, **kwargs)
