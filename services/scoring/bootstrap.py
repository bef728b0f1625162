"""The composition root of the scoring worker: its whole object graph, built from its settings.

Nothing else builds these objects. The entrypoints (worker.py: faust's agent, timers and signals;
web.py: the HTTP pages) take what ``bootstrap`` returns and only call into its service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from schemas.framework import load_framework
from schemas.regions import default_registry
from schemas.topics import DEFAULT_PARTITIONS
from services.runtime import faust_app, faust_seam
from services.runtime.topics import ensure_changelogs
from services.scoring.adapters import FaustRuntime, KafkaOutput, RegionTable
from services.scoring.config import ScoringSettings
from services.scoring.domain.state import to_micros
from services.scoring.metrics import ScoringMetrics
from services.scoring.scorer import Scorer
from services.scoring.service import ScoringService

STATE_TABLE = "region-state"


@dataclass(frozen=True)
class Scoring:
    """A scoring worker, built: the faust app, its source topic, its table, and the service."""

    settings: ScoringSettings
    app: faust.App
    source: Any  # faust's TopicT of indicator-events
    table: RegionTable
    service: ScoringService


def bootstrap(settings: ScoringSettings) -> Scoring:
    """The worker from its settings: faust's app, topics and table, the adapters, the Scorer and the service."""
    faust_seam.set_fetch_max_wait(settings.fetch_max_wait)
    faust_seam.set_group_instance_id(settings.group_instance_id)
    ensure_changelogs(settings.kafka, settings.app_id, [STATE_TABLE], DEFAULT_PARTITIONS)
    framework = load_framework(settings.framework_file)
    metrics = ScoringMetrics()
    app = make_app(settings)
    source = app.topic(settings.topic("indicator-events"), key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")  # fmt: skip
    source_name = source.get_topic_name()
    dlq = app.topic(settings.topic("indicator-events.dlq"), key_serializer="raw", value_serializer="raw")
    table = RegionTable(app, app.Table(STATE_TABLE, key_type=bytes, value_type=bytes, partitions=DEFAULT_PARTITIONS),
                        source_name)  # fmt: skip
    scorer = Scorer(
        framework, default_registry(), metrics,
        lateness_us=to_micros(settings.allowed_lateness), publish_interval=settings.publish_interval, load=table.load,
        limits=settings.time_limits,
    )  # fmt: skip
    output = KafkaOutput(app, source_topic=source_name, dlq_topic=dlq.get_topic_name(),
                         scores_topic=settings.topic("region-scores"), encode=scorer.encode,
                         regions=scorer.regions.regions)  # fmt: skip
    service = ScoringService(settings, scorer, metrics, runtime=FaustRuntime(app, source_name), output=output,
                             store=table, source_topic=source_name)  # fmt: skip
    return Scoring(settings, app, source, table, service)


def make_app(settings: ScoringSettings) -> faust.App:
    return faust_app.make_app(
        settings.app_id, kafka=settings.kafka, store=settings.store, data_dir=settings.data_dir,
        web_host=settings.web_host, web_port=settings.web_port, commit_interval=settings.commit_interval,
        session_timeout=settings.session_timeout,
        # A RegionScore is ~10 KB: with faust's default 16 KB batches every score is a batch of its
        # own, and publication waits a broker round trip per partition for every one or two scores.
        producer_max_batch_size=1_048_576,
        producer_linger=0.005,
        stream_buffer_maxsize=4096,
        broker_max_poll_records=10_000,
        # Records are acknowledged only when their state is persisted (service.persist). On a rebalance
        # or a stop faust must not wait for that: what is not yet acknowledged is simply not committed,
        # is redelivered, and is recognised by the offset kept in the region state.
        stream_wait_empty=False,
    )  # fmt: skip
