"""ASGI pieces every Pantau HTTP API shares."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Scope


class RequestMetrics(Protocol):
    requests: Counter  # labels: route template, method, status
    request_duration: Histogram  # label: route template


class MetricsMiddleware:
    """Counts every request by route template, method and status, and times it (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:  # fmt: skip
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.request_duration.labels(path).observe(time.perf_counter() - t0)
