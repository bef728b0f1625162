"""The alerts worker's faust entrypoints: agents, timers and signals, and ``run_worker``.

Each turns a faust event or tick into one call on the service layer (services/alerts/service/),
which bootstrap.py builds. Delivery follows the log: a record of ``maturity-alerts`` is acknowledged
only after its notifications are in the outbox, a score only once it is judged (decision 0004);
the ``region-scores`` records come a partition's fetch at a time (faust_seam.route_topic_batches).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from faust import Stream
from faust.types import StreamT

from services.alerts import web
from services.alerts.bootstrap import AlertsService, bootstrap
from services.alerts.config import AlertsSettings
from services.alerts.notify import NotifySettings
from services.runtime import faust_app, faust_seam
from services.runtime.errors import ProcessingStopped


def register(svc: AlertsService) -> None:
    """The agents, timers and signals of ``svc.app``."""
    _agents(svc)
    _score_batches(svc)
    _timers(svc)
    _signals(svc)


def _agents(svc: AlertsService) -> None:
    app, topics = svc.app, svc.topics

    @app.agent(topics.plans, name="follow-plans")
    async def follow_plans(stream: StreamT[Any]) -> None:
        manual = cast(Stream[Any], stream).noack()
        async for event in manual.events():
            if not await _acked_unless_stopped(app, manual, event, svc.evaluator.on_plan(event.message)):
                return

    @app.agent(topics.scores, name="evaluate-scores")
    async def evaluate_scores(stream: StreamT[Any]) -> None:
        # Subscribes the worker to region-scores (partitions, table recovery); the records go to
        # the batch path below a partition's fetch at a time.
        async for _ in stream:  # pragma: no cover - nothing is delivered here
            pass

    @app.agent(topics.alerts, name="notify")
    async def notify(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            svc.dispatcher.on_record(event.message)

    @app.agent(topics.acks, name="forwarded-acks")
    async def forwarded_acks(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            await svc.acknowledgements.on_record(event.message)

    _ = (follow_plans, evaluate_scores, notify, forwarded_acks)


async def _acked_unless_stopped(app: Any, stream: StreamT[Any], event: Any, handling: Awaitable[None]) -> bool:
    """Handle ``event``, then acknowledge it, as faust does, unless the handling stopped the worker (the
    crash policy): that record is left unacknowledged and so read again once the worker is back."""
    try:
        await handling
    except ProcessingStopped as exc:
        await app.crash(exc)
        return False
    except BaseException:
        await stream.ack(event)  # faust acknowledges the event of an agent that raises
        raise
    await stream.ack(event)
    return True


def _score_batches(svc: AlertsService) -> None:
    app = svc.app

    async def score_batch(tp: Any, records: list[Any]) -> None:
        """A partition's fetched scores; acknowledged once judged (not after a rebalance on the way)."""
        generation = app.consumer_generation_id
        await app.flow_control.acquire()
        try:
            done = await svc.evaluator.judge_batch(records, lambda: app.consumer_generation_id == generation)
        except ProcessingStopped as exc:
            await app.crash(exc)
            return
        if done:
            faust_seam.ack_offsets(app.consumer, tp, records[0].offset, records[-1].offset)

    faust_seam.route_topic_batches(svc.topics.scores.get_topic_name(), score_batch)


def _timers(svc: AlertsService) -> None:
    app = svc.app
    lagging = {svc.topics.scores.get_topic_name(), svc.topics.alerts.get_topic_name()}

    @app.timer(interval=30.0)
    async def find_pending() -> None:
        """After a restart (or a rebalance), pick up the regions whose state holds a pending alert."""
        svc.evaluator.find_pending()

    @app.timer(interval=max(0.2, min(5.0, svc.settings.pending_for.total_seconds() / 4)))
    async def fire_pending() -> None:
        """Pending alerts fire after AlertRules.pending_for even when no new score arrives."""
        await svc.evaluator.fire_pending()

    @app.timer(interval=0.5)
    async def dispatcher() -> None:
        svc.dispatcher.tick()

    @app.timer(interval=5.0)
    async def escalate() -> None:
        await svc.alerts.escalate()

    @app.timer(interval=300.0)
    async def refresh_alertmanager() -> None:
        await svc.alerts.refresh_alertmanager()

    @app.timer(interval=5.0)
    async def gauges() -> None:
        svc.gauges.refresh()

    @app.timer(interval=1.0)  # the consumer-lag gauge is true within a second
    async def lag() -> None:
        await faust_app.export_lag(app, lagging, svc.metrics.consumer_lag)

    _ = (find_pending, fire_pending, dispatcher, escalate, refresh_alertmanager, gauges, lag)


def _signals(svc: AlertsService) -> None:
    app = svc.app

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        svc.regions.forget()
        svc.dispatcher.forget()

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def on_shutdown(sender: Any, **_: Any) -> None:
        await svc.notifier.aclose()

    _ = (on_revoked, on_shutdown)


def run_worker(settings: AlertsSettings, notify_settings: NotifySettings, log_format: str = "auto") -> None:
    """Run one alerts worker until SIGTERM/SIGINT (faust stops the app gracefully)."""
    svc = bootstrap(settings, notify_settings, entrypoints=(register, web.register))
    faust_app.run(svc.app, settings.log_level, log_format)
