"""The composition roots of the history store: the writer's object graph (``bootstrap``) and the query API's
(``bootstrap_api``), built from their settings.

Nothing else builds these objects; worker.py runs what ``bootstrap`` returns, api_server.py what
``bootstrap_api`` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from schemas.framework import load_framework
from schemas.programme import default_programme
from schemas.regions import default_registry
from services.history.adapters.kafka import KafkaDeadLetters, KafkaTopics
from services.history.adapters.postgres import PostgresStore
from services.history.adapters.reads import PostgresReads
from services.history.api import ApiMetrics, HistoryApi
from services.history.config import HistorySettings
from services.history.db import create_engine
from services.history.domain import SCORES, TOPICS, Downsampling
from services.history.metrics import HistoryMetrics
from services.history.service.dead_letters import DeadLetters
from services.history.service.intake import Intake
from services.history.service.queries import HistoryQueries
from services.history.service.writer import HistoryWriter, Pacing
from services.history.web import WebServer

DLQ_TOPIC = "history.dlq"


@dataclass(frozen=True)
class History:
    settings: HistorySettings
    engine: sa.Engine
    store: PostgresStore
    topics: KafkaTopics
    writer: HistoryWriter
    web: WebServer
    metrics: HistoryMetrics


@dataclass(frozen=True)
class QueryApi:
    engine: sa.Engine
    api: HistoryApi


def bootstrap(
    settings: HistorySettings,
    *,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    extra_scores: Sequence[str] = (),
    followed: bool = True,
) -> History:
    """The writer from its settings: the engine, the Kafka clients, the service, metrics and web port.

    ``extra_scores``: more topics of RegionScores to follow (a ``pantau rescore`` output: its framework
    version gets its own history beside the live one); ``followed=False``: only those.
    """
    engine = create_engine(settings.url(), connect_args={"application_name": "pantau-history"})
    metrics = HistoryMetrics(registry)
    kinds = {settings.topic(name): name for name in TOPICS} if followed else {}
    kinds |= dict.fromkeys(extra_scores, SCORES)
    intake = Intake(kinds, Downsampling(settings.fine_step, settings.fine_retention), settings.error_policy, clock)
    pacing = Pacing(
        poll_timeout=settings.poll_timeout, max_batch=settings.max_batch, prune_interval=settings.prune_interval,
        fine_retention=settings.fine_retention, retry_initial=settings.retry_initial, retry_max=settings.retry_max,
    )  # fmt: skip
    store = PostgresStore(engine, consumer=settings.group_id)
    topics = KafkaTopics(settings.kafka, list(kinds), settings.group_id)
    writer = HistoryWriter(
        store=store, consumer=topics,
        dead_letters=DeadLetters(KafkaDeadLetters(settings.kafka, settings.topic(DLQ_TOPIC)), metrics),
        intake=intake, metrics=metrics, pacing=pacing, clock=clock,
    )  # fmt: skip
    web = WebServer(settings.web_host, settings.web_port, metrics.registry, writer.health)
    return History(settings, engine, store, topics, writer, web, metrics)


def bootstrap_api(settings: HistorySettings, *, registry: CollectorRegistry | None = None) -> QueryApi:
    """The query API from its settings: the engine (read-only use), the queries, the key and rate checks."""
    engine = create_engine(settings.url(), connect_args={"application_name": "pantau-history-api"},
                           pool_size=8, max_overflow=8)  # fmt: skip
    framework = load_framework(settings.framework_file)
    queries = HistoryQueries(PostgresReads(engine), default_registry(), framework.key,
                             [lv.level for lv in framework.levels], max_points=settings.api_max_points)  # fmt: skip
    api = HistoryApi(queries, default_registry(), default_programme(), [d.id for d in framework.dimensions],
                     settings.accepted_keys, settings.api_rate_limit, ApiMetrics(registry))  # fmt: skip
    return QueryApi(engine, api)
