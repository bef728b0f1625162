"""The composition root of the history writer: its whole object graph, built from its settings.

Nothing else builds these objects; worker.py runs what ``bootstrap`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from services.history.adapters.kafka import KafkaDeadLetters, KafkaTopics
from services.history.adapters.postgres import PostgresStore
from services.history.config import HistorySettings
from services.history.db import create_engine
from services.history.domain import TOPICS, Downsampling
from services.history.metrics import HistoryMetrics
from services.history.service.dead_letters import DeadLetters
from services.history.service.intake import Intake
from services.history.service.writer import HistoryWriter, Pacing
from services.history.web import WebServer

DLQ_TOPIC = "history.dlq"


@dataclass(frozen=True)
class History:
    settings: HistorySettings
    engine: sa.Engine
    writer: HistoryWriter
    web: WebServer
    metrics: HistoryMetrics


def bootstrap(
    settings: HistorySettings,
    *,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> History:
    """The writer from its settings: the engine, the Kafka clients, the service, metrics and web port."""
    engine = create_engine(settings.url(), connect_args={"application_name": "pantau-history"})
    metrics = HistoryMetrics(registry)
    kinds = {settings.topic(name): name for name in TOPICS}
    intake = Intake(kinds, Downsampling(settings.fine_step, settings.fine_retention), settings.error_policy, clock)
    pacing = Pacing(
        poll_timeout=settings.poll_timeout, max_batch=settings.max_batch, prune_interval=settings.prune_interval,
        fine_retention=settings.fine_retention, retry_initial=settings.retry_initial, retry_max=settings.retry_max,
    )  # fmt: skip
    writer = HistoryWriter(
        store=PostgresStore(engine, consumer=settings.group_id),
        consumer=KafkaTopics(settings.kafka, list(kinds), settings.group_id),
        dead_letters=DeadLetters(KafkaDeadLetters(settings.kafka, settings.topic(DLQ_TOPIC)), metrics),
        intake=intake, metrics=metrics, pacing=pacing, clock=clock,
    )  # fmt: skip
    web = WebServer(settings.web_host, settings.web_port, metrics.registry, writer.health)
    return History(settings, engine, writer, web, metrics)
