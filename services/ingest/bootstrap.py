"""The composition root of ingest: the one place that builds the service's object graph from its settings.

Framework and regions (the rules events are checked against), the producer, the dedupe memory and
the intake of the HTTP doors, the raw-topic validator, the publishers' keys and the rate limiter,
the metrics. Nothing here runs anything: web.py serves the service, server.py runs the processes.
"""

from __future__ import annotations

from schemas.framework import load_framework
from schemas.regions import default_registry
from services.ingest.config import IngestSettings
from services.ingest.consumer import ValidatorLoop
from services.ingest.domain.dedupe import RecentIds
from services.ingest.domain.intake import Rules
from services.ingest.metrics import IngestMetrics
from services.ingest.publishers import PublisherStore
from services.ingest.raw_topic import RawValidator
from services.ingest.service import IngestService
from services.ingest.submissions import Intake
from services.ingest.writer import KafkaWriter
from services.runtime.ratelimit import RateLimiter


def build_service(settings: IngestSettings, metrics: IngestMetrics | None = None) -> IngestService:
    """Every part of the service, wired; ``metrics`` on a registry of the caller's (tests), else a new one."""
    metrics = metrics or IngestMetrics()
    rules = Rules(default_registry(), load_framework(settings.framework_file), settings.time_limits)
    writer = build_writer(settings, metrics)
    dedupe = RecentIds(settings.dedupe_capacity, settings.dedupe_window.total_seconds())
    out_topic, dlq_topic = settings.topic("indicator-events"), settings.topic("indicator-events.dlq")
    intake = Intake(rules, writer, dedupe, metrics, topic=out_topic, dlq_topic=dlq_topic,
                    wait_timeout=settings.produce_timeout)  # fmt: skip
    validator = build_validator(settings, rules, writer, metrics) if settings.validator else None
    return IngestService(settings, metrics, rules, writer, intake, PublisherStore(settings.publishers_file),
                         RateLimiter(settings.rate_limit), validator)  # fmt: skip


def build_writer(settings: IngestSettings, metrics: IngestMetrics) -> KafkaWriter:
    """The producer, which checks at start that the topics it writes exist."""
    topics = (settings.topic("indicator-events"), settings.topic("indicator-events.dlq"))
    return KafkaWriter(settings.kafka, metrics, required_topics=topics, timeout=settings.produce_timeout,
                       probe_interval=settings.probe_interval, linger_ms=settings.linger_ms)  # fmt: skip


def build_validator(
    settings: IngestSettings, rules: Rules, writer: KafkaWriter, metrics: IngestMetrics
) -> ValidatorLoop:
    """The raw-topic validator: indicator-events.raw in, indicator-events and its dead letters out."""
    return ValidatorLoop(
        RawValidator(rules, dlq_topic=settings.topic("indicator-events.dlq")), writer, metrics,
        kafka=settings.kafka, source_topic=settings.topic("indicator-events.raw"),
        output_topic=settings.topic("indicator-events"), group_id=settings.topic_prefix + settings.validator_group,
        max_records=settings.validator_max_records, error_policy=settings.error_policy,
    )  # fmt: skip
