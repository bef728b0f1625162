"""Integration tests run against the real Kafka broker, started once per test session.

With KAFKA_BOOTSTRAP_SERVERS set, that cluster is used. Otherwise the project's local broker is
started (and stopped at the end if this session started it). Nothing here skips: no broker, no pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from pantau.config import PlatformSettings
from pantau.kafka_local import LocalKafka, wait_for_broker


@pytest.fixture(scope="session")
def settings() -> PlatformSettings:
    return PlatformSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: PlatformSettings) -> Iterator[str]:
    if settings.external_kafka:
        wait_for_broker(settings.bootstrap_servers, 60)
        yield settings.bootstrap_servers
        return
    local = LocalKafka.from_settings(settings)
    _pid, started = local.up(timeout=120)
    yield local.bootstrap
    if started:
        local.down()


@pytest.fixture
def unique() -> str:
    """A short unique name part, so that each test has topics and groups of its own."""
    return uuid.uuid4().hex[:10]
