"""The writer's web port: ``/metrics`` (Prometheus text) and ``/healthz`` (JSON), from a small threaded
HTTP server of the standard library (the writer has no HTTP API; nothing more is needed).

``/healthz`` answers 200 while the process runs, also during a database outage (the writer waits for the
database by itself: a restart would not help), with ``status`` ``ok`` or ``degraded`` and the details.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Health = Callable[[], dict[str, Any]]


class WebServer:
    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: Health) -> None:
        self.host, self.port, self.registry, self.health = host, port, registry, health
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Serve in a daemon thread; the port bound (``port`` 0: one the system chose)."""
        self._server = ThreadingHTTPServer((self.host, self.port), _handler(self.registry, self.health))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="history-web", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(registry: CollectorRegistry, health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._answer(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._answer(200, json.dumps(health()).encode(), "application/json")
            else:
                self._answer(404, b'{"detail": "not found: /metrics, /healthz"}', "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds: not worth a log line each

    return Handler
