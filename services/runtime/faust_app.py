"""What the faust services share: the app's settings, the worker with Pantau's logs, table writes
on a chosen partition, and consumer lag as a gauge."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import faust
from aiokafka.partitioner import murmur2
from prometheus_client import Gauge

from schemas.topics import DEFAULT_PARTITIONS
from services.runtime import logs
from services.runtime.faust_seam import on_partition
from services.runtime.settings import KafkaConnection

__all__ = ["Worker", "export_lag", "forget_state_of_another_cluster", "make_app", "on_partition", "partition_of",
           "run"]  # fmt: skip

log = logs.get("pantau.faust")


def make_app(
    app_id: str,
    *,
    kafka: KafkaConnection,
    store: str,
    data_dir: Path,
    web_host: str,
    web_port: int,
    commit_interval: float,
    session_timeout: float,
    **extra: Any,
) -> faust.App:
    """A faust App on the Pantau defaults: acks=all, earliest offsets, loopback web, 12 partitions."""
    (data_dir / app_id).mkdir(parents=True, exist_ok=True)
    forget_state_of_another_cluster(kafka, data_dir / app_id)
    return faust.App(
        app_id,
        **kafka.faust(),
        store="memory://" if store == "memory" else "rocksdb://",
        datadir=str(data_dir / app_id),
        web_host=web_host,
        web_port=web_port,
        web_bind=web_host,
        topic_partitions=DEFAULT_PARTITIONS,
        topic_allow_declare=True,
        broker_commit_interval=commit_interval,
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=session_timeout / 4,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        table_cleanup_interval=3600.0,
        web_enabled=True,
        **extra,
    )


def partition_of(key: str, partitions: int = DEFAULT_PARTITIONS) -> int:
    """The partition Kafka's default partitioner (murmur2, as aiokafka and kafka-python use it) gives
    ``key``: where a region's records are on every topic keyed by region."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def forget_state_of_another_cluster(kafka: KafkaConnection | str, state_dir: Path) -> bool:
    """Remove table state on disk that another Kafka cluster's changelogs built; True if removed.

    The RocksDB files cache one cluster's changelog topics. Against another cluster (a freshly
    formatted local broker, another KAFKA_BOOTSTRAP_SERVERS) they are stale, and faust refuses to
    start ("persisted offset ... is higher than the last offset in that topic"). The changelogs are
    the truth, so the files go and faust rebuilds the state from them. The cluster id is kept next to
    the state; state without one (older versions) is treated as another cluster's.
    """
    from services.runtime.topics import admin_client

    admin = admin_client(kafka)
    try:
        cluster = str(admin.describe_cluster()["cluster_id"])
    finally:
        admin.close()
    marker = state_dir / "kafka-cluster-id"
    known = marker.read_text().strip() if marker.exists() else None
    stale = [p for p in state_dir.iterdir() if p != marker] if known != cluster else []
    for path in stale:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    if stale:
        log.warning("state.other_cluster_removed", state_dir=str(state_dir), was=known, cluster=cluster,
                    removed=len(stale))  # fmt: skip
    marker.write_text(cluster + "\n")
    return bool(stale)


async def export_lag(app: faust.App, topics: set[str], gauge: Gauge) -> None:
    """High watermark minus position of each assigned partition of ``topics``, into ``gauge``.

    Only the partitions assigned now have a series: one that moved to another worker disappears
    here (a stale value would be summed with the new owner's).
    """
    consumer = app.consumer
    lag: dict[tuple[str, str], int] = {}
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        pos = await consumer.position(tp)
        hw = consumer.highwater(tp)
        if pos is not None and hw is not None:
            lag[(tp.topic, str(tp.partition))] = max(0, hw - pos)
    gauge.clear()
    for labels, value in lag.items():
        gauge.labels(*labels).set(value)


class Worker(faust.Worker):
    """faust's Worker with Pantau's structured logging instead of its own format."""

    log_format = "auto"

    def on_setup_root_logger(self, logger: Any, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        logs.configure(logging.getLevelName(level), self.log_format)


def run(app: faust.App, log_level: str, log_format: str) -> None:
    """Run ``app`` until SIGTERM/SIGINT (faust's Worker stops it gracefully)."""
    Worker.log_format = log_format
    Worker(app, loglevel=log_level.lower(), quiet=True).execute_from_commandline()
