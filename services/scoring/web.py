"""The scoring worker's HTTP pages (faust's web server): /metrics, /healthz and /scores/{region}.

``/scores/{region}`` answers on any worker: a worker that does not hold the region's partition asks
the one that does through faust's router (docs/decisions/0005-partition-ownership.md); what it has
of the region is at most a standby copy, which is never served.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.exceptions import SameNode
from faust.web import Request, Response, View
from prometheus_client import generate_latest

from services.runtime.faust_app import partition_of
from services.scoring.bootstrap import Scoring

# Prometheus text format; aiohttp takes the charset separately, so it is left out here.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"


def attach(scoring: Scoring) -> None:
    """The pages, on the worker's faust app."""
    app, svc, table_name = scoring.app, scoring.service, scoring.table.name

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Request) -> Response:
        return web.bytes(generate_latest(svc.metrics.registry), content_type=METRICS_CONTENT_TYPE)

    @app.page("/scores/{region}")
    class ScoresView(View):
        async def get(self, request: Request, region: str) -> Response:
            if not svc.knows(region):
                return self.json({"error": f"unknown region code {region!r}"}, status=404)
            if partition_of(region) not in held_partitions(app, svc.source_topic):
                # Another worker holds the region: faust's router asks the table's owner.
                try:
                    return await app.router.route_req(table_name, region.encode(), self.web, request)
                except SameNode:
                    pass
                except Exception as exc:  # that worker is unreachable, or the assignment is moving
                    error = f"region {region} is held by another worker, which did not answer ({type(exc).__name__})"
                    return self.json({"error": error + "; try again"}, status=503)
            body = svc.score_now(region)
            if body is None:
                return self.json({"error": f"no events for {region} yet"}, status=404)
            return self.json(body)

    @app.page("/healthz")
    async def healthz(web: Any, request: Request) -> Response:
        return web.json({"status": "ok", **svc.progress()})

    _ = (metrics_page, ScoresView, healthz)


def held_partitions(app: faust.App, topic: str) -> set[int]:
    """The partitions of ``topic`` this worker holds as their active (not standby) owner."""
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}
