"""The scoring handler: records in, outcomes and rejections out (no Kafka)."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from schemas.framework import load_framework
from schemas.regions import default_registry
from services.scoring.domain import Outcome
from services.scoring.handlers import Rejection, Scorer
from services.scoring.metrics import ScoringMetrics
from tests.builders import an_indicator_event

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def scorer() -> Scorer:
    return Scorer(load_framework(), default_registry(), ScoringMetrics(CollectorRegistry()),
                  lateness_us=300_000_000, publish_interval=1.0, clock=lambda: NOW.timestamp())  # fmt: skip


def _raw(**overrides: object) -> bytes:
    return an_indicator_event(**overrides).model_dump_json().encode()


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (b"{not json", "undecodable", "Invalid JSON"),
        (json.dumps({"event_id": str(uuid.uuid4())}).encode(), "schema_invalid", "region_code: Field required"),
        (_raw(region_code="99.99"), "unknown_region", "region_code: '99.99'"),
        (_raw(indicator_id="NOPE"), "unknown_indicator", "indicator_id: 'NOPE'"),
        (_raw(unit="mg/m3"), "unit_mismatch", "unit: 'mg/m3'"),
        (_raw(value=5000.0), "out_of_bounds", "value: 5000.0 is outside ENV_PM25's bounds"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(scorer: Scorer, value: bytes, reason: str, detail: str) -> None:
    result = scorer.handle(b"32.73", value, 0, 1, NOW.timestamp())
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert detail in result.detail
    assert scorer.states == {}


def test_key_must_match_the_region(scorer: Scorer) -> None:
    result = scorer.handle(b"35.78", _raw(region_code="32.73"), 0, 1, NOW.timestamp())
    assert isinstance(result, Rejection) and result.reason == "key_mismatch"


def test_a_scored_record_marks_the_region_dirty_and_unpersisted(scorer: Scorer) -> None:
    assert scorer.handle(b"32.73", _raw(), 3, 10, NOW.timestamp() - 0.5) is Outcome.SCORED
    assert scorer.dirty == {"32.73"}
    assert scorer.due(NOW.timestamp()) == ["32.73"]
    persisted = dict(scorer.take_unpersisted())
    assert set(persisted) == {"32.73"} and scorer.unpersisted == set()
    score = scorer.publish("32.73", NOW)
    assert score is not None and score.events_applied == 1
    assert scorer.metrics.latency._sum.get() == pytest.approx(0.5)  # Kafka timestamp -> publication
    # Nothing changed: no new publication.
    assert scorer.publish("32.73", NOW) is None
    # The same record redelivered (same offset) is a duplicate, and the region is not dirty again.
    assert scorer.handle(b"32.73", _raw(), 3, 10, NOW.timestamp()) is Outcome.DUPLICATE
    assert scorer.dirty == set()
