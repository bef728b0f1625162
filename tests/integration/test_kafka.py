"""The real broker: topics from the registry, round trips with both clients, committed offsets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from schemas.events import IndicatorEvent
from schemas.topics import TOPICS, TopicSpec
from services.runtime.topics import admin_client, check_drift, ensure_topics
from tests.builders import an_indicator_event


def _admin(bootstrap: str) -> KafkaAdminClient:
    return admin_client(bootstrap)


def test_topics_are_created_from_the_registry_idempotently(kafka_bootstrap: str, unique: str) -> None:
    prefix = f"t{unique}-"
    admin = _admin(kafka_bootstrap)
    try:
        first = ensure_topics(admin, prefix=prefix)
        assert [r.action for r in first] == ["created"] * len(TOPICS)
        assert all(r.drift == [] for r in first)
        second = ensure_topics(admin, prefix=prefix)
        assert [r.action for r in second] == ["exists"] * len(TOPICS)
        assert all(r.drift == [] for r in second)
        parts = {d["name"]: len(d["partitions"]) for d in admin.describe_topics([prefix + t.name for t in TOPICS])}
        assert set(parts.values()) == {12}
    finally:
        admin.close()


def test_drift_is_reported(kafka_bootstrap: str, unique: str) -> None:
    prefix = f"d{unique}-"
    spec = TopicSpec(name="plans", value_model=None, cleanup_policy="compact", retention_ms=-1, description="x")
    admin = _admin(kafka_bootstrap)
    try:
        admin.create_topics(
            [NewTopic(prefix + "plans", 3, 1, topic_configs={"cleanup.policy": "delete"})],
            wait_for_metadata=True,
        )
        (drift,) = check_drift(admin, (spec,), prefix=prefix)
        assert "partitions: registry 12, cluster 3" in drift
        assert "cleanup.policy: registry compact, cluster delete" in drift
        assert check_drift(admin, (TopicSpec(name="absent", value_model=None, retention_ms=1, description="x"),),
                           prefix=prefix) == [["missing on the cluster"]]  # fmt: skip
    finally:
        admin.close()


def _topic(bootstrap: str, name: str) -> None:
    admin = _admin(bootstrap)
    try:
        admin.create_topics([NewTopic(name, 12, 1)])
    finally:
        admin.close()


def test_event_round_trips_with_kafka_python(kafka_bootstrap: str, unique: str) -> None:
    topic = f"rt-kp-{unique}"
    _topic(kafka_bootstrap, topic)
    ev = an_indicator_event()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    meta = producer.send(topic, key=ev.region_code.encode(), value=ev.model_dump_json().encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=20_000,
        group_id=f"g-{unique}",
    )  # fmt: skip
    consumer.subscribe([topic])
    got = next(iter(consumer))
    consumer.close()
    assert got.partition == meta.partition
    assert got.key == b"32.73"
    assert IndicatorEvent.model_validate_json(got.value) == ev


def test_same_region_always_lands_in_one_partition(kafka_bootstrap: str, unique: str) -> None:
    topic = f"rt-part-{unique}"
    _topic(kafka_bootstrap, topic)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    parts = {
        producer.send(topic, key=b"32.73", value=an_indicator_event().model_dump_json().encode()).get(30).partition
        for _ in range(20)
    }
    producer.close()
    assert len(parts) == 1


def test_event_round_trips_with_aiokafka(kafka_bootstrap: str, unique: str) -> None:
    topic = f"rt-aio-{unique}"
    _topic(kafka_bootstrap, topic)
    ev = an_indicator_event(region_code="35.78", indicator_id="IPM", value=83.8, unit="index 0-100")

    async def go() -> IndicatorEvent:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(topic, ev.model_dump_json().encode(), key=ev.region_code.encode())
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                    group_id=f"g-{unique}")  # fmt: skip
        await consumer.start()
        try:
            msg = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
        return IndicatorEvent.model_validate_json(msg.value)

    assert asyncio.run(go()) == ev


def test_consumer_group_commits_and_resumes(kafka_bootstrap: str, unique: str) -> None:
    topic, group = f"rt-grp-{unique}", f"g-{unique}"
    admin = _admin(kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    for i in range(5):
        producer.send(topic, key=b"32.73", value=str(i).encode())
    producer.flush()
    producer.close()

    def consumer() -> KafkaConsumer:
        c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, auto_offset_reset="earliest",
                          enable_auto_commit=False, consumer_timeout_ms=20_000)  # fmt: skip
        c.subscribe([topic])
        return c

    c1 = consumer()
    first = [next(c1).value for _ in range(3)]
    c1.commit()
    c1.close()
    assert first == [b"0", b"1", b"2"]

    offsets = admin.list_group_offsets(group)[group]
    assert offsets[TopicPartition(topic, 0)].offset == 3
    admin.close()

    c2 = consumer()
    rest = [next(c2).value for _ in range(2)]
    c2.close()
    assert rest == [b"3", b"4"]


def test_kafka_up_is_idempotent_and_status_answers(kafka_bootstrap: str) -> None:
    up = subprocess.run(
        [sys.executable, "-m", "pantau.cli", "kafka", "up"], capture_output=True, text=True, timeout=120
    )
    assert up.returncode == 0, up.stderr
    assert "already running" in up.stdout or "existing cluster" in up.stdout
    t0 = time.monotonic()
    status = subprocess.run([sys.executable, "-m", "pantau.cli", "kafka", "status"], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    assert "answers" in status.stdout
    assert time.monotonic() - t0 < 60


def test_table_state_of_another_cluster_is_removed_before_faust_starts(kafka_bootstrap: str, tmp_path: Path) -> None:
    """RocksDB files built from another cluster's changelogs make faust refuse to start: they go."""
    from services.runtime.faust_app import forget_state_of_another_cluster

    state = tmp_path / "pantau-scoring"
    (state / "v1" / "tables").mkdir(parents=True)
    (state / "v1" / "tables" / "region-state-0.db").write_text("stale")
    (state / "kafka-cluster-id").write_text("another-cluster\n")
    assert forget_state_of_another_cluster(kafka_bootstrap, state)
    assert [p.name for p in state.iterdir()] == ["kafka-cluster-id"]
    cluster = (state / "kafka-cluster-id").read_text().strip()
    assert cluster and cluster != "another-cluster"
    # The same cluster again: its state is kept.
    (state / "v1").mkdir()
    assert not forget_state_of_another_cluster(kafka_bootstrap, state)
    assert (state / "v1").is_dir()
