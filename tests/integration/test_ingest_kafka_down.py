"""Kafka stopped: 503 with Retry-After, and nothing of the refused requests is ever written.

A broker of its own (the shared one is never stopped): started for this test from the same jars on
free ports, stopped with SIGTERM while the service runs, then started again on the same data. The
test then checks that the refused events did not reach the log *after* the broker came back (which is
what an idempotent producer that keeps retrying would do behind the client's back), and that sending
them again writes each exactly once. A closed port would only show that nothing can be written while
nothing can be reached.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from pantau.config import PlatformSettings
from pantau.kafka_local import LocalKafka
from tests.builders import an_event_doc
from tests.integration.helpers import free_port, http_get, metric, wait_for
from tests.integration.test_ingest_support import StartIngest, start_ingest, wait_ready

__all__ = ["start_ingest"]

PRODUCE_TIMEOUT = 2.0
# Long enough that the broker's stop is noticed by a write (the producer path), not by the probe.
PROBE_INTERVAL = 30.0


@pytest.fixture
def own_broker(kafka_bootstrap: str, settings: PlatformSettings, tmp_path: Path) -> Iterator[LocalKafka]:
    shared = LocalKafka.from_settings(settings)
    shared.fetch()  # no-op when the jars are there (the session broker needed them)
    home = tmp_path / "kafka"
    home.mkdir()
    (home / "libs").symlink_to(shared.libs)
    broker = LocalKafka(home=home, port=free_port(), controller_port=free_port())
    broker.up(timeout=120)
    yield broker
    broker.down()


def _doc(region: str) -> dict:
    return an_event_doc(
        event_id=str(uuid.uuid4()), region_code=region, observed_at=datetime.now(UTC).replace(microsecond=0).isoformat()
    )


def _ids(records: list) -> list[str]:
    return [orjson.loads(r.value)["event_id"] for r in records]


def test_broker_stopped_is_503_and_nothing_half_written(start_ingest: StartIngest, own_broker: LocalKafka) -> None:
    ing = start_ingest(
        {"all": {"regions": ["*"], "indicators": ["*"]}},
        bootstrap=own_broker.bootstrap,
        INGEST_PRODUCE_TIMEOUT=str(PRODUCE_TIMEOUT),
        INGEST_PROBE_INTERVAL=str(PROBE_INTERVAL),
        INGEST_RETRY_AFTER="7",
    )
    wait_ready(ing)
    key = ing.keys["all"]
    before = _doc("32.73")
    assert ing.post("/v1/events", before, key).status == 200

    assert own_broker.down()
    # The service still believes Kafka is up: the write itself must fail, within its timeout.
    batch = [_doc(r) for r in ("11.01", "32.73", "35.78", "73.71")]
    t0 = time.monotonic()
    refused = ing.post("/v1/events", batch, key)
    assert refused.status == 503, refused.body
    assert time.monotonic() - t0 < PRODUCE_TIMEOUT + 3
    assert refused.headers["retry-after"] == "7" and refused.body["error"]["code"] == "kafka_unavailable"
    assert [r["status"] for r in refused.body["results"]] == ["unavailable"] * 4 and refused.body["accepted"] == 0
    # Now it knows: refused at once, nothing even sent.
    t0 = time.monotonic()
    single = _doc("31.71")
    assert ing.post("/v1/events", single, key).status == 503
    assert time.monotonic() - t0 < 1.0
    ready = http_get(ing.url + "/readyz")
    assert ready[0] == 503 and orjson.loads(ready[1])["kafka"] is False
    assert metric(ing.metrics(), "pantau_ingest_kafka_up") == 0

    own_broker.up(timeout=120)
    wait_ready(ing, timeout=PROBE_INTERVAL + 60)
    time.sleep(PRODUCE_TIMEOUT + 3)  # time for anything still queued somewhere to land, if it could
    assert _ids(ing.events()) == [before["event_id"]]

    # The client sends the refused requests again: each event is written exactly once.
    again = ing.post("/v1/events", batch, key)
    assert again.status == 200 and again.body["accepted"] == 4
    assert ing.post("/v1/events", single, key).status == 200
    expected = sorted([before["event_id"], single["event_id"], *(d["event_id"] for d in batch)])
    got = wait_for("6 events", lambda: (ids := sorted(_ids(ing.events()))) == expected and ids, timeout=30)
    assert got == expected
