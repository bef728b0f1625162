"""The history query API's entrypoint: uvicorn until SIGTERM/SIGINT (requests in flight finish).

Slow and greedy clients are cut off as at ingest (services/runtime/http_guard.py): deadlines for a
request's head, a cap on its size and on open connections.
"""

from __future__ import annotations

import gc
import signal

import sqlalchemy as sa
import uvicorn

from services.history.api import create_app
from services.history.bootstrap import bootstrap_api
from services.history.config import HistorySettings
from services.history.db import migrate
from services.runtime import logs
from services.runtime.http_guard import guarded_protocol

log = logs.get("pantau.history.api")


def serve_api(settings: HistorySettings, log_format: str = "auto") -> None:
    logs.configure(settings.log_level, log_format)
    query_api = bootstrap_api(settings)
    engine = query_api.engine
    try:  # the schema at this version's head (as the writer does), else answers 503 until it is
        migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("history.api.schema_not_checked", error=str(exc).splitlines()[0][:300],
                    note="the database is not reachable now: requests get 503 until it is")  # fmt: skip
    gc.freeze()  # what start-up made lives for ever: the collector need not walk it on every full collection
    protocol = guarded_protocol(header_timeout=10.0, body_timeout=10.0, max_head_bytes=16_384, max_connections=512,
                                retry_after=5)  # fmt: skip
    config = uvicorn.Config(create_app(query_api.api), host=settings.web_host, port=settings.api_port, log_config=None,
                            access_log=False, server_header=False, timeout_graceful_shutdown=10, http=protocol,
                            timeout_keep_alive=30)  # fmt: skip
    log.info("history.api", url=f"http://{settings.web_host}:{settings.api_port}/docs", database=settings.safe_url,
             keys_required=bool(settings.accepted_keys), rate_limit=settings.api_rate_limit)  # fmt: skip
    # uvicorn handles SIGTERM/SIGINT (graceful shutdown), then raises the signal again for the handler it
    # found: this one, which ignores it (and a second one, e.g. a supervisor's SIGTERM after the terminal's
    # SIGINT), so that a graceful stop ends with status 0 after the pool is closed.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    uvicorn.Server(config).run()
    engine.dispose()
    log.info("history.api.stopped")
