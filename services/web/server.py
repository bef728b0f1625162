"""The web pages' entrypoint: uvicorn until SIGTERM/SIGINT (pages in flight finish).

Slow and greedy clients are cut off as at the APIs (services/runtime/http_guard.py).
"""

from __future__ import annotations

import gc
import logging
import signal

import uvicorn

from services.runtime import logs
from services.runtime.http_guard import guarded_protocol
from services.web.app import Site, create_app
from services.web.config import WebSettings
from services.web.upstream import Upstream

log = logs.get("pantau.web")


def build_site(settings: WebSettings) -> Site:
    """What the pages need: the clients of the services behind them, the reference data, the map."""
    site = Site(settings=settings, upstream=Upstream(settings))
    site.warm()
    return site


def serve(settings: WebSettings, log_format: str = "auto") -> None:
    logs.configure(settings.log_level, log_format)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request to the services behind: not news
    site = build_site(settings)
    gc.freeze()  # the map, the registry and the framework live for ever
    protocol = guarded_protocol(header_timeout=10.0, body_timeout=10.0, max_head_bytes=16_384, max_connections=512,
                                retry_after=5)  # fmt: skip
    config = uvicorn.Config(create_app(site), host=settings.web_host, port=settings.web_port, log_config=None,
                            access_log=False, server_header=False, timeout_graceful_shutdown=10, http=protocol,
                            timeout_keep_alive=30)  # fmt: skip
    log.info("web.start", url=f"http://{settings.web_host}:{settings.web_port}/", history=settings.history_url,
             scoring=settings.scoring_url, alerts=settings.alerts_url, restricted=bool(settings.viewers))  # fmt: skip
    # As the history API (services/history/api_server.py): uvicorn handles the signal, then raises it again
    # for the handler it found; ignoring it ends a graceful stop with status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    uvicorn.Server(config).run()
    log.info("web.stopped")
