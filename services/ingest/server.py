"""Entrypoint: serve the HTTP API (and the raw-topic validator) with uvicorn, or the validator alone."""

from __future__ import annotations

import asyncio
import signal

import uvicorn
from prometheus_client import start_http_server

from services.ingest.bootstrap import build_service
from services.ingest.config import IngestSettings
from services.ingest.web import create_app
from services.runtime import logs
from services.runtime.http_guard import guarded_protocol

log = logs.get("pantau.ingest")


def serve(settings: IngestSettings) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn's handlers): in-flight requests finish, the producer flushes.

    Slow clients are cut off by the head and body deadlines and the connection cap of http_guard.py;
    idle keep-alive connections by uvicorn's own ``timeout_keep_alive``.
    """
    svc = build_service(settings)
    protocol = guarded_protocol(header_timeout=settings.header_timeout, body_timeout=settings.body_timeout,
                                max_head_bytes=settings.max_head_bytes, max_connections=settings.max_connections,
                                retry_after=settings.retry_after)  # fmt: skip
    config = uvicorn.Config(create_app(svc), host=settings.host, port=settings.port, log_config=None,
                            access_log=False, server_header=False, lifespan="on", timeout_graceful_shutdown=10,
                            http=protocol, timeout_keep_alive=settings.keep_alive_timeout)  # fmt: skip
    server = uvicorn.Server(config)
    svc.on_validator_stopped = lambda _exc: setattr(server, "should_exit", True)  # the crash policy: stop serving
    server.run()
    if svc.validator_error is not None:
        raise SystemExit(f"the raw-topic validator stopped: {svc.validator_error}")


def run_validator(settings: IngestSettings) -> None:
    """Run only the raw-topic validator (scale it out with more processes: same consumer group).

    Its metrics are served on the configured host and port at /metrics.
    """
    svc = build_service(settings.model_copy(update={"validator": True}))
    start_http_server(settings.port, addr=settings.host, registry=svc.metrics.registry)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        svc.on_validator_stopped = lambda _exc: stop.set()
        await svc.start()
        log.info("raw-topic validator started", topic=settings.topic("indicator-events.raw"))
        await stop.wait()
        await svc.stop()

    asyncio.run(main())
    if svc.validator_error is not None:
        raise SystemExit(f"the raw-topic validator stopped: {svc.validator_error}")
