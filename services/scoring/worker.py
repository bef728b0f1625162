"""The scoring worker's faust entrypoints: the batch route, the agent, the timers and the partition
signals. Each only hands over to the service (service.py); ``run_worker`` runs one worker.

The records of ``indicator-events`` do not go through a faust stream: they reach
``ScoringService.intake`` a partition's batch at a time, straight from the fetch
(services/runtime/faust_seam.py; docs/decisions/0003-scoring-throughput.md).
"""

from __future__ import annotations

import gc
from typing import Any

from faust.types import StreamT

from services.runtime import faust_app, faust_seam
from services.scoring import web
from services.scoring.bootstrap import Scoring, bootstrap
from services.scoring.config import ScoringSettings


def attach(scoring: Scoring) -> None:
    """Connect faust's worker to the service."""
    app, svc, settings = scoring.app, scoring.service, scoring.settings
    faust_seam.route_topic_batches(svc.source_topic, svc.intake)

    @app.agent(scoring.source, name="score-events")
    async def score_events(stream: StreamT[Any]) -> None:
        # Subscribes the worker to the source topic, so that faust assigns its partitions and
        # recovers the table that follows them. The records themselves go to svc.intake().
        async for _ in stream:  # pragma: no cover - nothing is delivered here
            pass

    @app.timer(interval=max(0.02, min(0.1, settings.publish_interval / 2)))
    async def tick() -> None:
        await svc.persist()
        await svc.publish_due()

    @app.timer(interval=settings.staleness_interval)
    async def staleness() -> None:
        await svc.refresh_all()

    @app.timer(interval=1.0)
    async def lag_ends() -> None:
        await svc.refresh_lag()

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(sender: Any, assigned: set[Any], **_: Any) -> None:
        svc.assigned(assigned)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        await svc.revoked(revoked)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def on_shutdown(sender: Any, **_: Any) -> None:
        await svc.stop()

    _ = (score_events, tick, staleness, lag_ends, on_assigned, on_revoked, on_shutdown)


def run_worker(settings: ScoringSettings, log_format: str = "auto") -> None:
    """Run one worker until SIGTERM/SIGINT (faust's Worker stops the app gracefully)."""
    scoring = bootstrap(settings)
    attach(scoring)
    web.attach(scoring)
    # Region states are many small long-lived objects; with the default thresholds the collector
    # walks them all every few thousand allocations (a full collection stalls the loop for tens of ms).
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    faust_app.run(scoring.app, settings.log_level, log_format)
