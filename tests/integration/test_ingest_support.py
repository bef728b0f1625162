"""Fixtures and helpers of the ingest integration tests (no tests here).

``start_ingest`` runs ``pantau ingest run`` as a subprocess on a free port, against the session's
broker, with topics of its own (INGEST_TOPIC_PREFIX) and a publishers file of its own.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from schemas.framework import load_framework
from schemas.regions import default_registry
from services.ingest.domain.auth import make_scope
from services.ingest.publishers import add_publisher
from tests.integration.helpers import ServiceProcess, create_topics, free_port, http_get, read_all, wait_for


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Ingest:
    proc: ServiceProcess
    url: str
    prefix: str
    bootstrap: str
    keys: dict[str, str] = field(default_factory=dict)

    def topic(self, name: str) -> str:
        return self.prefix + name

    def post(self, path: str, body: object, key: str | None = None, content_type: str = "application/json") -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": content_type}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return request("POST", self.url + path, data, headers)

    def get(self, path: str, key: str | None = None) -> Answer:
        return request("GET", self.url + path, None, {"Authorization": f"Bearer {key}"} if key else {})

    def metrics(self) -> str:
        return http_get(self.url + "/metrics")[1].decode()

    def events(self) -> list[Any]:
        return read_all(self.bootstrap, self.topic("indicator-events"))


def request(method: str, url: str, data: bytes | None, headers: dict[str, str], timeout: float = 30) -> Answer:
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, hdrs, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        status, hdrs, raw = exc.code, dict(exc.headers), exc.read()
    return Answer(status, {k.lower(): v for k, v in hdrs.items()}, json.loads(raw) if raw else None)


StartIngest = Callable[..., Ingest]


def launch_ingest(
    bootstrap: str, workdir: Path, publishers: dict[str, dict[str, list[str]]] | None = None, **env: str
) -> Ingest:
    """Start ``pantau ingest run`` with topics and a publishers file of its own; wait until it answers."""
    prefix = f"i{uuid.uuid4().hex[:8]}-"
    create_topics(bootstrap, prefix)
    pub_file = workdir / f"publishers-{prefix}yaml"
    keys: dict[str, str] = {}
    fw, reg = load_framework(), default_registry()
    for pid, scope in (publishers or {}).items():
        _pub, keys[pid] = add_publisher(pub_file, pid, pid, make_scope(registry=reg, framework=fw, **scope))
    port = free_port()
    base = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INGEST_TOPIC_PREFIX": prefix,
        "INGEST_PORT": str(port),
        "INGEST_PUBLISHERS_FILE": str(pub_file),
        "PANTAU_LOG_FORMAT": "json",
    }
    proc = ServiceProcess(["ingest", "run"], {**base, **env}, workdir / f"ingest-{prefix}log").start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("the ingest service to answer", lambda: http_get(url + "/healthz")[0] == 200, timeout=60)
    except AssertionError:
        proc.stop()
        raise AssertionError(f"ingest did not start; log:\n{proc.tail()}") from None
    return Ingest(proc, url, prefix, bootstrap, keys)


@pytest.fixture
def start_ingest(kafka_bootstrap: str, tmp_path: Path) -> Iterator[StartIngest]:
    """Start an ingest service: ``start(publishers={id: scope kwargs}, bootstrap=..., **INGEST_env)``."""
    started: list[Ingest] = []

    def start(
        publishers: dict[str, dict[str, list[str]]] | None = None, bootstrap: str | None = None, **env: str
    ) -> Ingest:
        ing = launch_ingest(bootstrap or kafka_bootstrap, tmp_path, publishers, **env)
        started.append(ing)
        return ing

    yield start
    for ing in started:
        if ing.proc.alive():
            ing.proc.stop()


def wait_ready(ingest: Ingest, timeout: float = 60) -> None:
    wait_for("ingest /readyz to say ready", lambda: http_get(ingest.url + "/readyz")[0] == 200, timeout=timeout)
