"""Integration tests run against the real Kafka broker, started once per test session.

With KAFKA_BOOTSTRAP_SERVERS set, that cluster is used. Otherwise the project's local broker is
started (and stopped at the end if this session started it). Nothing here skips: no broker, no pass.
The history store's PostgreSQL the same way: PANTAU_DATABASE_URL, else the local cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pantau.config import PlatformSettings
from pantau.kafka_local import LocalKafka, wait_for_broker
from pantau.postgres_local import LocalPostgres, wait_for_database
from services.history.config import HistorySettings
from services.runtime.topics import delete_topics
from tests.integration.helpers import (
    SESSION_TOPIC_MARKS,
    ServiceProcess,
    create_topics,
    free_port,
    http_get,
    wait_for,
)


@pytest.fixture(scope="session")
def settings() -> PlatformSettings:
    return PlatformSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: PlatformSettings) -> Iterator[str]:
    local = None if settings.external_kafka else LocalKafka.from_settings(settings)
    started = False
    if local is None:
        wait_for_broker(settings.bootstrap_servers, 60)
    else:
        _pid, started = local.up(timeout=120)
    bootstrap = settings.bootstrap_servers if local is None else local.bootstrap
    yield bootstrap
    # The tests' own topics: left behind, they pile up over many runs until the local broker runs
    # out of file handles. Only the names this session made are deleted.
    delete_topics(bootstrap, keep=lambda name: not any(m in name for m in SESSION_TOPIC_MARKS))
    if local is not None and started:
        local.down()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The history store's server: PANTAU_DATABASE_URL, else the local cluster (``pantau postgres up``)."""
    history = HistorySettings()
    if history.external_database:
        wait_for_database(history.url(), 60)
        yield history.url()
        return
    local = LocalPostgres.from_settings(history)
    _pid, started = local.up(timeout=120)
    yield local.url()
    if started:
        local.down()


@pytest.fixture
def unique() -> str:
    """A short unique name part, so that each test has topics and groups of its own."""
    mark = uuid.uuid4().hex[:10]
    SESSION_TOPIC_MARKS.add(mark)
    return mark


@pytest.fixture
def start_scoring(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Callable[..., tuple[ServiceProcess, str, int]]]:
    started: list[ServiceProcess] = []
    prefix = f"s{uuid.uuid4().hex[:8]}-"
    app_id = f"scoring-{uuid.uuid4().hex[:8]}"
    create_topics(kafka_bootstrap, prefix)

    def start(port: int | None = None, **env: str) -> tuple[ServiceProcess, str, int]:
        port = port or free_port()
        base = {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "SCORING_TOPIC_PREFIX": prefix,
            "SCORING_APP_ID": app_id,
            "SCORING_WEB_PORT": str(port),
            "SCORING_DATA_DIR": str(tmp_path / "state"),
            "SCORING_PUBLISH_INTERVAL": "0.2",
            "SCORING_PERSIST_INTERVAL": "0.2",
            "SCORING_STALENESS_INTERVAL": "2",
            "PANTAU_LOG_FORMAT": "json",
        }
        svc = ServiceProcess(["scoring", "run"], {**base, **env}, tmp_path / f"scoring-{len(started)}.log").start()
        started.append(svc)
        wait_for("the scoring worker's web endpoint", lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
                 timeout=90)  # fmt: skip
        return svc, prefix, port

    yield start
    for svc in started:
        if svc.alive():
            svc.stop()
