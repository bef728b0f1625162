"""The composition root of the alerts worker: settings in, the object graph out (as cosmicpython's bootstrap.py).

Here, and only here, the faust app, its topics and tables, the notifier, the acknowledge signer and
the metrics are made, and the service layer (services/alerts/service/) is built on them. The
entrypoints given (worker.py: agents and timers; web.py: pages) then register themselves on the app.

Four region-keyed, co-partitioned topics are read (faust assigns the same partitions of each to one
worker): ``masterplan-milestones`` -> the ``plans`` table; ``region-scores`` -> the region's alerts
(``alert-state``), transitions to ``maturity-alerts``; ``maturity-alerts`` -> the alerts' records
(``deliveries``) and their notifications (``outbox``); ``alert-acks`` -> acknowledgements forwarded
by another worker. Scores and plans the worker cannot use go to ``alerts.dlq``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import faust
from pydantic import BaseModel

from schemas.framework import Framework, load_framework
from schemas.masterplan import NATIONAL_MASTERPLAN_TARGET
from schemas.topics import DEFAULT_PARTITIONS
from services.alerts.config import AlertsSettings
from services.alerts.domain.delivery import Pacing
from services.alerts.metrics import AlertsMetrics
from services.alerts.notify import AckTokens, Notifier, NotifyMetrics, NotifySettings
from services.alerts.pages import Pages
from services.alerts.service.acknowledgements import Acknowledgements
from services.alerts.service.bad_records import BadRecords
from services.alerts.service.dispatch import Dispatcher
from services.alerts.service.evaluation import Evaluator
from services.alerts.service.gauges import Gauges
from services.alerts.service.open_alerts import OpenAlerts
from services.alerts.service.ports import HeldPartitions, Place, Send
from services.alerts.service.regions import Regions
from services.alerts.store import Tables
from services.runtime import faust_app, faust_seam
from services.runtime.errors import SendDeadLetter
from services.runtime.topics import ensure_changelogs

RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
TOPICS = ("masterplan-milestones", "region-scores", "maturity-alerts", "alert-acks", "alerts.dlq")  # as Topics


@dataclass(frozen=True)
class Topics:
    plans: faust.TopicT  # masterplan-milestones
    scores: faust.TopicT  # region-scores
    alerts: faust.TopicT  # maturity-alerts
    acks: faust.TopicT  # alert-acks
    dlq: faust.TopicT  # alerts.dlq


@dataclass(frozen=True)
class AlertsService:
    """The alerts worker's object graph: what the entrypoints call."""

    settings: AlertsSettings
    notify_settings: NotifySettings
    app: faust.App
    topics: Topics
    tables: Tables
    metrics: AlertsMetrics
    notifier: Notifier
    pages: Pages
    regions: Regions
    evaluator: Evaluator
    alerts: OpenAlerts
    dispatcher: Dispatcher
    acknowledgements: Acknowledgements
    gauges: Gauges
    held_partitions: HeldPartitions


Entrypoint = Callable[[AlertsService], None]


def bootstrap(
    settings: AlertsSettings, notify_settings: NotifySettings, entrypoints: Sequence[Entrypoint] = ()
) -> AlertsService:
    """Build the worker from its settings, and let each entrypoint register its agents, timers or pages."""
    framework = load_framework(settings.framework_file)
    metrics = AlertsMetrics()
    metrics.masterplans_target.set(NATIONAL_MASTERPLAN_TARGET)
    notifier = Notifier.from_settings(notify_settings, NotifyMetrics(metrics.registry),
                                      framework=framework, drop_window=settings.drop_window)  # fmt: skip
    tokens = AckTokens.from_settings(notify_settings)  # the one signer: it writes every link and verifies clicks
    app = faust_app.make_app(
        settings.app_id, kafka=settings.kafka, store=settings.store, data_dir=settings.data_dir,
        web_host=settings.web_host, web_port=settings.web_port, commit_interval=settings.commit_interval,
        session_timeout=settings.session_timeout,
    )  # fmt: skip
    faust_seam.set_fetch_max_wait(0.05)
    ensure_changelogs(settings.kafka, settings.app_id, list(Tables.NAMES), DEFAULT_PARTITIONS)
    topics = Topics(*(app.topic(settings.topic(name), **RAW) for name in TOPICS))
    table_args: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "partitions": DEFAULT_PARTITIONS}
    tables = Tables.over(*(app.Table(name, **table_args) for name in Tables.NAMES))
    svc = _services(settings, notify_settings, app, topics, tables, metrics, notifier, tokens, framework)
    for register in entrypoints:
        register(svc)
    return svc


def _services(
    settings: AlertsSettings, notify_settings: NotifySettings, app: faust.App, topics: Topics, tables: Tables,
    metrics: AlertsMetrics, notifier: Notifier, tokens: AckTokens, framework: Framework,
) -> AlertsService:  # fmt: skip
    """The service layer on its collaborators."""
    held = _held_partitions(app, topics.alerts)
    send_alert, on_alerts = _sender(topics.alerts), _placer(app, topics.alerts)
    bad = BadRecords(settings.error_policy, metrics, _dead_letters(app, topics.dlq))
    regions = Regions(tables.plans, tables.states)
    evaluator = Evaluator(regions, framework, settings.rules(), metrics, bad, send_alert, _placer(app, topics.scores))
    alerts = OpenAlerts(tables.deliveries, notifier, send_alert, on_alerts, escalate_after=settings.escalate_after)
    pacing = Pacing(retries=notify_settings.retries, retry_base=notify_settings.retry_base,
                    retry_max_wait=notify_settings.retry_max_wait,
                    redeliver_after=settings.redeliver_after.total_seconds(),
                    give_up_after=settings.redeliver_for.total_seconds())  # fmt: skip
    dispatcher = Dispatcher(tables.outbox, alerts, regions, notifier, tokens, metrics, bad, pacing=pacing,
                            concurrency=settings.delivery_concurrency, place=on_alerts,
                            held_partitions=held, pages_url=notify_settings.pages_url)  # fmt: skip
    acks = Acknowledgements(alerts, regions, tokens, notifier.wording, bad, send_ack=_sender(topics.acks),
                            held_partitions=held)  # fmt: skip
    return AlertsService(settings, notify_settings, app, topics, tables, metrics, notifier,
                         Pages(notify_settings.ack_ttl), regions, evaluator, alerts, dispatcher, acks,
                         Gauges(regions, metrics), held)  # fmt: skip


def _sender(topic: faust.TopicT) -> Send:
    """A record to ``topic``, keyed by region, as its JSON (in an agent's stream: sent with the event's commit)."""

    async def send(key: str, record: BaseModel) -> None:
        await topic.send(key=key.encode(), value=record.model_dump_json().encode())

    return send


def _dead_letters(app: faust.App, topic: faust.TopicT) -> SendDeadLetter:
    """A record as received, with its headers, to the dead-letter topic; acknowledged by the broker before
    the worker goes on (and so before the offset of the record it stands for is committed)."""
    name = topic.get_topic_name()

    async def send(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        sent = await app.producer.send(name, key, value, None, None, headers)
        await sent

    return send


def _placer(app: faust.App, topic: faust.TopicT) -> Place:
    name = topic.get_topic_name()

    def place(partition: int, key: str) -> AbstractContextManager[None]:
        return faust_app.on_partition(app, name, partition, key.encode())

    return place


def _held_partitions(app: faust.App, topic: faust.TopicT) -> HeldPartitions:
    """The partitions of ``topic`` (and so of every region-keyed topic) this worker holds as active."""
    name = topic.get_topic_name()

    def held() -> set[int]:
        return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == name}

    return held
