"""Re-score all history under another framework version by replaying the event log.

The replay reads ``indicator-events`` from the beginning to the end offsets seen at start (no consumer
group, so the live workers are not disturbed), applies every record as the live service does
(``Scorer.apply_record``: the same checks), and writes one RegionScore per region to a topic of that
framework version, ``region-scores.<framework id>-<version>`` (compacted), keyed by region code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from schemas.framework import Framework
from schemas.regions import default_registry
from schemas.scores import RegionScore
from schemas.topics import DEFAULT_PARTITIONS
from services.runtime.kafka_io import safe_producer
from services.runtime.settings import Kafka, KafkaConnection, connection
from services.runtime.topics import admin_client
from services.scoring.domain.state import to_micros
from services.scoring.metrics import ScoringMetrics
from services.scoring.scorer import Misrouted, Rejection, Scorer


def output_topic(framework: Framework, base: str = "region-scores") -> str:
    return f"{base}.{re.sub(r'[^A-Za-z0-9._-]', '-', framework.id + '-' + framework.version)}"


@dataclass
class RescoreReport:
    topic: str
    records: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    scores: list[RegionScore] = field(default_factory=list)


def rescore(
    framework: Framework,
    bootstrap: Kafka,
    *,
    source_topic: str = "indicator-events",
    target_base: str = "region-scores",
    lateness: timedelta = timedelta(minutes=5),
    at: datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RescoreReport:
    # No partition ownership: one process reads every partition into one state per region. A record a
    # live worker re-routed is here twice (where it was written, and its copy on the owning partition)
    # with one event id: the second is a duplicate (docs/decisions/0005-partition-ownership.md).
    scorer = Scorer(framework, default_registry(), ScoringMetrics(), lateness_us=to_micros(lateness),
                    publish_interval=0.0, owner=None)  # fmt: skip
    report = RescoreReport(topic=output_topic(framework, target_base))
    kafka = connection(bootstrap)
    replay(kafka, source_topic, scorer, report, progress)
    admin = admin_client(kafka)
    try:
        admin.create_topics([NewTopic(report.topic, DEFAULT_PARTITIONS, 1,
                                      topic_configs={"cleanup.policy": "compact", "retention.ms": "-1"})],
                            raise_errors=False, wait_for_metadata=True)  # fmt: skip
    finally:
        admin.close()
    producer = safe_producer(kafka, linger_ms=20)
    try:
        for region in sorted(scorer.states):
            score = scorer.score(region, at)
            report.scores.append(score)
            producer.send(report.topic, key=region.encode(), value=score.model_dump_json().encode(),
                          headers=[("pantau.framework", framework.key.encode())])  # fmt: skip
        producer.flush()
    finally:
        producer.close()
    return report


def replay(
    kafka: KafkaConnection, topic: str, scorer: Scorer, report: RescoreReport, progress: Callable[[int, int], None]
) -> None:
    """Apply every record of ``topic`` up to the end offsets seen now, counting the outcomes in ``report``.

    Not kafka_io.read_topic: a history can be far larger than memory and than its time limit, and the
    replay reports its progress as it goes.
    """
    consumer = KafkaConsumer(**kafka.kafka_python(), group_id=None, enable_auto_commit=False, max_poll_records=5000)
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            raise ValueError(f"topic {topic!r} does not exist on {kafka.bootstrap_servers}")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        begin = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        total = sum(end[tp] - begin[tp] for tp in tps)
        remaining = {tp for tp in tps if end[tp] > begin[tp]}
        while remaining:
            for tp, recs in consumer.poll(timeout_ms=1000).items():
                for rec in recs:
                    if rec.offset >= end[tp]:
                        continue
                    result = scorer.apply_record(rec.key, rec.value, rec.partition, rec.offset, rec.timestamp / 1000)
                    assert not isinstance(result, Misrouted)  # no owner: no ownership check
                    report.outcomes[result.reason if isinstance(result, Rejection) else result.value] += 1
                    report.records += 1
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            progress(report.records, total)
    finally:
        consumer.close()


def write_jsonl(report: RescoreReport, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for s in report.scores:
            f.write(s.model_dump_json() + "\n")
